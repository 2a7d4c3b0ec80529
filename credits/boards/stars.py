"""Stars and badges: pure rules over a household's monthly tallies, and the reads behind them.

Stars are re-rated for each calendar year from that year's points; a red-line deduction in
the last 12 months means no stars at all. Badges are read from the tallies of the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from credits.boards.periods import shift_months
from credits.boards.policies import (
    MAX_STARS,
    RED_LINE_MONTHS,
    Policy,
    barred,
    below_threshold,
    load_policy,
    standing_score,
    window,
)
from credits.caps import period_of
from credits.i18n import N_
from credits.models import BoardTally, PeriodTotal, Scheme

STEADY_MONTHS = 3  # consecutive months with awards and no deductions
VOLUNTEER_CATEGORY = "志愿服务"
VOLUNTEER_COUNT = 5

BADGES: dict[str, str] = {
    "first_award": N_("First award"),
    "steady": N_("Three good months in a row"),
    "volunteer": N_("Five volunteer activities"),
}


def stars_for(policy: Policy, year_points: int, category_points: Mapping[str, int]) -> int:
    """Stars a household earned in a year under the scheme's star rule (at most five)."""
    if policy.star_kind == "category":
        earned = sum(1 for v in category_points.values() if v >= policy.star_min_points)
    elif policy.star_kind == "score":
        earned = sum(1 for level in policy.star_levels if year_points >= level)
    else:
        earned = 0
    return min(earned, MAX_STARS)


@dataclass(frozen=True)
class Month:
    """One month of a household's tallies."""

    period: int
    awards: int
    deductions: int


def longest_run(months: Iterable[Month]) -> int:
    """The longest run of consecutive months with an award and no deduction."""
    good = sorted(m.period for m in months if m.awards > 0 and m.deductions <= 0)
    best = run = 0
    previous: int | None = None
    for period in good:
        run = run + 1 if previous is not None and shift_months(previous, 1) == period else 1
        best, previous = max(best, run), period
    return best


def badges_for(total_awards: int, months: Iterable[Month], volunteer_awards: int) -> list[str]:
    """Badge codes a household holds, in the order of BADGES.

    `months` are the last twelve months up to the period, `total_awards` and
    `volunteer_awards` count all awards (and volunteer ones) up to the period.
    """
    held = {
        "first_award": total_awards > 0,
        "steady": longest_run(months) >= STEADY_MONTHS,
        "volunteer": volunteer_awards >= VOLUNTEER_COUNT,
    }
    return [code for code in BADGES if held[code]]


@dataclass
class Honours:
    """Stars, badges and the red-line bar of one household up to a period."""

    stars: int = 0
    badges: list[str] = field(default_factory=list)
    barred: bool = False


def barred_households(session: Session, village_id: int, scheme_id: int, period: int) -> set[int]:
    """Households with a red-line deduction (not corrected) in the 12 months up to `period`."""
    t = BoardTally
    first = shift_months(period, -RED_LINE_MONTHS + 1)
    return set(
        session.scalars(
            select(t.household_id)
            .where(
                t.village_id == village_id,
                t.scheme_id == scheme_id,
                t.red_lines > 0,  # the red-line index: such rows are rare
                t.period + 0 >= first,
                t.period + 0 <= period,
            )
            .group_by(t.household_id)
            .having(func.sum(t.red_lines) > 0)
        )
    )


def _chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def honours(
    session: Session,
    village_id: int,
    scheme_id: int,
    policy: Policy,
    period: int,
    household_ids: Iterable[int],
) -> dict[int, Honours]:
    """Stars (the period's year), badges (up to the period) and bars of some households.

    Three grouped reads of the tallies per 500 households: rows per household are bounded
    (categories + 12 months + 1), whatever the number of entries.
    """
    t = BoardTally
    # `period + 0`: keeps SQLite on the (village, scheme, household, …) index for the
    # households asked for, instead of scanning the whole village's months by period.
    month = t.period + 0
    base = [t.village_id == village_id, t.scheme_id == scheme_id, month <= period]
    year_first = (period // 100) * 100 + 1
    run_first = shift_months(period, -11)
    result: dict[int, Honours] = {}
    for ids in _chunks(sorted(set(household_ids))):
        where = [*base, t.household_id.in_(ids)]
        year_cats: dict[int, dict[str, int]] = {}
        for hid, category, score in session.execute(
            select(t.household_id, t.category, func.sum(t.score))
            .where(*where, month >= year_first)
            .group_by(t.household_id, t.category)
        ):
            year_cats.setdefault(hid, {})[category] = int(score or 0)
        months: dict[int, list[Month]] = {}
        reds: dict[int, dict[int, int]] = {}
        for hid, p, awards, deductions, red in session.execute(
            select(
                t.household_id,
                t.period,
                func.sum(t.awards),
                func.sum(t.deductions),
                func.sum(t.red_lines),
            )
            .where(*where, month >= run_first)
            .group_by(t.household_id, t.period)
        ):
            months.setdefault(hid, []).append(Month(p, int(awards or 0), int(deductions or 0)))
            reds.setdefault(hid, {})[p] = int(red or 0)
        volunteer = case((t.category == VOLUNTEER_CATEGORY, t.awards), else_=0)
        for hid, awards, volunteered in session.execute(
            select(t.household_id, func.sum(t.awards), func.sum(volunteer))
            .where(*where)
            .group_by(t.household_id)
        ):
            is_barred = barred(reds.get(hid, {}), period)
            cats = year_cats.get(hid, {})
            stars = 0 if is_barred else stars_for(policy, sum(cats.values()), cats)
            held = badges_for(int(awards or 0), months.get(hid, []), int(volunteered or 0))
            result[hid] = Honours(stars=stars, badges=held, barred=is_barred)
    return result


@dataclass(frozen=True)
class PassbookHonours:
    """What the passbook shows of a household's honours in one scheme."""

    stars: int
    badges: list[str]  # msgids of the badge names
    standing: int | None  # base score + counted points, when the scheme has a policy
    below_threshold: bool


def passbook_honours(
    session: Session, household_id: int, scheme: Scheme, today: date
) -> PassbookHonours:
    """Stars, badges and the policy's standing score of one household in one scheme."""
    policy = load_policy(session, scheme)
    village_id, scheme_id = scheme.village_id, scheme.id
    mark = honours(session, village_id, scheme_id, policy, period_of(today), [household_id]).get(
        household_id, Honours()
    )
    standing = None
    custom = policy.base_score or policy.reset != "carry" or policy.expiry_years
    if custom or policy.threshold is not None:
        first, _ = window(policy, today)
        monthly = dict(
            session.execute(
                select(PeriodTotal.period, func.sum(PeriodTotal.score))
                .where(
                    PeriodTotal.village_id == village_id,
                    PeriodTotal.scheme_id == scheme_id,
                    PeriodTotal.household_id == household_id,
                    PeriodTotal.period >= first,
                )
                .group_by(PeriodTotal.period)
            ).all()
        )
        standing = standing_score(policy, {int(k): int(v or 0) for k, v in monthly.items()}, today)
    return PassbookHonours(
        stars=mark.stars,
        badges=[BADGES[b] for b in mark.badges],
        standing=standing,
        below_threshold=standing is not None and below_threshold(policy, standing),
    )
