"""Checking the cached balances and period totals against the entries."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits.i18n import N_
from credits.ledger.report import Problem, Report
from credits.models import Balance, LedgerEntry, PeriodTotal, Village

BALANCE_WRONG = N_(
    "account %(account)s: cached score/balance %(score)s/%(balance)s but entries sum to "
    "%(want_score)s/%(want_balance)s"
)
PERIOD_WRONG = N_(
    "account %(account)s period %(period)s %(category)s: cached %(have)s but entries sum "
    "to %(want)s"
)


def account_sums(session: Session, village_id: int) -> dict[int, tuple[int, int]]:
    """Sum score and balance changes per account of a village."""
    return {
        row.account_id: (int(row.score or 0), int(row.balance or 0))
        for row in session.execute(
            select(
                LedgerEntry.account_id,
                func.sum(LedgerEntry.score_delta).label("score"),
                func.sum(LedgerEntry.balance_delta).label("balance"),
            )
            .where(LedgerEntry.village_id == village_id)
            .group_by(LedgerEntry.account_id)
        )
    }


def verify_totals(session: Session, village: Village, report: Report) -> None:
    """Report every balance and period total that differs from its entries' sum."""
    sums = account_sums(session, village.id)
    cached = {
        b.account_id: (b.score, b.balance)
        for b in session.scalars(
            select(Balance)
            .where(Balance.village_id == village.id)
            .execution_options(populate_existing=True)
        )
    }
    params: dict[str, object]
    for account_id in sorted(set(sums) | set(cached)):
        report.accounts += 1
        want, have = sums.get(account_id, (0, 0)), cached.get(account_id, (0, 0))
        if want != have:
            params = {
                "account": account_id,
                "score": have[0],
                "balance": have[1],
                "want_score": want[0],
                "want_balance": want[1],
            }
            report.problems.append(
                Problem(village.code, "balance", BALANCE_WRONG, params, account_id=account_id)
            )
    period_sums = {
        (r.account_id, r.period, r.category): int(r.score)
        for r in session.execute(
            select(
                LedgerEntry.account_id,
                LedgerEntry.period,
                LedgerEntry.category,
                func.sum(LedgerEntry.score_delta).label("score"),
            )
            .where(LedgerEntry.village_id == village.id)
            .group_by(LedgerEntry.account_id, LedgerEntry.period, LedgerEntry.category)
        )
    }
    period_cached = {
        (t.account_id, t.period, t.category): t.score
        for t in session.scalars(
            select(PeriodTotal)
            .where(PeriodTotal.village_id == village.id)
            .execution_options(populate_existing=True)
        )
    }
    for key in sorted(set(period_sums) | set(period_cached)):
        have_p, want_p = period_cached.get(key, 0), period_sums.get(key, 0)
        if have_p != want_p:
            params = {
                "account": key[0],
                "period": key[1],
                "category": key[2],
                "have": have_p,
                "want": want_p,
            }
            report.problems.append(
                Problem(village.code, "period", PERIOD_WRONG, params, account_id=key[0])
            )
