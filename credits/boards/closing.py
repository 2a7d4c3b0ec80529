"""Period close: an admin fixes a month's or quarter's ranking with the ledger head.

The honour roll prints from these rows only, so it never changes after closing; a later
correction changes the live boards of the period it posts in, never a closed record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, require
from credits.boards.periods import last_day, parse_period
from credits.boards.policies import load_policy
from credits.boards.ranking import board, rank_lines
from credits.clock import local_date
from credits.db import utcnow
from credits.errors import InvalidState, NotFound, ValidationError
from credits.i18n import N_
from credits.ledger import GENESIS, short_code
from credits.models import (
    ChainHead,
    ClosedPeriod,
    ClosedStanding,
    PeriodTotal,
    Rule,
    Scheme,
    User,
)

CATEGORY_WINNERS = 3  # lines kept per category


def close_period(
    session: Session,
    *,
    actor: User,
    scheme_id: int,
    label: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> ClosedPeriod:
    """Close a month or quarter of a scheme that has ended; refuse closing it twice."""
    now = now or utcnow()
    scheme = session.get(Scheme, scheme_id)
    if scheme is None:
        raise NotFound()
    require(session, actor, Permission.MANAGE, scheme.village_id)
    spec = parse_period(label)
    if spec.kind not in ("month", "quarter"):
        raise ValidationError(N_("Only a month or a quarter can be closed."))
    if last_day(spec) >= local_date(now):
        raise ValidationError(N_("A period can be closed once it has ended."))
    exists = session.scalar(
        select(ClosedPeriod.id).where(
            ClosedPeriod.village_id == scheme.village_id,
            ClosedPeriod.scheme_id == scheme.id,
            ClosedPeriod.label == spec.label,
        )
    )
    if exists:
        raise InvalidState(N_("This period is already closed."))
    policy = load_policy(session, scheme)
    head = session.get(ChainHead, scheme.village_id)
    closed = ClosedPeriod(
        village_id=scheme.village_id,
        scheme_id=scheme.id,
        label=spec.label,
        kind=spec.kind,
        first=spec.first,
        last=spec.last,
        closed_at=now,
        closed_by_id=actor.id,
        head_seq=head.seq if head else 0,
        head_code=short_code(head.hash if head else GENESIS),
        committee=policy.committee,
    )
    session.add(closed)
    session.flush()
    today = local_date(now)
    overall = board(session, scheme.village_id, scheme.id, spec, policy, today=today, decorate=None)
    closed.households = overall.households
    rows = [("", line) for line in overall.lines if line.points > 0]
    for category in _categories(session, scheme, spec.first, spec.last):
        cat = board(
            session, scheme.village_id, scheme.id, spec, policy, today=today, category=category
        )
        winners = [ln for ln in cat.lines if ln.points > 0 and not ln.barred]
        rows += [(category, ln) for ln in rank_lines(winners)[:CATEGORY_WINNERS]]
    positions: dict[str, int] = {}
    for category, line in rows:
        positions[category] = positions.get(category, 0) + 1
        session.add(
            ClosedStanding(
                village_id=scheme.village_id,
                closed_id=closed.id,
                category=category,
                position=positions[category],
                rank=line.rank,
                household_id=line.household_id,
                head_name=line.name,
                house_number=line.house_number,
                group_name=line.group_name,
                points=line.points,
                deductions=line.deductions,
                stars=line.stars,
                barred=line.barred,
            )
        )
    audit.log(
        session,
        "period.close",
        actor=actor,
        village_id=scheme.village_id,
        obj=closed,
        ip=ip,
        at=now,
        after={"label": spec.label, "head_seq": closed.head_seq, "head_code": closed.head_code},
    )
    session.commit()
    return closed


def _categories(session: Session, scheme: Scheme, first: int, last: int) -> list[str]:
    """Award categories of the scheme, in catalogue order, that earned points in the range."""
    earned = set(
        session.scalars(
            select(PeriodTotal.category)
            .where(
                PeriodTotal.village_id == scheme.village_id,
                PeriodTotal.scheme_id == scheme.id,
                PeriodTotal.period >= first,
                PeriodTotal.period <= last,
                PeriodTotal.score > 0,
            )
            .distinct()
        )
    )
    ordered = session.scalars(
        select(Rule.category)
        .where(Rule.village_id == scheme.village_id, Rule.scheme_id == scheme.id, Rule.points > 0)
        .order_by(Rule.position, Rule.id)
    )
    return [c for c in dict.fromkeys(ordered) if c in earned]


@dataclass(frozen=True)
class ClosedBoard:
    """A closed period as the honour roll and exports read it."""

    closed: ClosedPeriod
    village_name: str
    village_code: str
    scheme_name: str
    scheme_key: str
    unit: str
    overall: list[ClosedStanding]
    categories: dict[str, list[ClosedStanding]]

    @property
    def closed_on(self) -> date:
        return local_date(self.closed.closed_at)


def closed_periods(
    session: Session, village_id: int, scheme_id: int | None = None
) -> list[ClosedPeriod]:
    """Closed periods of a village, newest first."""
    query = select(ClosedPeriod).where(ClosedPeriod.village_id == village_id)
    if scheme_id is not None:
        query = query.where(ClosedPeriod.scheme_id == scheme_id)
    return list(session.scalars(query.order_by(ClosedPeriod.last.desc(), ClosedPeriod.id.desc())))


def find_closed(session: Session, village_id: int, scheme_key: str, label: str) -> ClosedPeriod:
    """The closed period of a scheme by its label, or NotFound."""
    spec = parse_period(label)
    closed = session.scalar(
        select(ClosedPeriod)
        .join(Scheme, Scheme.id == ClosedPeriod.scheme_id)
        .where(
            ClosedPeriod.village_id == village_id,
            Scheme.key == scheme_key,
            ClosedPeriod.label == spec.label,
        )
    )
    if closed is None:
        raise NotFound(N_("The period %(label)s of this scheme is not closed."), label=spec.label)
    return closed


def closed_board(session: Session, village_id: int, closed_id: int) -> ClosedBoard:
    """Read a closed period's fixed rows."""
    closed = session.get(ClosedPeriod, closed_id)
    if closed is None or closed.village_id != village_id:
        raise NotFound()
    scheme = session.get(Scheme, closed.scheme_id)
    assert scheme is not None
    rows = list(
        session.scalars(
            select(ClosedStanding)
            .where(ClosedStanding.village_id == village_id, ClosedStanding.closed_id == closed.id)
            .order_by(ClosedStanding.id)
        )
    )
    categories: dict[str, list[ClosedStanding]] = {}
    for row in rows:
        if row.category:
            categories.setdefault(row.category, []).append(row)
    return ClosedBoard(
        closed=closed,
        village_name=scheme.village.name,
        village_code=scheme.village.code,
        scheme_name=scheme.name,
        scheme_key=scheme.key,
        unit=scheme.unit,
        overall=[r for r in rows if not r.category],
        categories=categories,
    )
