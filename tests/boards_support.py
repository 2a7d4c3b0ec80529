"""What the board tests share: entries posted straight through the ledger's one append path."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from credits.ledger import append_entry
from credits.models import EntryKind, Household, LedgerEntry, Rule
from credits.workflow import ensure_account

NOW = datetime(2026, 12, 3, 9, 0, 0)


def post(
    session: Session,
    world,  # noqa: ANN001  (conftest.VillageWorld)
    household: int,
    rule: str,
    *,
    day: date = date(2026, 11, 10),
    member: int | None = None,
    times: int = 1,
    commit: bool = True,
) -> list[LedgerEntry]:
    """Post an award or deduction of a rule for a household of the world, as posting does."""
    r = session.get(Rule, world.rule(rule).id)
    home = session.get(Household, world.households[household].id)
    assert r is not None and home is not None
    account = ensure_account(session, home, r.scheme_id)
    version = r.versions[-1]
    entries = []
    for _ in range(times):
        entries.append(
            append_entry(
                session,
                account,
                kind=EntryKind.DEDUCTION if r.points < 0 else EntryKind.AWARD,
                points=r.points,
                score_delta=r.points,
                balance_delta=r.points,
                deed_date=day,
                now=NOW,
                member_id=home.members[member].id if member is not None else None,
                category=r.category,
                title=r.title,
                rule_version_id=version.id,
            )
        )
    if commit:
        session.commit()
    return entries


def redeem(session: Session, world, household: int, points: int) -> LedgerEntry:  # noqa: ANN001
    """Spend points in the shop: the balance drops, the score (and so the rank) does not."""
    home = session.get(Household, world.households[household].id)
    assert home is not None
    account = ensure_account(session, home, world.scheme.id)
    entry = append_entry(
        session,
        account,
        kind=EntryKind.REDEMPTION,
        points=-points,
        score_delta=0,
        balance_delta=-points,
        deed_date=date(2026, 11, 20),
        now=NOW,
        title="兑换",
    )
    session.commit()
    return entry


def reverse(session: Session, entry: LedgerEntry) -> LedgerEntry:
    """Post a correction of an entry (a reversal naming it)."""
    account = entry.account
    reversal = append_entry(
        session,
        account,
        kind=EntryKind.REVERSAL,
        points=-entry.points,
        score_delta=-entry.score_delta,
        balance_delta=-entry.balance_delta,
        deed_date=entry.deed_date,
        now=NOW,
        member_id=entry.member_id,
        category=entry.category,
        title=entry.title,
        reason="录错了",
        reverses_id=entry.id,
        rule_version_id=entry.rule_version_id,
    )
    session.commit()
    return reversal
