"""A witness: keeps a copy of another installation's signed checkpoints and spots forks.

`witness(url, store)` pulls a village's published checkpoints over HTTP, checks each
signature against the public key pinned on the first pull, and compares the history
with the copy it kept: a sequence number with another hash, or one the installation
no longer publishes, is a fork — someone rewrote that village's ledger.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from credits.errors import DomainError
from credits.i18n import N_, gettext
from credits.ledger.checkpoints import signature_ok

MAX_PAGES = 10_000
MAX_BYTES = 20 * 1024 * 1024

KEY_CHANGED = N_(
    "FORK: the installation now signs with another key (%(key)s) than the one pinned on "
    "the first pull (%(pinned)s)"
)
BAD_SIGNATURE = N_("FORK: the published checkpoint of seq %(seq)s has no valid signature")
CONFLICT = N_("FORK: the published checkpoints give seq %(seq)s two different hashes")
DIFFERENT = N_(
    "FORK: seq %(seq)s now has hash %(new)s, but the copy kept since %(since)s says %(old)s"
)
MISSING = N_(
    "FORK: seq %(seq)s (kept since %(since)s) is no longer published: the history was cut "
    "back to seq %(last)s"
)


class WitnessError(DomainError):
    code = "witness_unreachable"
    status = 502
    message = N_("Could not read the checkpoints at %(url)s: %(error)s")


@dataclass
class Finding:
    msgid: str
    params: dict[str, Any]

    def text(self, locale: str = "zh_CN") -> str:
        return gettext(self.msgid, locale, **self.params)


@dataclass
class WitnessResult:
    url: str
    village: str
    public_key: str
    published: int  # checkpoints the installation publishes
    new: int  # sequence numbers not seen before
    last_seq: int
    store: Path
    findings: list[Finding] = field(default_factory=list)

    @property
    def fork(self) -> bool:
        return bool(self.findings)


def _page_url(url: str, after: int) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "after"]
    query.append(("after", str(after)))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def fetch(url: str, timeout: float = 10.0) -> tuple[str, str, list[dict[str, Any]]]:
    """Pull every published checkpoint: (village code, public key, checkpoints)."""
    village, key, found, after = "", "", [], 0
    for _page in range(MAX_PAGES):
        request = urllib.request.Request(
            _page_url(url, after), headers={"Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                data = json.loads(response.read(MAX_BYTES))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise WitnessError(url=url, error=str(exc)) from exc
        if not isinstance(data, dict) or not isinstance(data.get("checkpoints"), list):
            raise WitnessError(url=url, error="not a checkpoint list")
        village, key = str(data.get("village", "")), str(data.get("public_key", ""))
        page = [c for c in data["checkpoints"] if isinstance(c, dict)]
        found.extend(page)
        nxt = data.get("next_after")
        if not page or not isinstance(nxt, int) or nxt <= after:
            break
        after = nxt
    return village, key, found


def _store_file(store: Path, url: str) -> Path:
    slug = re.sub(r"[^0-9A-Za-z]+", "_", url).strip("_")[:120]
    return store / f"{slug}-{hashlib.sha256(url.encode()).hexdigest()[:8]}.json"


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=1, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)


def _seq_hashes(
    checkpoints: list[dict[str, Any]], findings: list[Finding] | None
) -> dict[int, str]:
    seqs: dict[int, str] = {}
    for cp in checkpoints:
        for offset, digest in enumerate(cp.get("hashes") or []):
            seq = int(cp.get("first", 0)) + offset
            if seqs.setdefault(seq, digest) != digest and findings is not None:
                findings.append(Finding(CONFLICT, {"seq": seq}))
    return seqs


def witness(url: str, store: str | Path, timeout: float = 10.0) -> WitnessResult:
    """Pull an installation's checkpoints, compare them with the copy kept, store them."""
    store = Path(store)
    village, key, published = fetch(url, timeout)
    path = _store_file(store, url)
    kept: dict[str, Any] = {}
    if path.exists():
        kept = json.loads(path.read_text(encoding="utf-8"))
    pinned = kept.get("public_key") or key
    since = kept.get("first_pulled", "")
    findings: list[Finding] = []
    if key != pinned:
        findings.append(Finding(KEY_CHANGED, {"key": key[:16], "pinned": pinned[:16]}))
    for cp in published:
        if not signature_ok(cp, pinned):
            findings.append(Finding(BAD_SIGNATURE, {"seq": cp.get("seq")}))
            break
    new_seqs = _seq_hashes(published, findings)
    old_seqs = {int(k): v for k, v in (kept.get("seqs") or {}).items()}
    last = max(new_seqs, default=0)
    for seq in sorted(old_seqs):
        if seq not in new_seqs:
            findings.append(Finding(MISSING, {"seq": seq, "since": since, "last": last}))
            break
        if new_seqs[seq] != old_seqs[seq]:
            old, new = old_seqs[seq][:16].upper(), new_seqs[seq][:16].upper()
            findings.append(
                Finding(DIFFERENT, {"seq": seq, "since": since, "old": old, "new": new})
            )
            break
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    result = WitnessResult(
        url,
        village,
        key,
        len(published),
        len(set(new_seqs) - set(old_seqs)),
        last,
        path,
        findings,
    )
    if findings:
        # Keep the pinned copy as evidence, and what was published now beside it.
        evidence = path.with_name(path.stem + f".fork-{now.replace(':', '')}.json")
        _write_json(evidence, {"url": url, "pulled": now, "checkpoints": published})
        result.store = evidence
        return result
    old_seqs.update(new_seqs)
    _write_json(
        path,
        {
            "url": url,
            "village": village,
            "public_key": pinned,
            "first_pulled": since or now,
            "last_pulled": now,
            "seqs": {str(k): v for k, v in sorted(old_seqs.items())},
            "checkpoints": published,
        },
    )
    return result
