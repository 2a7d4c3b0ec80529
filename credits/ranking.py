"""Ranks of households by points earned: pure rank rules, and standings read from period totals.

Ranks use points earned (the score change of the period), never the spendable balance:
spending in the shop does not lower a household's rank. Ties share a rank and the next
rank skips ("standard competition" ranking: 1, 2, 2, 4), so a tie never pushes anyone up.
The reads go through `PeriodTotal` (account × month × category), so they grow with the
number of households of a village, never with its ledger entries.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from credits.caps import period_of
from credits.models import Household, PeriodTotal

K = TypeVar("K", bound=Hashable)


def competition_ranks(points: Mapping[K, int]) -> dict[K, int]:
    """Rank keys by points, highest first; equal points share a rank, the next one skips."""
    ordered = sorted(points.values(), reverse=True)
    first_position: dict[int, int] = {}
    for position, value in enumerate(ordered, start=1):
        first_position.setdefault(value, position)
    return {key: first_position[value] for key, value in points.items()}


@dataclass(frozen=True)
class Standing:
    """Where one household stands among others in a period."""

    rank: int
    of: int  # how many households were ranked
    points: int  # the household's points earned in the period
    tied: bool = False  # another household has the same points


def standing(points: Mapping[K, int], key: K) -> Standing | None:
    """Return a key's standing among all keys, or None when the key is not ranked."""
    if key not in points:
        return None
    ranks = competition_ranks(points)
    mine = points[key]
    tied = sum(1 for value in points.values() if value == mine) > 1
    return Standing(rank=ranks[key], of=len(points), points=mine, tied=tied)


@dataclass(frozen=True)
class Standings:
    """A household's month and year standings in its village and in its group."""

    month: int  # yyyymm
    year: int
    month_village: Standing | None
    month_group: Standing | None
    year_village: Standing | None
    year_group: Standing | None


def household_standings(
    session: Session, household: Household, scheme_id: int, *, today: date
) -> Standings:
    """Rank a household this month and this year, in its village and in its group.

    Every active household of the village is ranked, with 0 when it earned nothing.
    """
    month = period_of(today)
    first, last = today.year * 100 + 1, today.year * 100 + 12
    members = dict(
        session.execute(
            select(Household.id, Household.group_id).where(
                Household.village_id == household.village_id, Household.active.is_(True)
            )
        ).all()
    )
    month_points: dict[int, int] = dict.fromkeys(members, 0)
    year_points: dict[int, int] = dict.fromkeys(members, 0)
    rows = session.execute(
        select(
            PeriodTotal.household_id,
            func.sum(case((PeriodTotal.period == month, PeriodTotal.score), else_=0)),
            func.sum(PeriodTotal.score),
        )
        .where(
            PeriodTotal.village_id == household.village_id,
            PeriodTotal.scheme_id == scheme_id,
            PeriodTotal.period >= first,
            PeriodTotal.period <= last,
        )
        .group_by(PeriodTotal.household_id)
    )
    for household_id, in_month, in_year in rows:
        if household_id in members:
            month_points[household_id] = int(in_month or 0)
            year_points[household_id] = int(in_year or 0)

    def in_group(points: dict[int, int]) -> dict[int, int]:
        group_id = members.get(household.id)
        if group_id is None:
            return {}
        return {hid: value for hid, value in points.items() if members[hid] == group_id}

    return Standings(
        month=month,
        year=today.year,
        month_village=standing(month_points, household.id),
        month_group=standing(in_group(month_points), household.id),
        year_village=standing(year_points, household.id),
        year_group=standing(in_group(year_points), household.id),
    )
