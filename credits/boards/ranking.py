"""Leaderboards: the rank rule (pure) and boards read from the per-period totals.

A board costs O(households) (or O(members)): points come from PeriodTotal, deductions
and member points from BoardTally, both kept at posting; ledger entries are never read,
except the few deductions the black board names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from credits.boards.periods import ALL_TIME, PeriodSpec
from credits.boards.policies import Policy, window
from credits.boards.stars import Honours, barred_households, honours
from credits.caps import period_of
from credits.models import (
    Account,
    Balance,
    BoardTally,
    EntryKind,
    Group,
    Household,
    LedgerEntry,
    Member,
    PeriodTotal,
)
from credits.privacy import mask_name

WHO = ("households", "members")
_DIGITS = re.compile(r"(\d+)")


def house_key(house_number: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key of a house number in natural order: 2号 before 10号."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in _DIGITS.split(house_number or "")
        if part
    )


@dataclass(frozen=True)
class Line:
    """One household (or member) on a board."""

    key: int  # household id (or member id)
    name: str
    house_number: str = ""
    group_name: str = ""
    points: int = 0
    deductions: int = 0  # number of deductions in the period, net of corrections
    household_id: int = 0
    rank: int = 0
    stars: int = 0
    badges: tuple[str, ...] = ()
    barred: bool = False


def rank_lines(lines: Sequence[Line]) -> list[Line]:
    """Rank lines by points, highest first, with standard competition ranking (1, 1, 3).

    Tie-break: equal points share a rank and the next rank skips as many places as
    shared it; a tie is never broken for the rank itself. Within equal points the
    display order is fewer deductions first, then house number in natural order
    (2号 before 10号), then name, then id, so the order is stable.
    """
    ordered = sorted(
        lines,
        key=lambda ln: (-ln.points, ln.deductions, house_key(ln.house_number), ln.name, ln.key),
    )
    ranked: list[Line] = []
    for position, line in enumerate(ordered, start=1):
        rank = ranked[-1].rank if ranked and ranked[-1].points == line.points else position
        ranked.append(replace(line, rank=rank))
    return ranked


@dataclass
class Board:
    """A ranked board with what it was asked for."""

    spec: PeriodSpec
    who: str
    group_id: int | None
    category: str | None
    lines: list[Line] = field(default_factory=list)
    households: int = 0  # how many households were ranked

    @property
    def active(self) -> list[Line]:
        """Lines with points or deductions: the ones worth printing."""
        return [ln for ln in self.lines if ln.points or ln.deductions]


def effective_range(spec: PeriodSpec, policy: Policy, today: date) -> tuple[int, int]:
    """Months a board sums: the period, or for all time the policy's window (reset, expiry)."""
    if spec.kind == "all":
        return window(policy, today)
    return spec.first, spec.last


def board(
    session: Session,
    village_id: int,
    scheme_id: int,
    spec: PeriodSpec,
    policy: Policy,
    *,
    today: date,
    who: str = "households",
    group_id: int | None = None,
    category: str | None = None,
    decorate: int | None = 100,
) -> Board:
    """Rank every active household (or member with points) of a village for a period.

    Stars and badges are read for the first `decorate` lines (None: all); the red-line
    bar for every line. Reads grow with households, never with ledger entries.
    """
    first, last = effective_range(spec, policy, today)
    homes = session.execute(
        select(Household.id, Household.head_name, Household.house_number, Group.name)
        .outerjoin(Group, Group.id == Household.group_id)
        .where(
            Household.village_id == village_id,
            Household.active.is_(True),
            *([Household.group_id == group_id] if group_id is not None else []),
        )
    ).all()
    info = {hid: (name, house or "", grp or "") for hid, name, house, grp in homes}
    t = BoardTally
    tally_where = [t.village_id == village_id, t.scheme_id == scheme_id]
    # Over all time, `+ 0` sends SQLite to the deductions index (rare rows), not the months.
    month = t.period + 0 if spec.kind == "all" else t.period
    tally_where += [month >= first, month <= last]
    if category:
        tally_where.append(t.category == category)
    deductions = dict(
        session.execute(
            select(t.household_id, func.sum(t.deductions))
            .where(*tally_where)
            .group_by(t.household_id)
        ).all()
    )
    upto = min(last, period_of(today)) if spec.kind == "all" else last
    bars = barred_households(session, village_id, scheme_id, upto)
    result = Board(spec=spec, who=who, group_id=group_id, category=category)
    if who == "members":
        result.lines = rank_lines(_member_lines(session, tally_where, info, bars))
        result.households = len(info)
        return result
    points = _points(session, village_id, scheme_id, first, last, category, policy, spec)
    lines = rank_lines(
        [
            Line(
                key=hid,
                name=name,
                house_number=house,
                group_name=grp,
                points=int(points.get(hid) or 0),
                deductions=int(deductions.get(hid) or 0),
                household_id=hid,
                barred=hid in bars,
            )
            for hid, (name, house, grp) in info.items()
        ]
    )
    shown = [ln for ln in lines if ln.points or ln.deductions]
    chosen = shown if decorate is None else shown[:decorate]
    marks = honours(session, village_id, scheme_id, policy, upto, [ln.key for ln in chosen])
    result.lines = [_decorated(ln, marks.get(ln.key)) for ln in lines]
    result.households = len(lines)
    return result


def _points(
    session: Session,
    village_id: int,
    scheme_id: int,
    first: int,
    last: int,
    category: str | None,
    policy: Policy,
    spec: PeriodSpec,
) -> dict[int, int]:
    """Points per household in a range of months, from the per-period totals.

    All time under carry-over with no expiry is every point ever earned: the balance's
    score, one row per household.
    """
    if spec.kind == "all" and not category and policy.reset == "carry" and not policy.expiry_years:
        rows = session.execute(
            select(Account.household_id, Balance.score)
            .join(Balance, Balance.account_id == Account.id)
            .where(Account.village_id == village_id, Account.scheme_id == scheme_id)
        )
        return {hid: int(score or 0) for hid, score in rows}
    p = PeriodTotal
    where = [p.village_id == village_id, p.scheme_id == scheme_id, p.period >= first]
    where.append(p.period <= last)
    if category:
        where.append(p.category == category)
    rows = session.execute(
        select(p.household_id, func.sum(p.score)).where(*where).group_by(p.household_id)
    )
    return {hid: int(score or 0) for hid, score in rows}


def _decorated(line: Line, mark: Honours | None) -> Line:
    if mark is None:
        return line
    return replace(line, stars=mark.stars, badges=tuple(mark.badges))


def _member_lines(
    session: Session,
    tally_where: list,  # type: ignore[type-arg]
    info: dict[int, tuple[str, str, str]],
    bars: set[int],
) -> list[Line]:
    t = BoardTally
    rows = session.execute(
        select(t.member_id, t.household_id, func.sum(t.score), func.sum(t.deductions))
        .where(*tally_where, t.member_id != 0)
        .group_by(t.member_id, t.household_id)
    ).all()
    ids = [r[0] for r in rows if r[1] in info]
    names = dict(session.execute(select(Member.id, Member.name).where(Member.id.in_(ids))).all())
    lines = []
    for mid, hid, score, deds in rows:
        if hid not in info or mid not in names:
            continue
        _, house, grp = info[hid]
        lines.append(
            Line(
                key=mid,
                name=names[mid],
                house_number=house,
                group_name=grp,
                points=int(score or 0),
                deductions=int(deds or 0),
                household_id=hid,
                barred=hid in bars,
            )
        )
    return lines


def red_board(full: Board, policy: Policy, top: int = 10) -> list[Line]:
    """The red board: the best lines with points, none under a red-line bar."""
    lines = [ln for ln in full.lines if ln.points > 0 and not ln.barred][:top]
    if policy.mask_red_names:
        lines = [replace(ln, name=mask_name(ln.name)) for ln in lines]
    return lines


@dataclass(frozen=True)
class BlackLine:
    """One deduction on the black board: a masked name and the rule broken, nothing more."""

    name: str
    rule: str


def black_board(
    session: Session, village_id: int, scheme_id: int, spec: PeriodSpec, *, limit: int = 50
) -> list[BlackLine]:
    """Deductions of the period not corrected since, with masked names (newest first)."""
    if spec is ALL_TIME:
        return []
    reversal = aliased(LedgerEntry)
    corrected = select(reversal.id).where(reversal.reverses_id == LedgerEntry.id).exists()
    rows = session.execute(
        select(Household.head_name, LedgerEntry.title)
        .join(Household, Household.id == LedgerEntry.household_id)
        .where(
            LedgerEntry.village_id == village_id,
            LedgerEntry.scheme_id == scheme_id,
            LedgerEntry.kind == EntryKind.DEDUCTION,
            LedgerEntry.period >= spec.first,
            LedgerEntry.period <= spec.last,
            ~corrected,
        )
        .order_by(LedgerEntry.seq.desc())
        .limit(limit)
    )
    return [BlackLine(mask_name(name), title) for name, title in rows]
