"""Regions, villages, groups and households: creating the places points belong to."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from credits import audit
from credits.errors import ValidationError
from credits.i18n import N_
from credits.ledger import GENESIS
from credits.models import ChainHead, Group, Household, Member, Region, User, Village
from credits.models.region import new_card_secret
from credits.search import set_keys

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{2,32}$")


def ensure_region(session: Session, name: str, level: str, parent: Region | None = None) -> Region:
    """Return a region by name under a parent, creating it if needed."""
    same_parent = Region.parent_id == parent.id if parent else Region.parent_id.is_(None)
    region = session.scalar(
        select(Region).where(Region.name == name, Region.level == level, same_parent)
    )
    if region is None:
        region = Region(name=name, level=level, parent_id=parent.id if parent else None)
        session.add(region)
        session.flush()
        region.path = f"{parent.path if parent else '/'}{region.id}/"
        session.flush()
    return region


def _township(session: Session, township: str, county: str | None) -> Region:
    """Find or create the township a new village belongs to.

    Without a county, an existing township of that name is used when there is exactly
    one; when several counties have one, the caller must say which (no silent second
    top-level township that the existing township's admin would never see).
    """
    if county:
        return ensure_region(
            session, township, "township", ensure_region(session, county, "county")
        )
    found = list(
        session.scalars(
            select(Region)
            .where(Region.name == township, Region.level == "township")
            .order_by(Region.id)
        )
    )
    if len(found) > 1:
        parents = {
            r.id: r
            for r in session.scalars(
                select(Region).where(Region.id.in_([f.parent_id for f in found if f.parent_id]))
            )
        }
        choices = "、".join(
            parents[r.parent_id].name if r.parent_id in parents else "—" for r in found
        )
        raise ValidationError(
            N_("There are several townships named %(name)s; name the county too (%(choices)s)."),
            name=township,
            choices=choices,
        )
    return found[0] if found else ensure_region(session, township, "township")


def create_village(
    session: Session,
    *,
    township: str,
    name: str,
    code: str,
    county: str | None = None,
    actor: User | None = None,
) -> Village:
    """Create a village under a township (and county), with its empty chain head."""
    code, name, township = code.strip(), name.strip(), township.strip()
    if not CODE_RE.match(code):
        raise ValidationError(N_("A village code has 2 to 32 letters, digits, - or _."))
    if not name or not township:
        raise ValidationError(N_("A village needs a name and a township."))
    if session.scalar(select(Village.id).where(Village.code == code)):
        raise ValidationError(N_("The village code %(code)s is taken."), code=code)
    region = _township(session, township, county.strip() if county else None)
    village = Village(region_id=region.id, name=name, code=code, card_secret=new_card_secret())
    session.add(village)
    session.flush()
    session.add(ChainHead(village_id=village.id, seq=0, hash=GENESIS))
    audit.log(
        session,
        "village.create",
        actor=actor,
        village_id=village.id,
        obj=village,
        after={"name": name, "code": code, "township": township},
    )
    session.commit()
    return village


def ensure_group(session: Session, village: Village, name: str) -> Group:
    """Return a village's group by name, creating it if needed (caller commits)."""
    group = session.scalar(select(Group).where(Group.village_id == village.id, Group.name == name))
    if group is None:
        count = len(session.scalars(select(Group.id).where(Group.village_id == village.id)).all())
        group = Group(village_id=village.id, name=name, position=count + 1)
        session.add(group)
        session.flush()
    return group


def add_household(
    session: Session,
    village: Village,
    *,
    head_name: str,
    group: Group | None,
    house_number: str = "",
    phone: str = "",
    members: list[dict[str, object]] | None = None,
) -> Household:
    """Add a household and its members, the head among them (caller commits)."""
    household = Household(
        village_id=village.id,
        group_id=group.id if group else None,
        head_name=head_name,
        house_number=house_number,
        phone=phone,
    )
    session.add(household)
    session.flush()
    people = list(members or [])
    if not any(person.get("name") == head_name for person in people):
        people.insert(0, {"name": head_name, "relation": "户主"})
    for data in people:
        session.add(Member(village_id=village.id, household_id=household.id, **data))
    set_keys(household, [str(person["name"]) for person in people])
    session.flush()
    return household
