"""Stars and badges: pure rules over a household's monthly tallies, and the reads behind them.

Stars are re-rated for each calendar year from that year's points; a red-line deduction in
the last 12 months means no stars at all. Badges are read from the tallies of the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits.boards.periods import shift_months
from credits.boards.policies import (
    MAX_STARS,
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


def badges_for(months: Iterable[Month], category_awards: Mapping[str, int]) -> list[str]:
    """Badge codes a household holds, in the order of BADGES."""
    months = list(months)
    held = set()
    if sum(m.awards for m in months) > 0:
        held.add("first_award")
    if longest_run(months) >= STEADY_MONTHS:
        held.add("steady")
    if category_awards.get(VOLUNTEER_CATEGORY, 0) >= VOLUNTEER_COUNT:
        held.add("volunteer")
    return [code for code in BADGES if code in held]


@dataclass
class Honours:
    """Stars, badges and the red-line bar of one household up to a period."""

    stars: int = 0
    badges: list[str] = field(default_factory=list)
    barred: bool = False


def honours(
    session: Session,
    village_id: int,
    scheme_id: int,
    policy: Policy,
    period: int,
    household_ids: Iterable[int] | None = None,
) -> dict[int, Honours]:
    """Stars (the period's year), badges (up to the period) and bars, per household.

    One grouped read of the tallies: it grows with households × months, not entries.
    """
    t = BoardTally
    where = [t.village_id == village_id, t.scheme_id == scheme_id, t.period <= period]
    if household_ids is not None:
        where.append(t.household_id.in_(list(household_ids)))
    rows = session.execute(
        select(
            t.household_id,
            t.period,
            t.category,
            func.sum(t.score),
            func.sum(t.awards),
            func.sum(t.deductions),
            func.sum(t.red_lines),
        )
        .where(*where)
        .group_by(t.household_id, t.period, t.category)
    )
    year_first = (period // 100) * 100 + 1
    monthly: dict[int, dict[int, list[int]]] = {}
    cats: dict[int, dict[str, int]] = {}
    cat_awards: dict[int, dict[str, int]] = {}
    reds: dict[int, dict[int, int]] = {}
    for hid, p, category, score, awards, deductions, red in rows:
        month = monthly.setdefault(hid, {}).setdefault(p, [0, 0])
        month[0] += int(awards or 0)
        month[1] += int(deductions or 0)
        ca = cat_awards.setdefault(hid, {})
        ca[category] = ca.get(category, 0) + int(awards or 0)
        if p >= year_first:
            c = cats.setdefault(hid, {})
            c[category] = c.get(category, 0) + int(score or 0)
        if red:
            r = reds.setdefault(hid, {})
            r[p] = r.get(p, 0) + int(red)
    result: dict[int, Honours] = {}
    for hid, months in monthly.items():
        is_barred = barred(reds.get(hid, {}), period)
        year_cats = cats.get(hid, {})
        stars = 0 if is_barred else stars_for(policy, sum(year_cats.values()), year_cats)
        badges = badges_for(
            [Month(p, a, d) for p, (a, d) in months.items()], cat_awards.get(hid, {})
        )
        result[hid] = Honours(stars=stars, badges=badges, barred=is_barred)
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
