"""Importing a previewed roster: every household and member in one transaction, or nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, require
from credits.db import lock_row
from credits.models import Group, Household, Member, User, Village
from credits.roster import find_or_create_group
from credits.roster_import.plan import PlannedHousehold, PlannedMember, Preview, RosterHasErrors
from credits.roster_import.preview import preview
from credits.roster_import.read import RosterSource, read_bytes
from credits.search import set_keys


def import_roster(
    session: Session,
    actor: User | None,
    village: Village,
    file: RosterSource,
    *,
    filename: str = "",
    ip: str | None = None,
    progress: Callable[[int], None] | None = None,
    today: date | None = None,
) -> Preview:
    """Import a roster file in one transaction; refuse the whole file if it has errors.

    actor None means an operator at the command line. Returns the preview that was applied.
    """
    if actor is not None:
        require(session, actor, Permission.RECORD, village.id)
    data, name = read_bytes(file)
    # Serialise imports of one village: a second identical import then changes nothing.
    lock_row(session, "village", "id", village.id)
    plan = preview(session, village, data, filename=filename or name, today=today)
    if plan.errors:
        session.rollback()
        raise RosterHasErrors(n=len(plan.errors))
    if not plan.changes_anything:
        session.rollback()
        return plan
    try:
        _apply(session, actor, village, plan, ip, progress)
    except Exception:
        session.rollback()
        raise
    session.commit()
    return plan


def _apply(
    session: Session,
    actor: User | None,
    village: Village,
    plan: Preview,
    ip: str | None,
    progress: Callable[[int], None] | None,
) -> None:
    groups: dict[str, Group | None] = {}

    def group_for(name: str) -> Group | None:
        if name not in groups:
            groups[name] = find_or_create_group(session, village.id, name)
        return groups[name]

    actor_name = None if actor is not None else "import-roster"
    for planned in plan.households:
        if planned.action == "create":
            _create(session, actor, actor_name, village, planned, group_for(planned.group), ip)
        elif planned.action == "update":
            _update(session, actor, actor_name, planned, group_for, ip)
        if progress is not None:
            progress(1)
    audit.log(
        session,
        "roster.import",
        actor=actor,
        actor_name=actor_name,
        village_id=village.id,
        ip=ip,
        after={"file": plan.filename, "sha256": plan.digest, **plan.summary()},
    )


def _create(
    session: Session,
    actor: User | None,
    actor_name: str | None,
    village: Village,
    planned: PlannedHousehold,
    group: Group | None,
    ip: str | None,
) -> None:
    household = Household(
        village_id=village.id,
        group_id=group.id if group else None,
        head_name=planned.head_name,
        house_number=planned.house_number,
        phone=planned.phone,
        special_needs=planned.special_needs or "",
    )
    session.add(household)
    session.flush()
    for member in planned.members:
        session.add(_new_member(household, member))
    set_keys(household, [m.name for m in planned.members])
    audit.log(
        session,
        "household.import",
        actor=actor,
        actor_name=actor_name,
        village_id=village.id,
        obj=household,
        ip=ip,
        after={
            "head_name": household.head_name,
            "group": group.name if group else "",
            "house_number": household.house_number,
            "phone": household.phone,
            "special_needs": household.special_needs,
            "members": [m.name for m in planned.members],
            "lines": planned.lines,
        },
    )


def _update(
    session: Session,
    actor: User | None,
    actor_name: str | None,
    planned: PlannedHousehold,
    group_for: Callable[[str], Group | None],
    ip: str | None,
) -> None:
    household = session.get(Household, planned.household_id)
    assert household is not None
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, (old, new) in planned.changes.items():
        before[name], after[name] = old, new
        if name == "group":
            group = group_for(new)
            household.group_id = group.id if group else None
            household.group = group
        else:
            setattr(household, name, new)
    created, updated = [], []
    for member in planned.members:
        if member.action == "create":
            session.add(_new_member(household, member))
            created.append(member.name)
        elif member.action == "update":
            current = session.get(Member, member.member_id)
            assert current is not None
            for name, (_old, new) in member.changes.items():
                setattr(current, name, new)
            updated.append({"name": member.name, **{k: v for k, v in member.changes.items()}})
    session.flush()
    names = session.scalars(
        select(Member.name)
        .where(Member.household_id == household.id, Member.active.is_(True))
        .order_by(Member.id)
    ).all()
    set_keys(household, names)
    if created:
        after["members_added"] = created
    if updated:
        after["members_changed"] = updated
    after["lines"] = planned.lines
    audit.log(
        session,
        "household.import_update",
        actor=actor,
        actor_name=actor_name,
        village_id=household.village_id,
        obj=household,
        ip=ip,
        before=before,
        after=after,
    )


def _new_member(household: Household, member: PlannedMember) -> Member:
    return Member(
        village_id=household.village_id,
        household_id=household.id,
        name=member.name,
        relation=member.relation,
        gender=member.gender,
        birth_year=member.birth_year,
        phone=member.phone,
    )
