"""An insider with database access rewrites the ledger; verify, checkpoints, the printed
head code and a witness catch every kind of it (DESIGN.md §4, promise 9)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import NOW, correct_entry, new_claim
from sqlalchemy import select, text
from werkzeug.serving import make_server

from app.extensions import db
from credits.ledger import checkpoints, entry_hash, head_code, refs_of, verify
from credits.ledger.chain import HASHED_FIELDS
from credits.models import LedgerEntry
from credits.models.ledger_triggers import drop_triggers
from credits.workflow import post_due

pytestmark = pytest.mark.tampers  # every test here damages the ledger on purpose


@dataclass
class Posted:
    """Ids in a small posted ledger of village VA (and VB beside it)."""

    entries: list[int]  # VA's entries in chain order
    middle: int  # a plain award in the middle of VA's chain
    last: int  # VA's last entry, a plain award nobody reverses
    head: str  # the head code printed on paper after the postings


@pytest.fixture
def posted(app, web_world, web_other_world) -> Posted:
    with app.app_context():
        s = db.session
        for h in (0, 1, 2, 0):
            new_claim(s, web_world, household=h, rule="JY01", approve_by="reviewer")
        new_claim(s, web_world, household=1, rule="KF03", note="乱堆柴草", approve_by="reviewer")
        new_claim(s, web_other_world, household=0, rule="JY01", approve_by="reviewer")
        post_due(s, now=NOW + timedelta(days=8))
        first = s.scalar(select(LedgerEntry).order_by(LedgerEntry.seq))
        correct_entry(s, web_world, first.id, "记错户", now=NOW)
        for h in (2, 1):
            new_claim(s, web_world, household=h, rule="JY01", approve_by="reviewer")
            post_due(s, now=NOW + timedelta(days=9))
        entries = s.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.village_id == web_world.village.id)
            .order_by(LedgerEntry.seq)
        ).all()
        assert entries[2].kind == "award" and entries[2].claim_id
        assert verify(s).ok
        code = head_code(s, web_world.village.id)
        return Posted([e.id for e in entries], entries[2].id, entries[-1].id, code)


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def names(output: str, entry_id: int) -> bool:
    return f"账目 {entry_id}（" in output


# ---- the attacker's tools: the project's own hash code, raw SQL, no triggers ------------


@contextmanager
def attacker(app) -> Iterator:
    with app.app_context():
        s = db.session
        drop_triggers(s.connection())
        yield s
        s.commit()


def rechain(s, code: str) -> None:
    """Recompute every hash and link of a village as append_entry does; move the head."""
    village_id = s.scalar(text("SELECT id FROM village WHERE code = :c"), {"c": code})
    prev = "0" * 64
    ids = s.scalars(
        select(LedgerEntry.id).where(LedgerEntry.village_id == village_id).order_by(LedgerEntry.seq)
    ).all()
    seq = 0
    for entry_id in ids:
        s.expire_all()
        entry = s.get(LedgerEntry, entry_id)
        values = {name: getattr(entry, name) for name in HASHED_FIELDS}
        values["prev_hash"] = prev
        digest = entry_hash(values, refs_of(s, values))
        s.execute(
            text("UPDATE ledger_entry SET prev_hash = :p, hash = :h WHERE id = :i"),
            {"p": prev, "h": digest, "i": entry_id},
        )
        prev, seq = digest, entry.seq
    s.execute(
        text("UPDATE chain_head SET seq = :s, hash = :h WHERE village_id = :v"),
        {"s": seq, "h": prev, "v": village_id},
    )
    s.expire_all()


def village_id(app, code: str = "VA") -> int:
    with app.app_context():
        return db.session.scalar(text("SELECT id FROM village WHERE code = :c"), {"c": code})


def change_points_consistently(app, posted: Posted) -> None:
    with attacker(app) as s:
        s.execute(
            text(
                "UPDATE ledger_entry SET points = 50, score_delta = 50, balance_delta = 50 "
                "WHERE id = :i"
            ),
            {"i": posted.middle},
        )
        rechain(s, "VA")
    forced = run(app, "rebuild-balances", "--force")
    assert forced.exit_code == 0, forced.output


# ---- each kind of tampering is found and named ----------------------------------------


def test_the_untouched_ledger_verifies_and_matches_its_printed_code(app, posted):
    result = run(app, "verify-ledger", "--village", "VA", "--head", posted.head)
    assert result.exit_code == 0, result.output
    assert "一致" in result.output and "不一致" not in result.output


def test_changed_points_with_recomputed_hashes_and_a_forced_rebuild_are_found(app, posted):
    change_points_consistently(app, posted)
    result = run(app, "verify-ledger")
    assert result.exit_code == 1, result.output
    assert names(result.output, posted.middle)
    # The signed checkpoint names where history diverges; the claim no longer agrees.
    assert "签名检查点" in result.output and "从这条账目起历史被改写" in result.output
    assert "申报" in result.output
    with app.app_context():
        report = verify(db.session, "VA")
    kinds = {p.kind for p in report.problems if p.entry_id == posted.middle}
    assert {"checkpoint", "reference"} <= kinds, report.problems


def test_rebuild_refuses_a_chain_that_fails_verification_and_says_why(app, posted):
    with attacker(app) as s:
        s.execute(text("UPDATE ledger_entry SET points = 50 WHERE id = :i"), {"i": posted.middle})
    refused = run(app, "rebuild-balances")
    assert refused.exit_code == 2
    assert "未通过校验" in refused.output and "--force" in refused.output
    assert names(refused.output, posted.middle)


def test_a_forged_award_appended_consistently_is_found(app, posted):
    with attacker(app) as s:
        last = s.get(LedgerEntry, posted.last)
        values = {c.name: getattr(last, c.name) for c in LedgerEntry.__table__.columns}
        values |= {
            "id": max(posted.entries) + 100,
            "seq": last.seq + 1,
            "prev_hash": last.hash,
            "claim_id": None,
            "points": 20,
            "score_delta": 20,
            "balance_delta": 20,
            "note": "伪造",
        }
        values["hash"] = entry_hash(values, refs_of(s, values))
        s.execute(LedgerEntry.__table__.insert().values(**values))
        s.execute(
            text("UPDATE chain_head SET seq = :s, hash = :h WHERE village_id = :v"),
            {"s": values["seq"], "h": values["hash"], "v": last.village_id},
        )
    assert run(app, "rebuild-balances", "--force").exit_code == 0
    result = run(app, "verify-ledger")
    assert result.exit_code == 1, result.output
    assert names(result.output, max(posted.entries) + 100)
    assert "没有任何签名检查点" in result.output


def test_a_deleted_middle_entry_with_the_rest_renumbered_is_found(app, posted):
    position = posted.entries.index(posted.middle)
    successor = posted.entries[position + 1]
    with attacker(app) as s:
        s.execute(text("DELETE FROM ledger_entry WHERE id = :i"), {"i": posted.middle})
        for entry_id in posted.entries[position + 1 :]:
            s.execute(text("UPDATE ledger_entry SET seq = seq - 1 WHERE id = :i"), {"i": entry_id})
        rechain(s, "VA")
    assert run(app, "rebuild-balances", "--force").exit_code == 0
    result = run(app, "verify-ledger")
    assert result.exit_code == 1, result.output
    # The entry now holding the deleted one's number is where history diverges.
    assert names(result.output, successor)
    assert f"记录到序号 {len(posted.entries)}" in result.output


def test_swapped_primary_ids_are_found(app, posted):
    a, b = posted.middle, posted.last
    with attacker(app) as s:
        s.execute(text("UPDATE ledger_entry SET id = :t WHERE id = :a"), {"t": 999999, "a": a})
        s.execute(text("UPDATE ledger_entry SET id = :a WHERE id = :b"), {"a": a, "b": b})
        s.execute(text("UPDATE ledger_entry SET id = :b WHERE id = :t"), {"b": b, "t": 999999})
    result = run(app, "verify-ledger")
    assert result.exit_code == 1, result.output
    assert names(result.output, a) and names(result.output, b)


ROW_EDITS = {
    "claim": "UPDATE claim SET points = points + 5 WHERE id = "
    "(SELECT claim_id FROM ledger_entry WHERE id = :i)",
    "claim-key": "UPDATE claim SET idempotency_key = 'forged-key' WHERE id = "
    "(SELECT claim_id FROM ledger_entry WHERE id = :i)",
    "rule-version": "UPDATE rule_version SET title = '改过的细则', points = 7 WHERE id = "
    "(SELECT rule_version_id FROM ledger_entry WHERE id = :i)",
    "household": "UPDATE household SET village_id = "
    "(SELECT id FROM village WHERE code = 'VB') WHERE id = "
    "(SELECT household_id FROM ledger_entry WHERE id = :i)",
    "account": "UPDATE account SET household_id = "
    "(SELECT MIN(id) FROM household WHERE village_id <> account.village_id) "
    "WHERE id = (SELECT account_id FROM ledger_entry WHERE id = :i)",
}


@pytest.mark.parametrize("row", sorted(ROW_EDITS))
def test_an_edit_of_the_row_behind_an_entry_is_found_and_names_it(app, posted, row):
    with attacker(app) as s:
        s.execute(text(ROW_EDITS[row]), {"i": posted.middle})
    result = run(app, "verify-ledger")
    assert result.exit_code == 1, result.output
    assert names(result.output, posted.middle)


def test_a_truncated_tail_with_the_head_moved_back_is_found(app, posted):
    with attacker(app) as s:
        for entry_id in posted.entries[-2:]:
            s.execute(text("DELETE FROM ledger_entry WHERE id = :i"), {"i": entry_id})
        rechain(s, "VA")
    assert run(app, "rebuild-balances", "--force").exit_code == 0
    result = run(app, "verify-ledger", "--village", "VA")
    assert result.exit_code == 1, result.output
    assert f"记录到序号 {len(posted.entries)}" in result.output
    assert names(result.output, posted.entries[-3])


def test_a_forged_checkpoint_log_is_found(app, posted, tmp_path):
    log = checkpoints.log_path(tmp_path / "checkpoints", "VA")
    lines = log.read_text().splitlines()
    forged = json.loads(lines[0])
    forged["hash"] = forged["hashes"][-1] = "ab" * 32
    log.write_text("\n".join([json.dumps(forged), *lines[1:], "{not json"]) + "\n")
    result = run(app, "verify-ledger", "--village", "VA")
    assert result.exit_code == 1, result.output
    assert "签名无效" in result.output and "第 1 行" in result.output
    assert f"第 {len(lines) + 1} 行无法读取" in result.output


# ---- the code printed on paper ---------------------------------------------------------


def test_the_wall_code_matches_before_and_not_after_a_rewrite(app, client, posted):
    seq, code = posted.head.split(" · ")
    typed = f"{seq.lstrip('#')}  {code.lower().replace('-', ' ')}".translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    before = client.get("/p/VA/ledger/check", query_string={"code": typed})
    assert before.status_code == 200
    page = before.get_data(as_text=True)
    assert "与账本一致" in page and "不一致" not in page

    change_points_consistently(app, posted)
    after = client.get("/p/VA/ledger/check", query_string={"code": posted.head})
    assert after.status_code == 200
    assert "不一致" in after.get_data(as_text=True)
    cli = run(app, "verify-ledger", "--village", "VA", "--head", posted.head)
    assert cli.exit_code == 1 and "不一致" in cli.output


# ---- a witness keeps a copy elsewhere ---------------------------------------------------


@contextmanager
def live(app) -> Iterator[str]:
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=5)


def resign_log(app, tmp_path: Path, code: str = "VA") -> None:
    """Rewrite the checkpoint log to agree with the rewritten chain, with the real key."""
    key = checkpoints.load_key(tmp_path / "ledger_signing_key")
    with app.app_context():
        hashes = dict(
            db.session.execute(
                select(LedgerEntry.seq, LedgerEntry.hash).where(
                    LedgerEntry.village_id == village_id(app, code)
                )
            ).all()
        )
    log = checkpoints.log_path(tmp_path / "checkpoints", code)
    lines = []
    for line in log.read_text().splitlines():
        old = json.loads(line)
        seqs = range(old["first"], old["seq"] + 1)
        at = datetime.fromisoformat(old["at"].replace("Z", "+00:00"))
        new = checkpoints.make_checkpoint(
            key, code, old["seq"], hashes[old["seq"]], old["first"], [hashes[s] for s in seqs], at
        )
        lines.append(json.dumps(new))
    log.write_text("\n".join(lines) + "\n")


def test_a_witness_reports_the_fork_of_a_consistently_rewritten_installation(app, posted, tmp_path):
    store = tmp_path / "township"
    with live(app) as base:
        url = f"{base}/p/VA/ledger/checkpoints.json"
        first = run(app, "witness", "--url", url, "--store", str(store))
        assert first.exit_code == 0, first.output
        assert f"到序号 {len(posted.entries)}" in first.output
        again = run(app, "witness", "--url", url, "--store", str(store))
        assert again.exit_code == 0 and "新增 0 个序号" in again.output

        change_points_consistently(app, posted)
        resign_log(app, tmp_path)
        seq = posted.entries.index(posted.middle) + 1
        # With its own log rewritten, the installation's checkpoints agree with it again …
        with app.app_context():
            report = verify(db.session, "VA")
        assert not [p for p in report.problems if p.kind == "checkpoint"], report.problems
        # … but the copy the township kept does not.
        forked = run(app, "witness", "--url", url, "--store", str(store))
        assert forked.exit_code == 1, forked.output
        assert f"分叉：序号 {seq} 现在的哈希是" in forked.output
        # The pinned copy stays as it was; what was published now is kept beside it.
        files = sorted(store.glob("*.json"), key=lambda p: ".fork-" in p.name)
        assert len(files) == 2 and ".fork-" in files[1].name
        kept = json.loads(files[0].read_text())
        assert len(kept["seqs"]) == len(posted.entries)


def test_the_witness_reports_a_history_cut_back(app, posted, tmp_path):
    store = tmp_path / "township"
    with live(app) as base:
        url = f"{base}/p/VA/ledger/checkpoints.json"
        assert run(app, "witness", "--url", url, "--store", str(store)).exit_code == 0
        with attacker(app) as s:
            s.execute(text("DELETE FROM ledger_entry WHERE id = :i"), {"i": posted.last})
            rechain(s, "VA")
        log = checkpoints.log_path(tmp_path / "checkpoints", "VA")
        kept = [
            ln for ln in log.read_text().splitlines() if json.loads(ln)["seq"] < len(posted.entries)
        ]
        log.write_text("\n".join(kept) + "\n")
        result = run(app, "witness", "--url", url, "--store", str(store))
    assert result.exit_code == 1, result.output
    assert f"序号 {len(posted.entries)}" in result.output and "不再公布" in result.output


def test_an_unreachable_installation_is_a_clear_error(app, tmp_path):
    result = run(
        app,
        "witness",
        "--url",
        "http://127.0.0.1:9/p/VA/ledger/checkpoints.json",
        "--store",
        str(tmp_path / "w"),
        "--timeout",
        "2",
    )
    assert result.exit_code == 2
    assert "无法读取" in result.output
