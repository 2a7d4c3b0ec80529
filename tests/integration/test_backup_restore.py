"""Backup and restore round-trip an installation: the same ledger, verified, keys and files."""

from __future__ import annotations

import io
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PG_URL, new_claim
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import create_app
from app.extensions import db
from credits import backup as backups
from credits import ledger
from credits.db import make_engine
from credits.models import Balance, LedgerEntry
from credits.workflow import post_due


def _ledger(engine) -> list[tuple]:
    with engine.connect() as conn:
        entries = conn.execute(
            select(
                LedgerEntry.village_id, LedgerEntry.seq, LedgerEntry.points, LedgerEntry.hash
            ).order_by(LedgerEntry.village_id, LedgerEntry.seq)
        ).all()
        balances = conn.execute(
            select(Balance.account_id, Balance.score, Balance.balance).order_by(Balance.account_id)
        ).all()
    return [tuple(r) for r in entries] + [tuple(r) for r in balances]


@pytest.fixture
def empty_target(db_url, tmp_path) -> Iterator[str]:
    """An empty database of the same kind as the source."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    assert PG_URL
    name = f"restore_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _world_with_history(session, world):
    for household in range(3):
        new_claim(session, world, household=household, approve_by="reviewer")
    post_due(session)


def test_a_backup_restores_into_an_empty_installation_with_an_identical_ledger(
    session, world, engine, empty_target, tmp_path
):
    _world_with_history(session, world)
    session.close()
    source_instance, source_uploads = tmp_path / "instance", tmp_path / "instance" / "uploads"
    (source_uploads / "2026").mkdir(parents=True)
    (source_uploads / "2026" / "photo.jpg").write_bytes(b"\xff\xd8photo")
    (source_instance / "secret_key").write_text("k" * 64)
    archive = tmp_path / "backup.tar.gz"
    result = backups.backup(
        engine, instance_dir=source_instance, upload_dir=source_uploads, out=archive
    )
    assert result.villages == 1 and result.files == 3
    with tarfile.open(archive) as tar:
        names = sorted(tar.getnames())
    assert "manifest.json" in names and "uploads/2026/photo.jpg" in names
    assert "instance/secret_key" in names
    assert not any(n.startswith("instance/uploads") for n in names)

    target = make_engine(empty_target)
    if empty_target.startswith("sqlite"):
        target.dispose()
    instance, uploads = tmp_path / "restored-instance", tmp_path / "restored-uploads"
    backups.restore(target, archive, instance_dir=instance, upload_dir=uploads)
    assert _ledger(target) == _ledger(engine) and len(_ledger(target)) > 3
    with Session(target) as check:
        assert ledger.verify(check).ok
    assert (uploads / "2026" / "photo.jpg").read_bytes() == b"\xff\xd8photo"
    assert (instance / "secret_key").read_text() == "k" * 64

    # A second restore into the now full installation is refused and changes nothing.
    with pytest.raises(backups.RestoreRefused) as refused:
        backups.restore(target, archive, instance_dir=instance, upload_dir=uploads)
    assert "已有数据" in refused.value.translated()
    assert _ledger(target) == _ledger(engine)
    target.dispose()


def test_a_damaged_or_foreign_archive_is_refused(engine, tmp_path, empty_target):
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not a tar file")
    target = make_engine(empty_target)
    with pytest.raises(backups.RestoreRefused):
        backups.restore(target, bogus, instance_dir=tmp_path / "i", upload_dir=tmp_path / "u")
    archive = tmp_path / "good.tar.gz"
    backups.backup(
        engine, instance_dir=tmp_path / "none", upload_dir=tmp_path / "none", out=archive
    )
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as out:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name.startswith("database/"):
                data = data[:-10] + b"0123456789"
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    with pytest.raises(backups.RestoreRefused) as refused:
        backups.restore(target, damaged, instance_dir=tmp_path / "i", upload_dir=tmp_path / "u")
    assert "损坏" in refused.value.translated()
    target.dispose()


def test_the_demo_round_trips_through_the_commands(tmp_path):
    """backup on one installation, restore on a fresh one, verify-ledger passes there."""

    def installation(name):
        folder = tmp_path / name
        folder.mkdir()
        return create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "s",
                "INSTANCE_PATH": str(folder),
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'merit.db'}",
                "UPLOAD_DIR": str(folder / "uploads"),
            }
        )

    first, second = installation("office"), installation("county")
    runner = first.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["load-demo"]).exit_code == 0
    archive = tmp_path / "demo.tar.gz"
    made = runner.invoke(args=["backup", "--out", str(archive)])
    assert made.exit_code == 0, made.output
    assert "备份" in made.output
    restored = second.test_cli_runner().invoke(args=["restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    checked = second.test_cli_runner().invoke(args=["verify-ledger"])
    assert checked.exit_code == 0, checked.output
    with first.app_context():
        before = _ledger(db.engine)
        db.engine.dispose()
    with second.app_context():
        assert _ledger(db.engine) == before and len(before) > 300
        assert list(Path(second.config["UPLOAD_DIR"]).rglob("*.jpg"))
        db.engine.dispose()
    again = second.test_cli_runner().invoke(args=["restore", str(archive)])
    assert again.exit_code == 2 and "已有数据" in again.output
