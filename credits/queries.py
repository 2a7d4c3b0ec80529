"""Read models for pages: what a village home and a household list show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from credits.evidence import evidence_of
from credits.models import (
    Account,
    Balance,
    Claim,
    ClaimState,
    Evidence,
    Group,
    Household,
    Member,
    Rule,
    Scheme,
    User,
)
from credits.paging import Page, paginate
from credits.search import household_query


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
    # The same search as the roster: name, pinyin initials, house number or group.
    query = household_query(village_id, q, group_id=group_id, status="all")
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


# ---- recording and review (the clerk's tablet) ----


@dataclass
class QueueItem:
    """A claim waiting for review with what the reviewer needs to judge it."""

    claim: Claim
    photos: list[Evidence]
    reused_photos: int = 0  # photos whose bytes were also uploaded for another claim


def _claim_options() -> Any:
    return (
        selectinload(Claim.household).selectinload(Household.group),
        selectinload(Claim.member),
        selectinload(Claim.rule_version),
        selectinload(Claim.recorded_by),
        selectinload(Claim.scheme),
    )


def review_queue(
    session: Session,
    village_id: int,
    group_id: int | None = None,
    rule_id: int | None = None,
    recorder_id: int | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[QueueItem]:
    """Claims waiting for review, oldest first, with household, member, rule, recorder, photos."""
    query = (
        select(Claim)
        .where(Claim.village_id == village_id, Claim.state == ClaimState.RECORDED)
        .options(*_claim_options())
    )
    if group_id:
        query = query.join(Household, Household.id == Claim.household_id).where(
            Household.group_id == group_id
        )
    if rule_id:
        query = query.where(Claim.rule_id == rule_id)
    if recorder_id:
        query = query.where(Claim.recorded_by_id == recorder_id)
    result = paginate(session, query.order_by(Claim.recorded_at, Claim.id), page, per_page)
    claims: list[Claim] = result.items
    photos = evidence_of(session, village_id, [c.id for c in claims])
    reused = _reused_photos(session, village_id, [p for ps in photos.values() for p in ps])
    items = [
        QueueItem(
            claim=c,
            photos=photos.get(c.id, []),
            reused_photos=sum(1 for p in photos.get(c.id, []) if p.id in reused),
        )
        for c in claims
    ]
    return Page(items=items, page=result.page, per_page=per_page, total=result.total)


def _reused_photos(session: Session, village_id: int, photos: list[Evidence]) -> set[int]:
    """Ids of photos whose bytes were uploaded separately for another claim too.

    Copies made for the claims of one batch share their file and do not count.
    """
    if not photos:
        return set()
    other = aliased(Evidence)
    rows = session.execute(
        select(Evidence.id)
        .join(
            other,
            and_(
                other.village_id == Evidence.village_id,
                other.sha256 == Evidence.sha256,
                other.path != Evidence.path,
                other.claim_id.is_not(None),
                other.claim_id != Evidence.claim_id,
            ),
        )
        .where(Evidence.village_id == village_id, Evidence.id.in_([p.id for p in photos]))
    )
    return {row[0] for row in rows}


def review_filters(session: Session, village_id: int) -> dict[str, list[Any]]:
    """The choices of the review queue's filters: groups, and the rules and recorders waiting."""
    waiting = (Claim.village_id == village_id, Claim.state == ClaimState.RECORDED)
    rules = session.execute(
        select(Rule.id, Rule.code, Rule.title, Rule.points)
        .where(Rule.id.in_(select(Claim.rule_id).where(*waiting)))
        .order_by(Rule.scheme_id, Rule.position, Rule.id)
    ).all()
    recorders = session.execute(
        select(User.id, User.display_name)
        .where(User.id.in_(select(Claim.recorded_by_id).where(*waiting)))
        .order_by(User.display_name)
    ).all()
    return {
        "groups": groups_of(session, village_id),
        "rules": list(rules),
        "recorders": list(recorders),
    }


def recent_claims(session: Session, village_id: int, user_id: int, limit: int = 8) -> list[Claim]:
    """A recorder's latest claims, newest first (the record page's "my recent claims")."""
    return list(
        session.scalars(
            select(Claim)
            .where(Claim.village_id == village_id, Claim.recorded_by_id == user_id)
            .options(*_claim_options())
            .order_by(Claim.recorded_at.desc(), Claim.id.desc())
            .limit(limit)
        )
    )


def claims_by_id(session: Session, village_id: int, claim_ids: list[int]) -> list[Claim]:
    """Claims of a village by id, in the given order (unknown ids are left out)."""
    if not claim_ids:
        return []
    found = {
        c.id: c
        for c in session.scalars(
            select(Claim)
            .where(Claim.village_id == village_id, Claim.id.in_(claim_ids))
            .options(*_claim_options())
        )
    }
    return [found[i] for i in claim_ids if i in found]


def recordable_rules(
    session: Session, village_id: int
) -> list[tuple[Scheme, list[tuple[str, list[Rule]]]]]:
    """Active rules of each active scheme, grouped by category in catalogue order."""
    result = []
    for scheme in schemes_of(session, village_id):
        rules = session.scalars(
            select(Rule)
            .where(
                Rule.village_id == village_id,
                Rule.scheme_id == scheme.id,
                Rule.active.is_(True),
            )
            .order_by(Rule.position, Rule.id)
        )
        categories: dict[str, list[Rule]] = {}
        for rule in rules:
            categories.setdefault(rule.category, []).append(rule)
        if categories:
            result.append((scheme, list(categories.items())))
    return result


def batch_households(
    session: Session,
    village_id: int,
    group_id: int | None = None,
    ticked: Iterable[int] = (),
) -> list[Household]:
    """Active households (with members) to tick for a batch award, by group and number.

    Households already ticked (or scanned) outside the group filter come first, so a
    form shown again keeps them on its list.
    """
    query = (
        select(Household)
        .where(Household.village_id == village_id, Household.active.is_(True))
        .options(selectinload(Household.members), selectinload(Household.group))
        .outerjoin(Group, Group.id == Household.group_id)
        .order_by(Group.position, Household.id)
    )
    if group_id:
        query = query.where(Household.group_id == group_id)
    households = list(session.scalars(query))
    outside = set(ticked) - {h.id for h in households}
    if not outside:
        return households
    extra = session.scalars(
        select(Household)
        .where(Household.village_id == village_id, Household.id.in_(outside))
        .options(selectinload(Household.members), selectinload(Household.group))
        .order_by(Household.id)
    )
    return [*extra, *households]


@dataclass(frozen=True)
class SchemeTotals:
    """A household's score and balance in one scheme."""

    scheme: Scheme
    score: int
    balance: int


def household_totals(session: Session, household: Household) -> list[SchemeTotals]:
    """Return the household's score and balance in each active scheme of its village."""
    cells = {
        scheme_id: (score, balance)
        for scheme_id, score, balance in session.execute(
            select(Account.scheme_id, Balance.score, Balance.balance)
            .join(Balance, Balance.account_id == Account.id)
            .where(
                Account.village_id == household.village_id,
                Account.household_id == household.id,
            )
        )
    }
    return [
        SchemeTotals(s, *cells.get(s.id, (0, 0))) for s in schemes_of(session, household.village_id)
    ]
