"""The application never updates or deletes a ledger row (DESIGN.md §4, promise 2)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from conftest import NOW, correct_entry, new_claim
from sqlalchemy import event, select, text

from credits.ledger import rebuild_balances, verify
from credits.models import LedgerEntry
from credits.models.ledger import LedgerImmutable
from credits.workflow import approve_claim, post_due, reject_claim, withdraw_claim

WRITES_LEDGER = re.compile(
    r"""^\s*(?:UPDATE\s+(?:ONLY\s+)?["`]?ledger_entry["`]?\s"""
    r"""|DELETE\s+FROM\s+(?:ONLY\s+)?["`]?ledger_entry["`]?(?:\s|$)"""
    r"""|TRUNCATE\b[^;]*\bledger_entry\b"""
    r"""|INSERT\s+(?:OR\s+REPLACE\s+)?INTO\s+["`]?ledger_entry["`]?.*\bON\s+CONFLICT\b.*\bDO\s+UPDATE\b"""
    r"""|REPLACE\s+INTO\s+["`]?ledger_entry)""",
    re.IGNORECASE | re.DOTALL,
)


class Statements:
    """Every SQL statement an engine sends while capturing is on."""

    def __init__(self, engine):
        self.seen: list[str] = []
        self.on = True
        event.listen(engine, "before_cursor_execute", self._record)
        self.engine = engine

    def _record(self, _conn, _cursor, statement, _params, _context, _executemany):
        if self.on:
            self.seen.append(statement)

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._record)

    def ledger_writes(self):
        return [s for s in self.seen if WRITES_LEDGER.search(s)]

    def inserts(self):
        return [s for s in self.seen if re.match(r"\s*INSERT\s+INTO\s+\W?ledger_entry", s, re.I)]


@pytest.fixture
def statements(engine):
    capture = Statements(engine)
    yield capture
    capture.close()


def test_the_pattern_catches_ledger_writes_and_nothing_else():
    for sql in (
        "UPDATE ledger_entry SET note=? WHERE ledger_entry.id = ?",
        'UPDATE "ledger_entry" SET points=%(points)s',
        "DELETE FROM ledger_entry WHERE ledger_entry.id = ?",
        "delete from ledger_entry",
        'TRUNCATE "village", "ledger_entry" RESTART IDENTITY',
        "INSERT INTO ledger_entry (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET note = 'x'",
        "REPLACE INTO ledger_entry (id) VALUES (1)",
    ):
        assert WRITES_LEDGER.search(sql), sql
    for sql in (
        "INSERT INTO ledger_entry (village_id, seq) VALUES (?, ?)",
        "UPDATE chain_head SET seq=?, hash=? WHERE chain_head.village_id = ?",
        "UPDATE balance SET score=(balance.score + ?) WHERE balance.account_id = ?",
        "DELETE FROM period_total WHERE period_total.village_id = ?",
        "SELECT ledger_entry.id FROM ledger_entry WHERE ledger_entry.reverses_id = ?",
        "UPDATE claim SET state=? WHERE claim.id = ?",
    ):
        assert not WRITES_LEDGER.search(sql), sql


def test_a_full_scenario_never_updates_or_deletes_a_ledger_row(session, world, statements):
    clerk, reviewer = world.users["clerk"], world.users["reviewer"]
    # Record, approve, reject, withdraw, notice, post.
    awards = [new_claim(session, world, household=h, rule="JY01") for h in (0, 1, 2)]
    deduction = new_claim(session, world, household=1, rule="KF03", note="乱倒垃圾")
    for claim in [*awards, deduction]:
        approve_claim(session, actor=reviewer, claim_id=claim.id, now=NOW)
    rejected = new_claim(session, world, rule="XL01")
    reject_claim(session, actor=reviewer, claim_id=rejected.id, reason="证据不足", now=NOW)
    withdrawn = new_claim(session, world, rule="XL01")
    withdraw_claim(session, actor=clerk, claim_id=withdrawn.id, now=NOW)
    assert post_due(session, now=NOW + timedelta(days=8)) == 4
    # Reverse one entry; a second reversal of it is refused.
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.claim_id == awards[0].id))
    correct_entry(session, world, entry.id, "记错了户", now=NOW + timedelta(days=8))
    with pytest.raises(Exception):  # noqa: B017 - any refusal; the point is what SQL ran
        correct_entry(session, world, entry.id, "再冲一次", now=NOW + timedelta(days=8))
    session.rollback()
    # Post straight away in a scheme without notice.
    world.scheme.notice_days = 0
    session.commit()
    new_claim(session, world, household=2, rule="JY01", approve_by="reviewer")
    # Damage a balance (by hand, not captured), then rebuild and verify.
    statements.on = False
    session.execute(
        text("UPDATE balance SET score = score + 3 WHERE account_id = :a"), {"a": entry.account_id}
    )
    session.commit()
    statements.on = True
    assert rebuild_balances(session) >= 1
    assert verify(session).ok

    assert len(statements.inserts()) == 6, "the capture missed the postings"
    assert statements.ledger_writes() == []


def test_the_orm_refuses_to_change_a_ledger_entry(session, world):
    claim = new_claim(session, world, rule="JY01", approve_by="reviewer")
    post_due(session, now=NOW + timedelta(days=8))
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.claim_id == claim.id))
    original = (entry.points, entry.note, entry.hash)

    entry.note = "悄悄改一下"
    with pytest.raises(LedgerImmutable):
        session.flush()
    session.rollback()

    entry = session.get(LedgerEntry, entry.id)
    entry.points = 100
    with pytest.raises(LedgerImmutable):
        session.commit()
    session.rollback()

    entry = session.get(LedgerEntry, entry.id)
    session.delete(entry)
    with pytest.raises(LedgerImmutable):
        session.flush()
    session.rollback()

    fresh = session.get(LedgerEntry, entry.id, populate_existing=True)
    assert (fresh.points, fresh.note, fresh.hash) == original
    assert verify(session).ok


def test_loading_and_reading_entries_is_not_a_change(session, world):
    # The guard must not fire on harmless work with entries in the session.
    claim = new_claim(session, world, rule="JY01", approve_by="reviewer")
    post_due(session, now=NOW + timedelta(days=8))
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.claim_id == claim.id))
    entry.note = entry.note  # same value: not a modification
    _ = entry.account, entry.household
    new_claim(session, world, household=1, rule="JY01", approve_by="reviewer")
    assert post_due(session, now=NOW + timedelta(days=8)) == 1
