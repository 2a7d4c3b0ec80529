"""Uploaded roster files kept between the preview and the confirmed import (one day at most)."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy.orm import Session

from credits.models import User, Village
from credits.roster_import.apply import import_roster
from credits.roster_import.plan import Preview
from credits.roster_import.preview import preview
from credits.roster_import.read import MAX_FILE_BYTES

IMPORT_DIR = "roster-imports"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
UPLOAD_MAX_AGE = 24 * 3600


@dataclass(frozen=True)
class StoredUpload:
    """A previewed file waiting for its import: its token, bytes and name as uploaded."""

    token: str
    path: Path
    filename: str

    def read(self) -> bytes:
        return self.path.read_bytes()

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        self.path.with_suffix(".json").unlink(missing_ok=True)


def _folder(root: Path, village: Village) -> Path:
    path = Path(root) / IMPORT_DIR / str(village.id)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sweep(folder: Path) -> None:
    """Forget uploads nobody confirmed within a day."""
    cutoff = time.time() - UPLOAD_MAX_AGE
    for old in folder.glob("*"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)


def upload_name(name: str | None) -> str:
    """The uploaded file's own name, without any folder, at most 100 characters."""
    return Path(name or "").name[:100]


def preview_upload(
    session: Session,
    village: Village,
    actor: User,
    root: Path,
    stream: IO[bytes],
    filename: str | None,
) -> tuple[Preview, StoredUpload]:
    """Preview an uploaded file and keep it (for this user) until the import is confirmed.

    Nothing is kept when the file cannot be read at all (the DomainError goes to the caller).
    """
    data = stream.read(MAX_FILE_BYTES + 1)
    name = upload_name(filename)
    plan = preview(session, village, data, filename=name, actor=actor)
    folder = _folder(root, village)
    _sweep(folder)
    token = secrets.token_urlsafe(24)
    path = folder / f"{token}.bin"
    path.write_bytes(data)
    path.with_suffix(".json").write_text(
        json.dumps({"filename": name, "user_id": actor.id}), encoding="utf-8"
    )
    return plan, StoredUpload(token, path, name)


def stored_upload(root: Path, village: Village, actor: User, token: str) -> StoredUpload | None:
    """The kept file of a token, if it belongs to this village and this user."""
    if not TOKEN_RE.match(token or ""):
        return None
    folder = _folder(root, village)
    data, meta = folder / f"{token}.bin", folder / f"{token}.json"
    if not data.is_file() or not meta.is_file():
        return None
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if info.get("user_id") != actor.id:
        return None
    return StoredUpload(token, data, str(info.get("filename", "")))


def import_upload(
    session: Session, actor: User, village: Village, upload: StoredUpload, ip: str | None
) -> Preview:
    """Import a kept file (all rows or nothing) and forget it once imported."""
    plan = import_roster(session, actor, village, upload.read(), filename=upload.filename, ip=ip)
    upload.discard()
    return plan


def preview_stored(session: Session, village: Village, upload: StoredUpload) -> Preview:
    """The preview of a kept file again (after a refused import)."""
    return preview(session, village, upload.read(), filename=upload.filename)
