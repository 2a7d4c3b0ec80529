"""Public notice (公示): the read-only board — claims on notice, decisions, corrections.

Raising and deciding objections lives in `credits.objections`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from credits.entries import staff_names
from credits.errors import NotFound
from credits.i18n import N_
from credits.ledger import head_code
from credits.models import (
    Claim,
    ClaimState,
    Group,
    Household,
    Objection,
    ObjectionState,
    User,
    Village,
)
from credits.notice_corrections import CorrectionItem, recent_corrections
from credits.objections import (
    DecidedItem,
    ObjectionView,
    Outcome,
    check_open_to_objections,
    decided_objections,
    may_see_objector,
    objection_views,
    open_objections,
    outcomes_of,
    recent_outcomes,
)
from credits.privacy import mask_name


def _house_key(house_number: str) -> tuple[int, str]:
    """Sort 2号 before 10号: the first number in a house number, then the text."""
    match = re.search(r"\d+", house_number or "")
    return (int(match.group()) if match else 1 << 30, house_number or "")


# ---- what the notice board shows ----------------------------------------------------


@dataclass(frozen=True)
class NoticeItem:
    """One claim on public notice, with nothing personal beyond a masked name."""

    claim_id: int
    scheme_id: int
    scheme_name: str
    household: str  # the head's masked name
    house_number: str
    group_name: str
    member: str  # masked name of the member who did the deed, or ""
    category: str
    rule_title: str
    points: int
    deed_date: date
    notice_start: datetime  # stored time (naive UTC); printouts convert with to_local
    notice_end: datetime
    recorder: str  # staff display name (printed on the sheet)
    held: bool  # an open objection holds it
    outcomes: tuple[Outcome, ...] = ()  # the committee's decisions on objections to it
    is_correction: bool = False  # 更正: the claim reverses a posted entry (points negated)
    reason: str = ""  # a correction's reason, shown publicly with it


@dataclass
class NoticeBoard:
    """The claims on notice and the recent corrections of a village (or scheme, or group)."""

    items: list[NoticeItem] = field(default_factory=list)
    corrections: list[CorrectionItem] = field(default_factory=list)
    decided: list[DecidedItem] = field(default_factory=list)  # published outcomes
    ledger_code: str = ""
    # Notice over, no objection, not yet posted by `post-due`: shown as 待入账.
    due: list[NoticeItem] = field(default_factory=list)

    @property
    def window(self) -> tuple[datetime, datetime] | None:
        """The first notice start and the last notice end (stored UTC), if any."""
        if not self.items:
            return None
        return (
            min(i.notice_start for i in self.items),
            max(i.notice_end for i in self.items),
        )

    def for_scheme(self, scheme_id: int) -> list[NoticeItem]:
        return [i for i in self.items if i.scheme_id == scheme_id]


def _open_objection_exists(village_id: int) -> Any:
    return (
        select(Objection.id)
        .where(
            Objection.village_id == village_id,
            Objection.claim_id == Claim.id,
            Objection.state == ObjectionState.OPEN,
        )
        .exists()
    )


def claims_in_notice(
    session: Session,
    village_id: int,
    *,
    now: datetime,
    scheme_id: int | None = None,
    group_id: int | None = None,
) -> list[Claim]:
    """Return claims in their notice window, or past it but held by an open objection."""
    window = or_(Claim.notice_until > now, _open_objection_exists(village_id))
    return _noticed_claims(session, village_id, window, scheme_id, group_id)


def claims_awaiting_posting(
    session: Session,
    village_id: int,
    *,
    now: datetime,
    scheme_id: int | None = None,
    group_id: int | None = None,
) -> list[Claim]:
    """Return claims whose notice ended unopposed and that `post-due` has not posted yet."""
    due = and_(Claim.notice_until <= now, ~_open_objection_exists(village_id))
    return _noticed_claims(session, village_id, due, scheme_id, group_id)


def _noticed_claims(
    session: Session,
    village_id: int,
    condition: Any,
    scheme_id: int | None,
    group_id: int | None,
) -> list[Claim]:
    """Return a village's noticed claims meeting `condition`, in board order."""
    query = (
        select(Claim)
        .where(
            Claim.village_id == village_id,
            Claim.state == ClaimState.NOTICED,
            condition,
        )
        .options(
            selectinload(Claim.household).selectinload(Household.group),
            selectinload(Claim.member),
            selectinload(Claim.rule_version),
            selectinload(Claim.recorded_by),
            selectinload(Claim.scheme),
            selectinload(Claim.objections),
        )
    )
    if scheme_id is not None:
        query = query.where(Claim.scheme_id == scheme_id)
    if group_id is not None:
        query = query.join(Household, Household.id == Claim.household_id).where(
            Household.group_id == group_id
        )
    claims = list(session.scalars(query))

    def key(c: Claim) -> tuple[Any, ...]:
        group = c.household.group
        return (
            c.scheme_id,
            group.position if group else 1 << 30,
            _house_key(c.household.house_number),
            c.household_id,
            c.deed_date,
            c.id,
        )

    return sorted(claims, key=key)


def _notice_item(claim: Claim) -> NoticeItem:
    assert claim.notice_until is not None
    household = claim.household
    return NoticeItem(
        claim_id=claim.id,
        scheme_id=claim.scheme_id,
        scheme_name=claim.scheme.name,
        household=mask_name(household.head_name),
        house_number=household.house_number,
        group_name=household.group.name if household.group else "",
        member=mask_name(claim.member.name) if claim.member else "",
        category=claim.rule_version.category,
        rule_title=claim.rule_version.title,
        points=claim.points,
        deed_date=claim.deed_date,
        notice_start=claim.reviewed_at or claim.recorded_at,
        notice_end=claim.notice_until,
        recorder=claim.recorded_by.display_name if claim.recorded_by else "",
        held=any(o.state == ObjectionState.OPEN for o in claim.objections),
        outcomes=outcomes_of(claim.objections),
        is_correction=claim.is_correction,
        reason=claim.note if claim.is_correction else "",
    )


def public_notice(
    session: Session,
    village_id: int,
    scheme_id: int | None = None,
    group_id: int | None = None,
    *,
    now: datetime,
) -> NoticeBoard:
    """Return what the public notice page shows: masked claims, decisions and corrections."""
    claims = claims_in_notice(session, village_id, now=now, scheme_id=scheme_id, group_id=group_id)
    return NoticeBoard(
        items=[_notice_item(c) for c in claims],
        corrections=recent_corrections(
            session, village_id, now=now, scheme_id=scheme_id, group_id=group_id
        ),
        decided=recent_outcomes(
            session, village_id, now=now, scheme_id=scheme_id, group_id=group_id
        ),
    )


def notice_board(
    session: Session,
    village_id: int,
    scheme_id: int | None = None,
    group_id: int | None = None,
    *,
    now: datetime,
) -> NoticeBoard:
    """Return the public board with the claims awaiting posting and the ledger code (reads only).

    Due claims post from the `post-due` command, never from a page view (DESIGN §4.10).
    """
    board = public_notice(session, village_id, scheme_id, group_id, now=now)
    due = claims_awaiting_posting(
        session, village_id, now=now, scheme_id=scheme_id, group_id=group_id
    )
    board.due = [_notice_item(c) for c in due]
    board.ledger_code = head_code(session, village_id)
    return board


@dataclass
class StaffNotice:
    """What staff see on the notice page: full names, objections to decide.

    Who objected is shown to reviewers only (`show_objector`).
    """

    claims: list[Claim]
    open_objections: list[ObjectionView]
    decided: list[ObjectionView]
    staff: dict[int, str]  # display names of the staff named on the page
    show_objector: bool = False
    due: list[Claim] = field(default_factory=list)  # notice over, not yet posted (待入账)


def staff_notice(
    session: Session,
    village_id: int,
    *,
    now: datetime,
    viewer: User,
    scheme_id: int | None = None,
    group_id: int | None = None,
) -> StaffNotice:
    """Return the claims on notice, those awaiting posting and the objections, for staff."""
    claims = claims_in_notice(session, village_id, now=now, scheme_id=scheme_id, group_id=group_id)
    due = claims_awaiting_posting(
        session, village_id, now=now, scheme_id=scheme_id, group_id=group_id
    )
    pending = open_objections(session, village_id)
    decided = decided_objections(session, village_id, now=now)
    staff = staff_names(
        session,
        {o.received_by_id for o in pending + decided} | {o.resolved_by_id for o in decided},
    )
    show = may_see_objector(viewer)
    return StaffNotice(
        claims,
        objection_views(pending, show_objector=show),
        objection_views(decided, show_objector=show),
        staff,
        show,
        due,
    )


def public_village(session: Session, code: str) -> Village | None:
    """Return the village of a public address, or None."""
    if not code or len(code) > 32:
        return None
    return session.scalar(select(Village).where(Village.code == code))


def item_to_object(
    session: Session, village_id: int, claim_id: int, *, now: datetime
) -> NoticeItem:
    """Return the masked notice item of a claim that may still be objected to."""
    claim = session.get(Claim, claim_id)
    if claim is None or claim.village_id != village_id:
        raise NotFound(N_("No such claim."))
    check_open_to_objections(claim, now)
    return _notice_item(claim)


def find_group(session: Session, village_id: int, name: str) -> Group:
    """Return a village's group by its name."""
    group = session.scalar(
        select(Group).where(Group.village_id == village_id, Group.name == name.strip())
    )
    if group is None:
        raise NotFound(N_("This village has no group named %(name)s."), name=name)
    return group
