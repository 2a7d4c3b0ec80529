"""Backups of a whole installation, and restoring one into an empty installation.

A backup is one .tar.gz archive:

    manifest.json           what is inside, when, from which schema, every village's chain head
    database/merit.sqlite   SQLite: a consistent copy through the online backup API, or
    database/merit.pgdump   PostgreSQL: `pg_dump --format=custom`
    instance/...            the instance folder's keys (secret key, ledger signing key) and
                            checkpoint logs: without them a restored ledger cannot be checked
    uploads/...             evidence photos and shop pictures

Restoring refuses a database that already holds tables with rows, writes the files back,
and checks the restored chain heads against the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from credits.db import utcnow
from credits.errors import DomainError, ValidationError
from credits.i18n import N_
from credits.models import ChainHead, Village

FORMAT = 1
DB_FILES = (".db", ".db-wal", ".db-shm", ".db-journal", ".sqlite")


class RestoreRefused(DomainError):
    code = "restore_refused"
    status = 409
    message = N_("Nothing was restored: the archive or the target does not fit.")


NOT_EMPTY = N_("Nothing was restored: the database already holds data.")
DAMAGED = N_("Nothing was restored: %(name)s in the archive is damaged or missing.")
NOT_AN_ARCHIVE = N_("Nothing was restored: this file is not a Merit Bank backup.")
OTHER_KIND = N_("Nothing was restored: the backup is of %(kind)s, this installation runs %(here)s.")
FILE_EXISTS = N_("Nothing more was restored: %(path)s already exists with other content.")
HEADS_DIFFER = N_("The restored chain heads differ from the backup's manifest.")


@dataclass
class BackupResult:
    path: Path
    villages: int
    files: int
    bytes: int


def _heads(engine: Engine) -> dict[str, dict[str, Any]]:
    """Return every village's chain head: code -> {seq, hash}."""
    with Session(engine) as session:
        rows = session.execute(
            select(Village.code, ChainHead.seq, ChainHead.hash).join(
                ChainHead, ChainHead.village_id == Village.id
            )
        ).all()
    return {code: {"seq": seq, "hash": digest} for code, seq, digest in rows}


def _revision(engine: Engine) -> str:
    with engine.connect() as conn:
        try:
            return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or "")
        except Exception:  # a database made without migrations (tests) has no such table
            return ""


def _libpq_url(engine: Engine) -> str:
    """Return the engine's URL in the form pg_dump and pg_restore understand."""
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _pg_env(engine: Engine) -> dict[str, str]:
    env = dict(os.environ)
    if engine.url.password:
        env["PGPASSWORD"] = str(engine.url.password)
    return env


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(utcnow().timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _files_below(folder: Path, skip: Path | None) -> list[Path]:
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.endswith(DB_FILES):
            continue
        if skip is not None and (path == skip or skip in path.parents):
            continue
        found.append(path)
    return found


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise ValidationError(N_("Only a SQLite database in a file can be backed up."))
    return Path(database)


def _dump_database(engine: Engine, workdir: Path) -> Path:
    """Write a consistent copy of the database into `workdir`; return the file."""
    if engine.dialect.name == "sqlite":
        target = workdir / "merit.sqlite"
        source = sqlite3.connect(_sqlite_path(engine))
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # consistent even while the app keeps writing
        finally:
            copy.close()
            source.close()
        return target
    target = workdir / "merit.pgdump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), _libpq_url(engine)],
        check=True,
        env=_pg_env(engine),
        capture_output=True,
    )
    return target


def backup(engine: Engine, *, instance_dir: Path, upload_dir: Path, out: Path) -> BackupResult:
    """Write the whole installation into one archive at `out`."""
    out = Path(out)
    instance_dir, upload_dir = Path(instance_dir), Path(upload_dir)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(),
        "database": engine.dialect.name,
        "schema_revision": _revision(engine),
        "chain_heads": _heads(engine),
        "files": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        dump = _dump_database(engine, Path(tmp))
        members: list[tuple[str, Path]] = [(f"database/{dump.name}", dump)]
        members += [
            (f"instance/{p.relative_to(instance_dir).as_posix()}", p)
            for p in _files_below(instance_dir, skip=upload_dir)
        ]
        members += [
            (f"uploads/{p.relative_to(upload_dir).as_posix()}", p)
            for p in _files_below(upload_dir, None)
        ]
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            for name, path in members:
                data = path.read_bytes()
                manifest["files"][name] = hashlib.sha256(data).hexdigest()
                _add_bytes(tar, name, data)
            body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True)
            _add_bytes(tar, "manifest.json", body.encode())
        partial.replace(out)  # a crash mid-way leaves no half archive under the real name
    return BackupResult(out, len(manifest["chain_heads"]), len(members), out.stat().st_size)


def _read_archive(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    try:
        with tarfile.open(path, "r:gz") as tar:
            contents: dict[str, bytes] = {}
            for member in tar.getmembers():
                name = member.name
                if not member.isfile() or name.startswith("/") or ".." in name.split("/"):
                    raise RestoreRefused(NOT_AN_ARCHIVE)
                handle = tar.extractfile(member)
                contents[name] = handle.read() if handle else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise RestoreRefused(NOT_AN_ARCHIVE) from exc
    try:
        manifest = json.loads(contents.pop("manifest.json"))
    except (KeyError, ValueError) as exc:
        raise RestoreRefused(NOT_AN_ARCHIVE) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RestoreRefused(NOT_AN_ARCHIVE)
    for name, digest in manifest.get("files", {}).items():
        if hashlib.sha256(contents.get(name, b"")).hexdigest() != digest:
            raise RestoreRefused(DAMAGED, name=name)
    return manifest, contents


def _has_data(engine: Engine) -> bool:
    names = inspect(engine).get_table_names()
    with engine.connect() as conn:
        for name in names:
            if name == "alembic_version":
                continue
            if conn.execute(text(f'SELECT 1 FROM "{name}" LIMIT 1')).first() is not None:
                return True
    return False


def _restore_database(engine: Engine, manifest: dict[str, Any], contents: dict[str, bytes]) -> None:
    kind = manifest.get("database")
    if kind != engine.dialect.name:
        raise RestoreRefused(OTHER_KIND, kind=str(kind), here=engine.dialect.name)
    if kind == "sqlite":
        target = _sqlite_path(engine)
        engine.dispose()
        if target.exists() and target.stat().st_size and _has_data(engine):
            raise RestoreRefused(NOT_EMPTY)
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(contents["database/merit.sqlite"])
        return
    if _has_data(engine):
        raise RestoreRefused(NOT_EMPTY)
    # Empty tables (a database that ran init-db) are replaced by the backup's own.
    with tempfile.NamedTemporaryFile(suffix=".pgdump") as dump:
        dump.write(contents["database/merit.pgdump"])
        dump.flush()
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "--dbname",
                _libpq_url(engine),
                dump.name,
            ],
            check=True,
            env=_pg_env(engine),
            capture_output=True,
        )
    engine.dispose()


def _write_files(contents: dict[str, bytes], prefix: str, folder: Path) -> int:
    written = 0
    for name, data in contents.items():
        if not name.startswith(prefix):
            continue
        target = folder / name[len(prefix) :]
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and target.read_bytes() != data:
            raise RestoreRefused(FILE_EXISTS, path=str(target))
        target.write_bytes(data)
        os.chmod(target, 0o600)
        written += 1
    return written


def restore(
    engine: Engine, archive: Path, *, instance_dir: Path, upload_dir: Path
) -> dict[str, Any]:
    """Restore an archive into this (empty) installation; return its manifest.

    Refuses, changing nothing, when the archive is damaged, of the other database kind,
    or when the database already holds data.
    """
    manifest, contents = _read_archive(Path(archive))
    _restore_database(engine, manifest, contents)
    _write_files(contents, "instance/", Path(instance_dir))
    _write_files(contents, "uploads/", Path(upload_dir))
    heads = _heads(engine)
    if heads != manifest.get("chain_heads"):
        raise RestoreRefused(HEADS_DIFFER)
    return manifest
