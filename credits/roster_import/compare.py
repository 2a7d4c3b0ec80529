"""Planned households against the village's roster: which to create, which change, and how."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from credits.i18n import N_
from credits.models import Household, Member
from credits.roster import groups_by_canonical
from credits.roster_import.households import KnownByHead
from credits.roster_import.plan import WARNING, PlannedHousehold, PlannedMember, Preview
from credits.search import canonical_group

KnownByHouse = dict[tuple[str, str], list[Household]]  # (head, house number) → households


class KnownRoster:
    """The village's households (with members and groups), loaded once for one preview."""

    def __init__(self, session: Session, village_id: int) -> None:
        self.session = session
        self.village_id = village_id
        self.households = list(
            session.scalars(
                select(Household)
                .where(Household.village_id == village_id)
                .options(selectinload(Household.members), selectinload(Household.group))
                .order_by(Household.id)
            )
        )

    def by_head(self) -> KnownByHead:
        found: KnownByHead = {}
        for household in self.households:
            group = canonical_group(household.group.name) if household.group else ""
            found.setdefault((group, household.head_name), []).append(household)
        return found

    def by_house(self) -> KnownByHouse:
        found: KnownByHouse = {}
        for household in self.households:
            if household.house_number:
                key = (household.head_name, household.house_number)
                found.setdefault(key, []).append(household)
        return found


def compare(preview: Preview, known: KnownRoster) -> None:
    """Decide each planned household's and member's action, and the groups an import adds."""
    by_head, by_house = known.by_head(), known.by_house()
    used: set[int] = set()
    for planned in preview.households:
        home = _match(planned, by_head, by_house, used)
        if home is None:
            _all(planned, "create")
            continue
        used.add(home.id)
        planned.household_id = home.id
        if not home.active:
            preview.note(
                planned.line,
                WARNING,
                N_(
                    "The household of %(head)s is deactivated in the roster; the import "
                    "leaves it as it is."
                ),
                sheet=planned.sheet,
                head=planned.head_name,
            )
            _all(planned, "unchanged")
            continue
        _diff(planned, home)
    # A group is new when a household will land in it and the village has no such group.
    groups = groups_by_canonical(known.session, known.village_id)
    for planned in preview.households:
        landing = planned.action == "create" or "group" in planned.changes
        name = planned.group
        if landing and name and name not in groups and name not in preview.new_groups:
            preview.new_groups.append(name)


def _all(planned: PlannedHousehold, action: str) -> None:
    planned.action = action
    for member in planned.members:
        member.action = action


def home_value(home: Household, name: str) -> str:
    """A household's stored value of a field as text."""
    return str(getattr(home, name) or "")


def _diff(planned: PlannedHousehold, home: Household) -> None:
    changes: dict[str, tuple[Any, Any]] = {}
    group = canonical_group(home.group.name) if home.group else ""
    if planned.has_head_row and planned.group and planned.group != group:
        changes["group"] = (group, planned.group)
    # A blank cell never clears what the roster knows; 无 in 特殊情况 does.
    for name, new in (("house_number", planned.house_number), ("phone", planned.phone)):
        if new and new != home_value(home, name):
            changes[name] = (home_value(home, name), new)
    needs = planned.special_needs
    if needs is not None and needs != home_value(home, "special_needs"):
        changes["special_needs"] = (home_value(home, "special_needs"), needs)
    planned.changes = changes
    taken: set[int] = set()
    for member in planned.members:
        current = _same_person(member, home.members, taken)
        if current is None:
            member.action = "create"
            continue
        member.member_id = current.id
        taken.add(current.id)
        member.changes = _member_changes(member, current)
        member.action = "update" if member.changes else "unchanged"
    touched = changes or any(m.action != "unchanged" for m in planned.members)
    planned.action = "update" if touched else "unchanged"


def _member_changes(member: PlannedMember, current: Member) -> dict[str, tuple[Any, Any]]:
    """What the file changes about a member (a blank cell changes nothing)."""
    changes: dict[str, tuple[Any, Any]] = {}
    if current.active:
        for name in ("relation", "gender", "birth_year", "phone"):
            new = getattr(member, name)
            old = getattr(current, name)
            if new not in (None, "") and new != old:
                changes[name] = (old, new)
    return changes


def _same_person(
    member: PlannedMember, members: Iterable[Member], taken: set[int]
) -> Member | None:
    """The roster's member a planned one is: same name, then same birth year and relation."""
    named = [m for m in members if m.name == member.name and m.id not in taken]
    if len(named) <= 1:
        return named[0] if named else None
    return sorted(
        named,
        key=lambda m: (
            m.birth_year != member.birth_year,
            m.relation != member.relation,
            not m.active,
            m.id,
        ),
    )[0]


def _match(
    planned: PlannedHousehold,
    existing: KnownByHead,
    by_house: KnownByHouse,
    used: set[int],
) -> Household | None:
    """The roster's household for a planned one: group + head + house number, leniently."""
    candidates = [
        h for h in existing.get((planned.group, planned.head_name), []) if h.id not in used
    ]
    exact = [h for h in candidates if h.house_number == planned.house_number]
    if exact:
        return sorted(exact, key=lambda h: not h.active)[0]
    loose = [h for h in candidates if not h.house_number or not planned.house_number]
    if len(loose) == 1:
        return loose[0]
    if planned.house_number and planned.has_head_row:
        moved = [
            h
            for h in by_house.get((planned.head_name, planned.house_number), [])
            if h.id not in used
        ]
        if len(moved) == 1:
            return moved[0]  # the same family, moved to another group since
    return None
