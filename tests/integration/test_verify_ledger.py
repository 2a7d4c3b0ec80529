"""Raw-SQL tampering with the ledger is found by `flask verify-ledger` (DESIGN.md §4, promise 2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from conftest import NOW, correct_entry, new_claim
from sqlalchemy import select, text

from app.extensions import db
from credits.ledger import entry_hash, rebuild_balances, verify
from credits.models import Balance, LedgerEntry, PeriodTotal
from credits.models.ledger_triggers import drop_triggers
from credits.workflow import post_due


@dataclass
class Ledger:
    """Ids in a small posted ledger of village VA (and one entry in VB)."""

    entries: list[int]  # VA's entries in chain order
    middle: int  # a plain award in the middle of VA's chain
    last: int  # VA's last entry, a plain award nobody reverses
    account: int  # the account of `middle`
    other_entry: int  # an entry of VB


@pytest.fixture
def ledger(app, web_world, web_other_world):
    with app.app_context():
        s = db.session
        for h in (0, 1, 2, 0):
            new_claim(s, web_world, household=h, rule="JY01", approve_by="reviewer")
        new_claim(s, web_world, household=1, rule="KF03", note="乱堆柴草", approve_by="reviewer")
        new_claim(s, web_other_world, household=0, rule="JY01", approve_by="reviewer")
        post_due(s, now=NOW + timedelta(days=8))
        first = s.scalar(
            select(LedgerEntry)
            .where(LedgerEntry.village_id == web_world.village.id)
            .order_by(LedgerEntry.seq)
        )
        correct_entry(s, web_world, first.id, "记错户", now=NOW)
        new_claim(s, web_world, household=2, rule="JY01", approve_by="reviewer")
        post_due(s, now=NOW + timedelta(days=9))
        entries = s.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.village_id == web_world.village.id)
            .order_by(LedgerEntry.seq)
        ).all()
        middle = entries[2]
        assert middle.kind == "award" and middle.claim_id
        other = s.scalar(
            select(LedgerEntry.id).where(LedgerEntry.village_id == web_other_world.village.id)
        )
        assert verify(s).ok
        return Ledger([e.id for e in entries], middle.id, entries[-1].id, middle.account_id, other)


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def tamper(app, sql, **params):
    # The attacker has database access: the append-only triggers go first.
    with app.app_context():
        drop_triggers(db.session.connection())
        db.session.execute(text(sql), params)
        db.session.commit()


def test_an_intact_ledger_verifies(app, ledger):
    result = run(app, "verify-ledger")
    assert result.exit_code == 0, result.output
    assert "发现 0 个问题" in result.output
    assert f"已检查 2 个村、{len(ledger.entries) + 1} 条账目" in result.output


CHAIN_TAMPERING = {
    "points": "UPDATE ledger_entry SET points = points + 5 WHERE id = :id",
    "score": "UPDATE ledger_entry SET score_delta = score_delta + 5 WHERE id = :id",
    "note": "UPDATE ledger_entry SET note = '改过的备注' WHERE id = :id",
    "date": "UPDATE ledger_entry SET deed_date = deed_date - 1 WHERE id = :id",
    "hash": "UPDATE ledger_entry SET hash = :fake WHERE id = :id",
}


@pytest.mark.parametrize("what", sorted(CHAIN_TAMPERING))
@pytest.mark.tampers
def test_editing_an_entry_is_found_and_named(app, ledger, what):
    sql = CHAIN_TAMPERING[what]
    if what == "date" and "sqlite" in app.config["SQLALCHEMY_DATABASE_URI"]:
        sql = "UPDATE ledger_entry SET deed_date = date(deed_date, '-1 day') WHERE id = :id"
    tamper(app, sql, id=ledger.middle, fake="f" * 64)
    result = run(app, "verify-ledger")
    assert result.exit_code == 1, result.output
    assert f"账目 {ledger.middle}（" in result.output
    # Balances are not rebuilt over a changed entry, and a forced rebuild cannot hide it.
    refused = run(app, "rebuild-balances")
    assert refused.exit_code == 2 and "--force" in refused.output
    assert run(app, "rebuild-balances", "--force").exit_code == 0
    again = run(app, "verify-ledger")
    assert again.exit_code == 1 and f"账目 {ledger.middle}（" in again.output


@pytest.mark.tampers
def test_deleting_a_middle_entry_is_found_and_named(app, ledger):
    tamper(app, "DELETE FROM ledger_entry WHERE id = :id", id=ledger.middle)
    result = run(app, "verify-ledger")
    assert result.exit_code == 1, result.output
    position = ledger.entries.index(ledger.middle)
    before, after = ledger.entries[position - 1], ledger.entries[position + 1]
    # The gap is named by the missing sequence number and the entries around it.
    assert f"序号 {position + 1} 至" in result.output
    assert f"账目 {before} 之后" in result.output and f"账目 {after}（" in result.output
    assert f"账户 {ledger.account}" in result.output
    assert run(app, "rebuild-balances", "--force").exit_code == 0
    assert run(app, "verify-ledger").exit_code == 1


@pytest.mark.tampers
def test_deleting_the_last_entry_is_found_and_named(app, ledger):
    tamper(app, "DELETE FROM ledger_entry WHERE id = :id", id=ledger.last)
    result = run(app, "verify-ledger")
    assert result.exit_code == 1, result.output
    assert f"序号 {len(ledger.entries)} 至" in result.output
    assert f"账目 {ledger.entries[-2]}（" in result.output
    assert run(app, "rebuild-balances", "--force").exit_code == 0
    assert run(app, "verify-ledger").exit_code == 1


@pytest.mark.tampers
def test_rewriting_the_last_entry_with_a_fresh_hash_is_found(app, ledger):
    # A careful forger recomputes the edited entry's hash; the chain head still differs.
    with app.app_context():
        entry = db.session.get(LedgerEntry, ledger.last)
        values = {c.name: getattr(entry, c.name) for c in LedgerEntry.__table__.columns}
        values["points"] = values["score_delta"] = values["balance_delta"] = 50
        forged = entry_hash(values)
    tamper(
        app,
        "UPDATE ledger_entry SET points = 50, score_delta = 50, balance_delta = 50, "
        "hash = :h WHERE id = :id",
        h=forged,
        id=ledger.last,
    )
    result = run(app, "verify-ledger")
    assert result.exit_code == 1, result.output
    assert f"账目 {ledger.last}（" in result.output


@pytest.mark.parametrize(
    ("what", "sql", "named"),
    [
        (
            "balance",
            "UPDATE balance SET score = score + 10, balance = 999 WHERE account_id = :acc",
            "余额",
        ),
        ("deleted", "DELETE FROM balance WHERE account_id = :acc", "余额"),
        (
            "period",
            "UPDATE period_total SET score = score + 1 WHERE account_id = :acc",
            "期间",
        ),
        ("period-deleted", "DELETE FROM period_total WHERE account_id = :acc", "期间"),
    ],
)
def test_editing_cached_totals_is_found_and_rebuild_fixes_it(app, ledger, what, sql, named):
    tamper(app, sql, acc=ledger.account)
    result = run(app, "verify-ledger")
    assert result.exit_code == 1, result.output
    assert f"账户 {ledger.account}" in result.output
    assert f"{named}" in result.output
    rebuilt = run(app, "rebuild-balances")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "已更正 0 行" not in rebuilt.output
    fixed = run(app, "verify-ledger")
    assert fixed.exit_code == 0, fixed.output
    assert "已更正 0 行" in run(app, "rebuild-balances").output


@pytest.mark.tampers
def test_village_option_limits_the_check(app, ledger):
    tamper(app, "UPDATE ledger_entry SET note = 'x' WHERE id = :id", id=ledger.other_entry)
    mine = run(app, "verify-ledger", "--village", "VA")
    assert mine.exit_code == 0, mine.output
    assert "已检查 1 个村" in mine.output
    theirs = run(app, "verify-ledger", "--village", "VB")
    assert theirs.exit_code == 1
    assert f"账目 {ledger.other_entry}（" in theirs.output
    assert run(app, "verify-ledger").exit_code == 1


def test_unknown_village_code_is_a_clear_error(app, ledger):
    result = run(app, "verify-ledger", "--village", "NOPE")
    assert result.exit_code not in (0, 1)
    assert "NOPE" in result.output
    assert "村" in result.output  # the message is the translated one


@pytest.mark.tampers
def test_verify_sees_tampering_done_in_the_same_session(session, world):
    # A session that already holds the entries and balances in memory must still read
    # what the database says now.
    for h in (0, 1):
        new_claim(session, world, household=h, rule="JY01", approve_by="reviewer")
    post_due(session, now=NOW + timedelta(days=8))
    entries = session.scalars(select(LedgerEntry)).all()
    balances = session.scalars(select(Balance)).all()
    totals = session.scalars(select(PeriodTotal)).all()
    assert verify(session).ok and entries and balances and totals
    drop_triggers(session.connection())
    session.execute(
        text("UPDATE ledger_entry SET note = 'x' WHERE id = :id"), {"id": entries[0].id}
    )
    session.execute(
        text("UPDATE balance SET score = 77 WHERE account_id = :a"), {"a": balances[0].account_id}
    )
    session.execute(text("UPDATE period_total SET score = 55 WHERE id = :i"), {"i": totals[0].id})
    session.commit()
    report = verify(session)
    kinds = sorted({p.kind for p in report.problems})
    # The edited note no longer matches the claim's either.
    assert kinds == ["balance", "chain", "period", "reference"], report.problems
    assert rebuild_balances(session, force=True) == 2
    assert sorted({p.kind for p in verify(session).problems}) == ["chain", "reference"]
