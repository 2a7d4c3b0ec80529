"""Recomputing cached balances and period totals from the entries (never over a broken chain)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits import audit
from credits.db import lock_row
from credits.errors import LedgerBroken, NotFound
from credits.ledger import checkpoints
from credits.ledger.report import Report
from credits.ledger.totals import account_sums, verify_totals
from credits.ledger.verify import UNKNOWN_VILLAGE, verify_chain
from credits.models import Balance, LedgerEntry, PeriodTotal, Village


def rebuild_balances(
    session: Session, village_code: str | None = None, *, force: bool = False
) -> int:
    """Recompute balances and period totals from the entries; return the rows corrected
    (each wrong, missing or extra balance or period total counts once).

    A village whose chain fails verification is refused (LedgerBroken) unless `force`:
    totals rebuilt over forged entries would make the forgery look consistent.
    """
    villages = session.scalars(
        select(Village).where(*([Village.code == village_code] if village_code else []))
    ).all()
    if village_code and not villages:
        raise NotFound(UNKNOWN_VILLAGE, code=village_code)
    anchor = checkpoints.anchor_for(session)
    changed = 0
    for village in villages:
        lock_row(session, "chain_head", "village_id", village.id)
        if not force:
            chain = Report()
            verify_chain(session, village, chain, anchor=anchor)
            broken = chain.structural()
            if broken:
                session.rollback()
                raise LedgerBroken(code=village.code, count=len(broken), first=broken[0].text())
        report = Report()
        verify_totals(session, village, report)
        if not report.problems:
            continue
        _rewrite_totals(session, village)
        changed += len(report.problems)
        audit.log(
            session,
            "ledger.rebuild",
            actor=None,
            village_id=village.id,
            after={"problems": len(report.problems), "force": force},
        )
    session.commit()
    return changed


def _rewrite_totals(session: Session, village: Village) -> None:
    sums = account_sums(session, village.id)
    for balance in session.scalars(
        select(Balance)
        .where(Balance.village_id == village.id)
        .execution_options(populate_existing=True)
    ):
        score, bal = sums.pop(balance.account_id, (0, 0))
        if (balance.score, balance.balance) != (score, bal):
            balance.score, balance.balance = score, bal
    for account_id, (score, bal) in sums.items():
        session.add(Balance(account_id=account_id, village_id=village.id, score=score, balance=bal))
    session.query(PeriodTotal).filter(PeriodTotal.village_id == village.id).delete()
    rows = session.execute(
        select(
            LedgerEntry.account_id,
            LedgerEntry.scheme_id,
            LedgerEntry.household_id,
            LedgerEntry.period,
            LedgerEntry.category,
            func.sum(LedgerEntry.score_delta).label("score"),
        )
        .where(LedgerEntry.village_id == village.id, LedgerEntry.score_delta != 0)
        .group_by(
            LedgerEntry.account_id,
            LedgerEntry.scheme_id,
            LedgerEntry.household_id,
            LedgerEntry.period,
            LedgerEntry.category,
        )
    )
    for r in rows:
        session.add(
            PeriodTotal(
                village_id=village.id,
                account_id=r.account_id,
                scheme_id=r.scheme_id,
                household_id=r.household_id,
                period=r.period,
                category=r.category,
                score=int(r.score),
            )
        )
