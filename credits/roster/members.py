"""Roster services for members: add, change, mark as gone or back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from credits import audit, clock
from credits.access import Permission, require
from credits.errors import NotFound, ValidationError
from credits.i18n import N_
from credits.models import Household, Member, User
from credits.roster.checks import (
    HEAD,
    FieldError,
    clean_all,
    clean_birth_year,
    clean_gender,
    clean_key,
    clean_name,
    clean_phone,
    clean_relation,
)
from credits.roster.households import check_unique, load_household
from credits.search import refresh_search_key

MEMBER_FIELDS = ("household_id", "name", "relation", "gender", "birth_year", "phone", "active")


@dataclass(frozen=True)
class MemberData:
    """A member as typed in a form."""

    name: str
    relation: str = ""
    gender: str = ""
    birth_year: object = None
    phone: str = ""


def _member(session: Session, actor: User, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(N_("No such member."))
    require(session, actor, Permission.MANAGE, member.village_id)
    return member


def _clean_member(data: MemberData, today: date) -> dict[str, Any]:
    return clean_all(
        {
            "name": lambda: clean_name(data.name),
            "relation": lambda: clean_relation(data.relation),
            "gender": lambda: clean_gender(data.gender),
            "birth_year": lambda: clean_birth_year(data.birth_year, today),
            "phone": lambda: clean_phone(data.phone),
        }
    )


def _check_member_name(household: Household, name: str, skip: int | None) -> None:
    for other in household.members:
        if other.active and other.id != skip and other.name == name:
            raise FieldError(
                "name", N_("%(name)s is already a member of this household."), name=name
            )


def add_member(
    session: Session,
    *,
    actor: User,
    household_id: int,
    data: MemberData,
    idempotency_key: str | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Member:
    """Add a member to a household; the same key returns the first."""
    household = load_household(session, actor, household_id, Permission.MANAGE)
    key = clean_key(idempotency_key)
    if key:
        existing = session.scalar(
            select(Member).where(
                Member.village_id == household.village_id, Member.idempotency_key == key
            )
        )
        if existing is not None:
            return existing
    values = _clean_member(data, clock.local_date(now) if now is not None else clock.today())
    if values["relation"] == HEAD:
        raise FieldError(
            "relation",
            N_("A household has one head; change the head's name in the household form."),
        )
    _check_member_name(household, values["name"], None)
    member = Member(
        village_id=household.village_id, household_id=household.id, idempotency_key=key, **values
    )
    session.add(member)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        first = session.scalar(
            select(Member).where(
                Member.village_id == household.village_id, Member.idempotency_key == key
            )
        )
        if first is None:
            raise
        return first
    refresh_search_key(session, household)
    audit.log(
        session,
        "member.create",
        actor=actor,
        village_id=household.village_id,
        obj=member,
        ip=ip,
        after=audit.snapshot(member, *MEMBER_FIELDS),
    )
    session.commit()
    return member


def update_member(
    session: Session,
    *,
    actor: User,
    member_id: int,
    data: MemberData,
    ip: str | None = None,
    now: datetime | None = None,
) -> Member:
    """Change a member; renaming the head renames the household's head too."""
    member = _member(session, actor, member_id)
    household = member.household
    values = _clean_member(data, clock.local_date(now) if now is not None else clock.today())
    is_head = member.relation == HEAD
    if values["relation"] == HEAD and not is_head:
        raise FieldError(
            "relation",
            N_("A household has one head; change the head's name in the household form."),
        )
    if is_head and values["relation"] != HEAD:
        raise FieldError("relation", N_("The head's relation stays 户主."))
    if member.active:
        _check_member_name(household, values["name"], member.id)
    before = audit.snapshot(member, *MEMBER_FIELDS)
    if is_head and household.head_name == member.name and values["name"] != member.name:
        if household.active:
            check_unique(
                session,
                household.village_id,
                household.group,
                values["name"],
                household.house_number,
                household.id,
            )
        household.head_name = values["name"]
    for name, value in values.items():
        setattr(member, name, value)
    refresh_search_key(session, household)
    after = audit.snapshot(member, *MEMBER_FIELDS)
    if after != before:
        audit.log(
            session,
            "member.update",
            actor=actor,
            village_id=member.village_id,
            obj=member,
            ip=ip,
            before=before,
            after=after,
        )
    session.commit()
    return member


def set_member_active(
    session: Session, *, actor: User, member_id: int, active: bool, ip: str | None = None
) -> Member:
    """Mark a member as gone (moved out, deceased) or back; the head stays."""
    member = _member(session, actor, member_id)
    if member.active == active:
        return member
    if not active and member.relation == HEAD:
        raise ValidationError(
            N_("The head of a household cannot be removed; deactivate the household instead.")
        )
    if active:
        _check_member_name(member.household, member.name, member.id)
    before = audit.snapshot(member, *MEMBER_FIELDS)
    member.active = active
    refresh_search_key(session, member.household)
    audit.log(
        session,
        "member.deactivate" if not active else "member.reactivate",
        actor=actor,
        village_id=member.village_id,
        obj=member,
        ip=ip,
        before=before,
        after=audit.snapshot(member, *MEMBER_FIELDS),
    )
    session.commit()
    return member
