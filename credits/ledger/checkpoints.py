"""Signed checkpoints of each village's chain head, in a log kept outside the database.

After every transaction that appended entries, the village's new head (sequence, full
hash, the hashes of the entries the transaction appended, time) is signed with an
Ed25519 key that is not in the database and appended as one JSON line to
`<directory>/<village code>.jsonl`. Someone who rewrites the database cannot make
its history agree with lines signed earlier, nor with copies others keep of them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import secrets
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

KEY_ENV = "LEDGER_SIGNING_KEY"
FORMAT = 1
PENDING = "ledger_checkpoints"  # key in session.info: heads appended in this transaction
SAFE_CODE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


@dataclass(frozen=True)
class Anchor:
    """Where one installation writes its checkpoints, and the key it signs them with."""

    directory: Path
    key: Ed25519PrivateKey

    @property
    def public_key(self) -> str:
        return public_key_hex(self.key)


_default: Anchor | None = None
_by_bind: weakref.WeakKeyDictionary[Any, Anchor] = weakref.WeakKeyDictionary()


def configure(
    directory: str | Path | None, key: Ed25519PrivateKey | None, *, bind: Any = None
) -> Anchor | None:
    """Set (or with None, clear) the checkpoint log and key, for one engine or by default.

    Without any configuration (plain domain code, unit tests) no checkpoint is written
    and `verify` checks the chain on its own.
    """
    global _default
    anchor = Anchor(Path(directory), key) if directory is not None and key is not None else None
    if bind is None:
        _default = anchor
    elif anchor is None:
        _by_bind.pop(bind, None)
    else:
        _by_bind[bind] = anchor
    return anchor


def anchor_for(session: Session) -> Anchor | None:
    """Return the checkpoint configuration that applies to a session's database."""
    try:
        bind = session.get_bind()
    except Exception:  # no bind outside an app context: fall back to the default
        bind = None
    found = _by_bind.get(bind) if bind is not None else None
    return found or _default


# ---- the key ------------------------------------------------------------------------


def public_key_hex(key: Ed25519PrivateKey) -> str:
    """Return the raw public key of a signing key as hex (what pages publish)."""
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def key_from_hex(value: str) -> Ed25519PrivateKey:
    """Read a private key written as 64 hex digits (the file's and the env var's form)."""
    raw = bytes.fromhex(value.strip())
    if len(raw) != 32:
        raise ValueError("an Ed25519 signing key is 32 bytes (64 hex digits)")
    return Ed25519PrivateKey.from_private_bytes(raw)


def load_key(path: str | Path, env_value: str | None = None) -> Ed25519PrivateKey:
    """Return the signing key: from the env value if given, else the file (made on first run).

    The file is written privately (0600) and linked into place, so workers starting
    together end up with the one key that won.
    """
    if env_value:
        return key_from_hex(env_value)
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_bytes(32).hex() + "\n")
            with contextlib.suppress(FileExistsError):  # another worker was first
                os.link(tmp, path)
        finally:
            tmp.unlink()
    return key_from_hex(path.read_text())


# ---- writing ------------------------------------------------------------------------


def note_append(session: Session, village_id: int, code: str, seq: int, digest: str) -> None:
    """Remember a new head of a village; it is signed once the transaction commits.

    (A rolled-back SAVEPOINT would not forget its heads; nothing posts inside one today.)
    """
    anchor = anchor_for(session)
    if anchor is None:
        return
    pending = session.info.setdefault(PENDING, {})
    head = pending.setdefault(
        village_id, {"anchor": anchor, "code": code, "first": seq, "hashes": []}
    )
    head["hashes"].append(digest)
    head["seq"], head["hash"] = seq, digest


@event.listens_for(Session, "after_commit")
def _sign_committed_heads(session: Session) -> None:
    for head in session.info.pop(PENDING, {}).values():
        try:
            write_checkpoint(
                head["anchor"],
                head["code"],
                head["seq"],
                head["hash"],
                head["first"],
                head["hashes"],
            )
        except OSError:
            # The entries are committed; the next checkpoint covers the head again.
            log.exception("could not write the checkpoint of %s seq %s", head["code"], head["seq"])


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted_heads(session: Session, transaction: SessionTransaction) -> None:
    # Runs after after_commit; what is still pending here was rolled back.
    if transaction.parent is None:
        session.info.pop(PENDING, None)


def signed_body(checkpoint: dict[str, Any]) -> bytes:
    """Return the canonical bytes a checkpoint's signature covers (all but `sig`)."""
    body = {k: v for k, v in checkpoint.items() if k != "sig"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def sign(key: Ed25519PrivateKey, checkpoint: dict[str, Any]) -> dict[str, Any]:
    """Return the checkpoint with its public key and signature filled in."""
    body = {k: v for k, v in checkpoint.items() if k != "sig"}
    body["key"] = public_key_hex(key)
    body["sig"] = key.sign(signed_body(body)).hex()
    return body


def signature_ok(checkpoint: dict[str, Any], public_key: str | None = None) -> bool:
    """Tell whether a checkpoint was signed by the key it names (or by `public_key`)."""
    try:
        key = Ed25519PublicKey.from_public_bytes(
            bytes.fromhex(str(public_key or checkpoint["key"]))
        )
        key.verify(bytes.fromhex(str(checkpoint["sig"])), signed_body(checkpoint))
    except (InvalidSignature, KeyError, ValueError, TypeError):
        return False
    hashes = checkpoint.get("hashes")
    return (
        isinstance(hashes, list)
        and bool(hashes)
        and hashes[-1] == checkpoint.get("hash")
        and checkpoint.get("seq") == checkpoint.get("first", 0) + len(hashes) - 1
    )


def log_path(directory: str | Path, code: str) -> Path:
    """Return the file of a village's checkpoints."""
    if not SAFE_CODE.match(code):
        raise ValueError(f"village code {code!r} cannot name a file")
    return Path(directory) / f"{code}.jsonl"


def make_checkpoint(
    key: Ed25519PrivateKey,
    code: str,
    seq: int,
    digest: str,
    first: int,
    hashes: list[str],
    at: datetime | None = None,
) -> dict[str, Any]:
    """Build a signed checkpoint of a village's head."""
    moment = (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return sign(
        key,
        {
            "v": FORMAT,
            "village": code,
            "seq": seq,
            "hash": digest,
            "first": first,
            "hashes": list(hashes),
            "at": moment.isoformat().replace("+00:00", "Z"),
        },
    )


def append_line(path: Path, checkpoint: dict[str, Any]) -> None:
    """Append one checkpoint to a log under an exclusive lock, and fsync it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(checkpoint, ensure_ascii=False, separators=(",", ":")) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def write_checkpoint(
    anchor: Anchor, code: str, seq: int, digest: str, first: int, hashes: list[str]
) -> dict[str, Any]:
    """Sign a village's head and append it to the village's log."""
    checkpoint = make_checkpoint(anchor.key, code, seq, digest, first, hashes)
    append_line(log_path(anchor.directory, code), checkpoint)
    return checkpoint


# ---- reading ------------------------------------------------------------------------


@dataclass
class LogLine:
    """One line of a checkpoint log: its number, and the checkpoint or None if unreadable."""

    number: int
    checkpoint: dict[str, Any] | None


def read_log(directory: str | Path, code: str) -> list[LogLine]:
    """Read a village's checkpoint log; a missing log is empty."""
    path = log_path(directory, code)
    if not path.exists():
        return []
    lines = []
    with path.open(encoding="utf-8", errors="replace") as src:
        for number, raw in enumerate(src, start=1):
            if not raw.strip():
                continue
            try:
                checkpoint = json.loads(raw)
            except ValueError:
                checkpoint = None
            if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("seq"), int):
                checkpoint = None
            lines.append(LogLine(number, checkpoint))
    return lines


def published(anchor: Anchor, code: str, after: int = 0, limit: int = 200) -> list[dict[str, Any]]:
    """Return a village's readable checkpoints with seq > after, in sequence order."""
    found = [
        line.checkpoint
        for line in read_log(anchor.directory, code)
        if line.checkpoint is not None and line.checkpoint["seq"] > after
    ]
    found.sort(key=lambda c: c["seq"])
    return found[:limit]
