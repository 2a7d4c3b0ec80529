"""Who may do what, and which villages a staff user may see (the single scope rule)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from credits.errors import PermissionDenied, RecusalError
from credits.models import Region, Role, User, Village


class Permission(StrEnum):
    VIEW = "view"
    MANAGE = "manage"  # schemes, rules, households
    MANAGE_USERS = "manage_users"
    RECORD = "record"
    REVIEW = "review"
    SHOP = "shop"
    PRINT = "print"
    AUDIT = "audit"


P = Permission
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.COUNTY_ADMIN: frozenset({P.VIEW, P.MANAGE_USERS, P.AUDIT}),
    Role.TOWNSHIP_ADMIN: frozenset({P.VIEW, P.MANAGE_USERS, P.AUDIT}),
    Role.VILLAGE_ADMIN: frozenset(
        {P.VIEW, P.MANAGE, P.MANAGE_USERS, P.RECORD, P.REVIEW, P.SHOP, P.PRINT, P.AUDIT}
    ),
    Role.CLERK: frozenset({P.VIEW, P.RECORD, P.PRINT}),
    Role.REVIEWER: frozenset({P.VIEW, P.REVIEW, P.PRINT}),
    Role.CASHIER: frozenset({P.VIEW, P.SHOP}),
}


def has_permission(user: User, permission: Permission) -> bool:
    """Tell whether the user's role carries a permission."""
    return user.active and permission in ROLE_PERMISSIONS.get(user.role, frozenset())


def visible_villages(user: User) -> Select[Any]:
    """Return a query of the ids of every village the user may see."""
    if user.village_id is not None:
        return select(Village.id).where(Village.id == user.village_id)
    if user.region_id is not None:
        subtree = select(Region.id).where(
            Region.path.startswith(
                select(Region.path).where(Region.id == user.region_id).scalar_subquery()
            )
        )
        return select(Village.id).where(Village.region_id.in_(subtree))
    return select(Village.id).where(Village.id.is_(None))


def can_see_village(session: Session, user: User, village_id: int) -> bool:
    """Tell whether a village lies in the user's scope."""
    query = visible_villages(user).where(Village.id == village_id)
    return session.execute(query).first() is not None


def require(session: Session, user: User, permission: Permission, village_id: int) -> None:
    """Refuse unless the user holds the permission within the village's scope."""
    if not has_permission(user, permission) or not can_see_village(session, user, village_id):
        raise PermissionDenied()


def check_recusal(actor_household_id: int | None, household_id: int) -> None:
    """Refuse when the actor belongs to the household concerned (回避)."""
    if actor_household_id is not None and actor_household_id == household_id:
        raise RecusalError()
