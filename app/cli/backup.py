"""Operator commands: back up the whole installation, restore it into an empty one."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.common import fail, refuse, say
from app.extensions import db
from credits import backup as backups
from credits.errors import DomainError
from credits.i18n import N_


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(out: Path) -> None:
    """Write the database, the instance's keys and checkpoint logs and the uploads to FILE."""
    try:
        result = backups.backup(
            db.engine,
            instance_dir=Path(current_app.instance_path),
            upload_dir=Path(current_app.config["UPLOAD_DIR"]),
            out=out,
        )
    except (DomainError, subprocess.CalledProcessError, OSError) as exc:
        _fail(exc)
    say(
        N_("Backup written to %(path)s: %(villages)s villages, %(files)s files, %(kb)s KB."),
        path=str(result.path),
        villages=result.villages,
        files=result.files,
        kb=result.bytes // 1024,
    )


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(archive: Path) -> None:
    """Restore a backup into this installation, whose database must hold no data."""
    db.session.remove()
    try:
        manifest = backups.restore(
            db.engine,
            archive,
            instance_dir=Path(current_app.instance_path),
            upload_dir=Path(current_app.config["UPLOAD_DIR"]),
        )
    except (DomainError, subprocess.CalledProcessError, OSError) as exc:
        _fail(exc)
    say(
        N_("Restored the backup of %(date)s: %(villages)s villages. Run verify-ledger next."),
        date=str(manifest.get("created_at", "")),
        villages=len(manifest.get("chain_heads", {})),
    )


def _fail(exc: Exception) -> NoReturn:
    if isinstance(exc, DomainError):
        fail(exc)
    if isinstance(exc, subprocess.CalledProcessError):
        detail = (exc.stderr or b"").decode(errors="replace").strip()
        refuse(N_("The database tool failed: %(detail)s"), detail=detail)
    refuse(N_("The file could not be read or written: %(detail)s"), detail=str(exc))


COMMANDS = (backup_command, restore_command)
