"""Read models for pages: what a village home and a household list show."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from credits.models import Account, Balance, Claim, ClaimState, Group, Household, Member, Scheme
from credits.paging import Page, paginate


def schemes_of(session: Session, village_id: int) -> list[Scheme]:
    """Return a village's active schemes in creation order."""
    return list(
        session.scalars(
            select(Scheme)
            .where(Scheme.village_id == village_id, Scheme.active.is_(True))
            .order_by(Scheme.id)
        )
    )


def groups_of(session: Session, village_id: int) -> list[Group]:
    """Return a village's groups in their order."""
    return list(
        session.scalars(
            select(Group).where(Group.village_id == village_id).order_by(Group.position, Group.id)
        )
    )


def village_stats(session: Session, village_id: int) -> dict[str, int]:
    """Count households, members and claims waiting, for the home tiles."""

    def count(query: Any) -> int:
        return int(session.scalar(query) or 0)

    return {
        "households": count(
            select(func.count(Household.id)).where(
                Household.village_id == village_id, Household.active.is_(True)
            )
        ),
        "members": count(
            select(func.count(Member.id)).where(
                Member.village_id == village_id, Member.active.is_(True)
            )
        ),
        "pending_claims": count(
            select(func.count(Claim.id)).where(
                Claim.village_id == village_id, Claim.state == ClaimState.RECORDED
            )
        ),
        "noticed_claims": count(
            select(func.count(Claim.id)).where(
                Claim.village_id == village_id, Claim.state == ClaimState.NOTICED
            )
        ),
    }


def household_page(
    session: Session,
    village_id: int,
    schemes: list[Scheme],
    *,
    q: str = "",
    group_id: int | None = None,
    page: int = 1,
    per_page: int = 30,
) -> Page[dict[str, Any]]:
    """Return one page of households with each scheme's score and balance."""
    query = (
        select(Household)
        .where(Household.village_id == village_id)
        .options(selectinload(Household.group))
    )
    if q.strip():
        like = f"%{q.strip()}%"
        members = select(Member.household_id).where(
            Member.village_id == village_id, Member.name.like(like)
        )
        query = query.where(
            or_(
                Household.head_name.like(like),
                Household.house_number.like(like),
                Household.id.in_(members),
            )
        )
    if group_id:
        query = query.where(Household.group_id == group_id)
    query = query.order_by(Household.active.desc(), Household.group_id, Household.id)
    result = paginate(session, query, page, per_page)
    ids = [h.id for h in result.items]
    cells: dict[tuple[int, int], tuple[int, int]] = {}
    if ids:
        for household_id, scheme_id, score, balance in session.execute(
            select(Account.household_id, Account.scheme_id, Balance.score, Balance.balance)
            .join(Balance, Balance.account_id == Account.id)
            .where(Account.village_id == village_id, Account.household_id.in_(ids))
        ):
            cells[(household_id, scheme_id)] = (score, balance)
    rows = [
        {
            "household": h,
            "cells": [
                dict(zip(("score", "balance"), cells.get((h.id, s.id), (0, 0)), strict=True))
                for s in schemes
            ],
        }
        for h in result.items
    ]
    return Page(items=rows, page=result.page, per_page=per_page, total=result.total)
