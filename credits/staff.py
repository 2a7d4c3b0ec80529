"""Managing staff logins: who may manage whom, add, edit, reset, disable, own password.

A village admin manages the staff of their village. A county or township admin manages
the staff of every village below their region and the region admins of regions below
it. Nobody manages themselves here (their own password has its own service). Every
change is audited; a reset, a password change and disabling end the user's sessions.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from credits import audit, sessions
from credits.access import Permission, has_permission, visible_villages
from credits.db import utcnow
from credits.errors import NotFound, PermissionDenied, ValidationError
from credits.i18n import N_
from credits.models import Household, Region, Role, User, Village
from credits.models.user import REGION_ROLES
from credits.passwords import check_password_rule, temporary_password
from credits.users import check_password, create_user, hash_password

VILLAGE_ROLES = (Role.VILLAGE_ADMIN, Role.CLERK, Role.REVIEWER, Role.CASHIER)
MAX_DISPLAY_NAME = 50


def _regions_below(session: Session, actor: User) -> list[int]:
    """Return the ids of the regions strictly below the actor's region."""
    if actor.region_id is None:
        return []
    path = session.scalar(select(Region.path).where(Region.id == actor.region_id))
    if path is None:
        return []
    return list(
        session.scalars(
            select(Region.id).where(Region.path.startswith(path), Region.id != actor.region_id)
        )
    )


def staff_query(session: Session, actor: User):  # type: ignore[no-untyped-def]
    """Return a query of the users the actor may manage (the actor excluded)."""
    if not has_permission(actor, Permission.MANAGE_USERS):
        return select(User).where(User.id.is_(None))
    in_villages = User.village_id.in_(visible_villages(actor))
    if actor.role in REGION_ROLES:
        below = _regions_below(session, actor)
        condition = or_(in_villages, User.region_id.in_(below)) if below else in_villages
    else:
        condition = in_villages
    return select(User).where(condition, User.id != actor.id)


def manageable_users(session: Session, actor: User) -> list[User]:
    """Return the staff the actor manages, by village then role then name."""
    query = staff_query(session, actor).outerjoin(Village, Village.id == User.village_id)
    return list(session.scalars(query.order_by(Village.name, User.role, User.username)))


def managed_user(session: Session, actor: User, user_id: int) -> User:
    """Return a user the actor may manage, or refuse as if it did not exist."""
    user = session.scalar(staff_query(session, actor).where(User.id == user_id))
    if user is None:
        raise NotFound(N_("No such user."))
    return user


def allowed_roles(actor: User) -> tuple[str, ...]:
    """Return the roles the actor may give."""
    if actor.role in REGION_ROLES:
        # Region roles only for regions strictly below the actor's (checked with the place).
        return (*VILLAGE_ROLES, Role.TOWNSHIP_ADMIN, Role.COUNTY_ADMIN)
    if actor.role == Role.VILLAGE_ADMIN:
        return VILLAGE_ROLES
    return ()


def _check_place(
    session: Session, actor: User, role: str, village_id: int | None, region_id: int | None
) -> None:
    """Refuse a role or a place outside what the actor manages."""
    if role not in allowed_roles(actor):
        raise PermissionDenied(N_("You may not give this role."))
    if role in REGION_ROLES:
        if region_id is None or region_id not in _regions_below(session, actor):
            raise PermissionDenied(N_("Choose a region below your own."))
    else:
        visible = session.scalar(visible_villages(actor).where(Village.id == village_id))
        if village_id is None or visible is None:
            raise PermissionDenied(N_("Choose a village you manage."))


def _check_household(session: Session, household_id: int | None, village_id: int | None) -> None:
    if household_id is None:
        return
    household = session.get(Household, household_id)
    if household is None or household.village_id != village_id:
        raise ValidationError(N_("The linked household must belong to the user's village."))


def add_staff(
    session: Session,
    *,
    actor: User,
    username: str,
    display_name: str,
    role: str,
    village_id: int | None = None,
    region_id: int | None = None,
    household_id: int | None = None,
    ip: str | None = None,
) -> tuple[User, str]:
    """Add a staff login with a one-time password; return the user and that password."""
    if not has_permission(actor, Permission.MANAGE_USERS):
        raise PermissionDenied()
    if role in REGION_ROLES:
        village_id = None
    else:
        region_id = None
    _check_place(session, actor, role, village_id, region_id)
    _check_household(session, household_id, village_id)
    password = temporary_password()
    user = create_user(
        session,
        username=username,
        password=password,
        role=role,
        display_name=display_name[:MAX_DISPLAY_NAME],
        village_id=village_id,
        region_id=region_id,
        household_id=household_id,
        actor=actor,
        ip=ip,
        must_change_password=True,
    )
    return user, password


def edit_staff(
    session: Session,
    *,
    actor: User,
    user_id: int,
    display_name: str,
    role: str,
    household_id: int | None,
    ip: str | None = None,
) -> User:
    """Change a user's name, role (within the same kind of place) and household link."""
    user = managed_user(session, actor, user_id)
    if (role in REGION_ROLES) != (user.role in REGION_ROLES):
        raise ValidationError(N_("A village role cannot become a region role, nor the reverse."))
    _check_place(session, actor, role, user.village_id, user.region_id)
    _check_household(session, household_id, user.village_id)
    name = display_name.strip()
    if not name or len(name) > MAX_DISPLAY_NAME:
        raise ValidationError(
            N_("A name of 1 to %(n)s characters is required."), n=MAX_DISPLAY_NAME
        )
    before = audit.snapshot(user, "display_name", "role", "household_id")
    user.display_name, user.role, user.household_id = name, role, household_id
    audit.log(
        session,
        "user.edit",
        actor=actor,
        village_id=user.village_id,
        obj=user,
        ip=ip,
        before=before,
        after=audit.snapshot(user, "display_name", "role", "household_id"),
    )
    session.commit()
    return user


def _reset(
    session: Session, user: User, *, actor: User | None, ip: str | None, now: datetime
) -> str:
    """Give `user` a one-time password and end their sessions; commit; return it."""
    password = temporary_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.failed_logins = 0
    ended = sessions.end_all(session, user.id, reason="password_reset", now=now)
    audit.log(
        session,
        "user.reset_password",
        actor=actor,
        actor_name=None if actor else "cli",
        village_id=user.village_id,
        obj=user,
        ip=ip,
        at=now,
        after={"sessions_ended": ended},
    )
    session.commit()
    return password


def reset_password(
    session: Session,
    *,
    actor: User,
    user_id: int,
    ip: str | None = None,
    now: datetime | None = None,
) -> str:
    """Give a user a one-time password (changed at next login); end their sessions."""
    user = managed_user(session, actor, user_id)
    return _reset(session, user, actor=actor, ip=ip, now=now or utcnow())


def _set_active(
    session: Session, user: User, active: bool, *, actor: User | None, ip: str | None, now: datetime
) -> User:
    """Disable (ending every session at once) or enable `user`; commit."""
    if user.active == active:
        return user
    user.active = active
    after: dict[str, object] = {"active": active}
    if not active:
        after["sessions_ended"] = sessions.end_all(session, user.id, reason="disabled", now=now)
    audit.log(
        session,
        "user.enable" if active else "user.disable",
        actor=actor,
        actor_name=None if actor else "cli",
        village_id=user.village_id,
        obj=user,
        ip=ip,
        at=now,
        before={"active": not active},
        after=after,
    )
    session.commit()
    return user


def set_active(
    session: Session,
    *,
    actor: User,
    user_id: int,
    active: bool,
    ip: str | None = None,
    now: datetime | None = None,
) -> User:
    """Disable (ending every session at once) or re-enable a user."""
    user = managed_user(session, actor, user_id)
    return _set_active(session, user, active, actor=actor, ip=ip, now=now or utcnow())


def change_own_password(
    session: Session,
    *,
    user: User,
    current: str,
    new: str,
    ip: str = "",
    device: str = "",
    now: datetime | None = None,
) -> str:
    """Change the user's own password; end every session and return a new one's token.

    Every cookie issued before (this device's included) stops working; the device the
    change was made on carries on with the returned token.
    """
    now = now or utcnow()
    if not check_password(user.password_hash, current):
        raise ValidationError(N_("The current password is wrong."))
    check_password_rule(new, username=user.username)
    if check_password(user.password_hash, new):
        raise ValidationError(N_("The new password must differ from the current one."))
    user.password_hash = hash_password(new)
    user.must_change_password = False
    ended = sessions.end_all(session, user.id, reason="password_changed", now=now)
    token = sessions.open_session(session, user, ip=ip, device=device, now=now)
    audit.log(
        session,
        "user.change_password",
        actor=user,
        village_id=user.village_id,
        obj=user,
        ip=ip,
        at=now,
        after={"sessions_ended": ended},
    )
    session.commit()
    return token


def region_choices(session: Session, actor: User) -> list[Region]:
    """Return the regions below the actor's, for giving a region role."""
    ids = _regions_below(session, actor)
    if not ids:
        return []
    return list(session.scalars(select(Region).where(Region.id.in_(ids)).order_by(Region.path)))


def village_choices(session: Session, actor: User) -> list[Village]:
    """Return the villages the actor manages, by name."""
    return list(
        session.scalars(
            select(Village).where(Village.id.in_(visible_villages(actor))).order_by(Village.name)
        )
    )


def household_choices(session: Session, village_id: int) -> list[tuple[Household, str]]:
    """Return the village's active households with a label (head and house number)."""
    homes = session.scalars(
        select(Household)
        .where(Household.village_id == village_id, Household.active.is_(True))
        .order_by(Household.head_name, Household.id)
    )
    return [
        (h, f"{h.head_name}（{h.house_number}）" if h.house_number else h.head_name) for h in homes
    ]


def user_by_name(session: Session, username: str) -> User:
    """Return a user by login name, or refuse (for the operator's command line)."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise NotFound(N_("No user has the name %(name)s."), name=username.strip()[:50])
    return user


def operator_reset_password(session: Session, username: str) -> tuple[User, str]:
    """Reset a password from the command line (the operator holds the server)."""
    user = user_by_name(session, username)
    return user, _reset(session, user, actor=None, ip=None, now=utcnow())


def operator_set_active(session: Session, username: str, *, active: bool) -> User:
    """Disable or enable a user from the command line; disabling ends their sessions."""
    user = user_by_name(session, username)
    return _set_active(session, user, active, actor=None, ip=None, now=utcnow())


def list_staff(session: Session, village_id: int | None = None) -> list[User]:
    """Return every staff user (of one village), for the command line."""
    query = select(User).outerjoin(Village, Village.id == User.village_id)
    if village_id is not None:
        query = query.where(User.village_id == village_id)
    return list(session.scalars(query.order_by(Village.code, User.role, User.username)))
