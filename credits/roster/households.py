"""Roster services for households: add, change, move to a group, deactivate and reactivate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from credits import audit, clock
from credits.access import Permission, require
from credits.db import lock_row
from credits.errors import NotFound, ValidationError
from credits.i18n import N_
from credits.models import Claim, ClaimState, Group, Household, Member, User
from credits.roster.checks import (
    HEAD,
    FieldError,
    clean_all,
    clean_birth_year,
    clean_gender,
    clean_group_name,
    clean_house_number,
    clean_key,
    clean_name,
    clean_phone,
    clean_special_needs,
    clean_text,
)
from credits.search import canonical_group, refresh_search_key


@dataclass(frozen=True)
class HouseholdData:
    """A household as typed in a form; group None leaves the group alone on an edit."""

    head_name: str
    house_number: str = ""
    phone: str = ""
    special_needs: tuple[str, ...] = ()
    group: str | None = None
    head_gender: str = ""
    head_birth_year: object = None


HOUSEHOLD_FIELDS = ("head_name", "group_id", "house_number", "phone", "special_needs", "active")


def _household_snapshot(household: Household) -> dict[str, Any]:
    data = audit.snapshot(household, *HOUSEHOLD_FIELDS)
    data["group"] = household.group.name if household.group else ""
    return data


# ---- loading with scope ----


def load_household(
    session: Session, actor: User | None, household_id: int, perm: Permission
) -> Household:
    household = session.get(Household, household_id)
    if household is None:
        raise NotFound(N_("No such household."))
    if actor is not None:
        require(session, actor, perm, household.village_id)
    return household


def groups_by_canonical(session: Session, village_id: int) -> dict[str, Group]:
    """A village's groups by canonical name (an old 第一组 answers for 一组)."""
    groups = session.scalars(
        select(Group).where(Group.village_id == village_id).order_by(Group.position, Group.id)
    ).all()
    found: dict[str, Group] = {}
    for group in groups:
        found.setdefault(canonical_group(group.name), group)
    return found


def find_or_create_group(session: Session, village_id: int, name: str) -> Group | None:
    """Return the village's group of that (canonical) name, creating it; None for no name."""
    canonical = clean_group_name(name)
    if not canonical:
        return None
    existing = groups_by_canonical(session, village_id).get(canonical)
    if existing is not None:
        return existing
    last = session.scalar(select(func.max(Group.position)).where(Group.village_id == village_id))
    group = Group(village_id=village_id, name=canonical, position=(last or 0) + 1)
    session.add(group)
    session.flush()
    return group


def check_unique(
    session: Session, village_id: int, group: Group | None, head: str, house: str, skip: int | None
) -> None:
    """Refuse a second active household with the same group, head and house number."""
    query = select(Household.id).where(
        Household.village_id == village_id,
        Household.active.is_(True),
        Household.head_name == head,
        Household.house_number == house,
        Household.group_id == group.id if group else Household.group_id.is_(None),
    )
    if skip is not None:
        query = query.where(Household.id != skip)
    if session.scalar(query.limit(1)) is not None:
        raise FieldError(
            "head_name",
            N_("The household of %(head)s (house number %(house)s) is already in the roster."),
            head=head,
            house=house or "—",
        )


def _head_member(household: Household) -> Member | None:
    return next((m for m in household.members if m.active and m.relation == HEAD), None)


# ---- services: each checks permission, writes audit and commits once ----


def create_household(
    session: Session,
    *,
    actor: User,
    village_id: int,
    data: HouseholdData,
    idempotency_key: str | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Household:
    """Add a household and its head as first member; the same key returns the first."""
    require(session, actor, Permission.MANAGE, village_id)
    key = clean_key(idempotency_key)
    if key:
        existing = session.scalar(
            select(Household).where(
                Household.village_id == village_id, Household.idempotency_key == key
            )
        )
        if existing is not None:
            return existing
    today = clock.local_date(now) if now is not None else clock.today()
    values = clean_all(
        {
            "head": lambda: clean_name(data.head_name, "head_name"),
            "house": lambda: clean_house_number(data.house_number),
            "phone": lambda: clean_phone(data.phone),
            "needs": lambda: clean_special_needs(data.special_needs),
            "gender": lambda: clean_gender(data.head_gender, "head_gender"),
            "birth": lambda: clean_birth_year(data.head_birth_year, today, "head_birth_year"),
            "group": lambda: clean_group_name(data.group or ""),
        }
    )
    head, house, phone, needs = values["head"], values["house"], values["phone"], values["needs"]
    gender, birth = values["gender"], values["birth"]
    lock_row(session, "village", "id", village_id)
    group = find_or_create_group(session, village_id, data.group or "")
    check_unique(session, village_id, group, head, house, None)
    household = Household(
        village_id=village_id,
        group_id=group.id if group else None,
        head_name=head,
        house_number=house,
        phone=phone,
        special_needs=needs,
        idempotency_key=key,
    )
    session.add(household)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        first = session.scalar(
            select(Household).where(
                Household.village_id == village_id, Household.idempotency_key == key
            )
        )
        if first is None:
            raise
        return first
    session.add(
        Member(
            village_id=village_id,
            household_id=household.id,
            name=head,
            relation=HEAD,
            gender=gender,
            birth_year=birth,
        )
    )
    refresh_search_key(session, household)
    audit.log(
        session,
        "household.create",
        actor=actor,
        village_id=village_id,
        obj=household,
        ip=ip,
        after=_household_snapshot(household),
    )
    session.commit()
    return household


def update_household(
    session: Session,
    *,
    actor: User,
    household_id: int,
    data: HouseholdData,
    ip: str | None = None,
) -> Household:
    """Change a household's head name, house number, phone and special needs."""
    household = load_household(session, actor, household_id, Permission.MANAGE)
    before = _household_snapshot(household)
    values = clean_all(
        {
            "head": lambda: clean_name(data.head_name, "head_name"),
            "house": lambda: clean_house_number(data.house_number),
            "phone": lambda: clean_phone(data.phone),
            "needs": lambda: clean_special_needs(data.special_needs),
        }
    )
    head, house, phone, needs = values["head"], values["house"], values["phone"], values["needs"]
    group = household.group
    if data.group is not None:
        group = find_or_create_group(session, household.village_id, data.group)
    if household.active:
        check_unique(session, household.village_id, group, head, house, household.id)
    head_member = _head_member(household)
    if head_member is not None and head_member.name == household.head_name:
        head_member.name = head
    household.head_name = head
    household.house_number = house
    household.phone = phone
    household.special_needs = needs
    household.group_id = group.id if group else None
    household.group = group
    refresh_search_key(session, household)
    after = _household_snapshot(household)
    if after != before:
        audit.log(
            session,
            "household.update",
            actor=actor,
            village_id=household.village_id,
            obj=household,
            ip=ip,
            before=before,
            after=after,
        )
    session.commit()
    return household


def move_household(
    session: Session, *, actor: User, household_id: int, group: str, ip: str | None = None
) -> Household:
    """Move a household to another group (created when new)."""
    household = load_household(session, actor, household_id, Permission.MANAGE)
    if not clean_group_name(group):
        raise FieldError("group", N_("Choose the group to move the household to."))
    before = _household_snapshot(household)
    target = find_or_create_group(session, household.village_id, group)
    assert target is not None
    if household.active:
        check_unique(
            session,
            household.village_id,
            target,
            household.head_name,
            household.house_number,
            household.id,
        )
    household.group_id = target.id
    household.group = target
    after = _household_snapshot(household)
    if after != before:
        audit.log(
            session,
            "household.move",
            actor=actor,
            village_id=household.village_id,
            obj=household,
            ip=ip,
            before=before,
            after=after,
        )
    session.commit()
    return household


def set_household_active(
    session: Session,
    *,
    actor: User,
    household_id: int,
    active: bool,
    reason: str = "",
    ip: str | None = None,
) -> Household:
    """Deactivate a household (moved away, merged) or bring it back; nothing is deleted."""
    household = load_household(session, actor, household_id, Permission.MANAGE)
    if household.active == active:
        return household
    reason = clean_text(reason, "reason")[:200]
    if not active:
        pending = session.scalar(
            select(func.count(Claim.id)).where(
                Claim.village_id == household.village_id,
                Claim.household_id == household.id,
                Claim.state.in_((ClaimState.RECORDED, ClaimState.NOTICED)),
            )
        )
        if pending:
            raise ValidationError(
                N_(
                    "This household has %(n)s claims in review or on notice; settle them "
                    "before deactivating it."
                ),
                n=pending,
            )
    else:
        check_unique(
            session,
            household.village_id,
            household.group,
            household.head_name,
            household.house_number,
            household.id,
        )
    before = _household_snapshot(household)
    household.active = active
    after = _household_snapshot(household)
    if reason:
        after["reason"] = reason
    audit.log(
        session,
        "household.deactivate" if not active else "household.reactivate",
        actor=actor,
        village_id=household.village_id,
        obj=household,
        ip=ip,
        before=before,
        after=after,
    )
    session.commit()
    return household
