"""Staff accounts: creation, password hashing and login.

Failed logins are not answered with a lock-out here (an attacker would control it):
the web layer throttles failures per account-and-address and per address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits import audit, sessions
from credits.db import utcnow
from credits.errors import LoginFailed, ValidationError
from credits.i18n import N_
from credits.models import Household, Region, Role, User, Village
from credits.models.user import REGION_ROLES
from credits.passwords import MAX_LENGTH, check_password_rule

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """Hash a password with scrypt and a random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_password(stored: str, password: str) -> bool:
    """Compare a password with its stored hash in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(candidate.hex(), digest)


_dummy_hashes: dict[int, str] = {}


def _spend_a_hash(password: str) -> None:
    """Check a password against a throw-away hash, so unknown names take as long."""
    if _N not in _dummy_hashes:
        _dummy_hashes[_N] = hash_password(secrets.token_hex(8))
    check_password(_dummy_hashes[_N], password)


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    village_id: int | None = None,
    region_id: int | None = None,
    household_id: int | None = None,
    actor: User | None = None,
    ip: str | None = None,
    must_change_password: bool = False,
) -> User:
    """Create a staff login after checking its role and scope fit together."""
    username = username.strip()
    if not username or len(username) > 50:
        raise ValidationError(N_("A user name of 1 to 50 characters is required."))
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in username):
        raise ValidationError(N_("A user name may not contain spaces or control characters."))
    check_password_rule(password, username=username)
    if role not in set(Role):
        raise ValidationError(N_("Unknown role: %(role)s."), role=role)
    if role in REGION_ROLES:
        if region_id is None or session.get(Region, region_id) is None or village_id:
            raise ValidationError(N_("A county or township administrator needs a region."))
    elif village_id is None or session.get(Village, village_id) is None or region_id:
        raise ValidationError(N_("A village role needs a village."))
    if household_id is not None:
        household = session.get(Household, household_id)
        if household is None or household.village_id != village_id:
            raise ValidationError(N_("The linked household must belong to the user's village."))
    taken = session.scalar(select(func.count()).where(User.username == username))
    if taken:
        raise ValidationError(N_("The user name %(name)s is taken."), name=username)
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=hash_password(password),
        role=role,
        village_id=village_id,
        region_id=region_id,
        household_id=household_id,
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    audit.log(
        session,
        "user.create",
        actor=actor,
        village_id=village_id,
        obj=user,
        ip=ip,
        after=audit.snapshot(user, "username", "role", "village_id", "region_id", "household_id"),
    )
    session.commit()
    return user


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    ip: str | None = None,
    now: datetime | None = None,
) -> User:
    """Return the active user whose password matches; audit every failure."""
    now = now or utcnow()
    name = username.strip()[:50]
    user = session.scalar(select(User).where(User.username == name)) if name else None
    if user is None:
        _spend_a_hash(password[:MAX_LENGTH])
    if (
        user is None
        or not user.active
        or len(password) > MAX_LENGTH
        or not check_password(user.password_hash, password)
    ):
        if user is not None:
            user.failed_logins += 1
        audit.log(
            session,
            "login.failed",
            actor=user,
            village_id=user.village_id if user else None,
            obj=user,
            ip=ip,
            at=now,
            actor_name=name,
        )
        session.commit()
        raise LoginFailed()
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.log(session, "login", actor=user, village_id=user.village_id, obj=user, ip=ip, at=now)
    return user


def record_logout(
    session: Session, user: User, *, token: str | None = None, ip: str | None = None
) -> None:
    """End the login session on the server and note the logout in the audit log."""
    if token:
        sessions.end_session(session, token, reason="logout")
    audit.log(session, "logout", actor=user, village_id=user.village_id, obj=user, ip=ip)
    session.commit()


def login(
    session: Session,
    username: str,
    password: str,
    *,
    ip: str = "",
    device: str = "",
    remember: bool = False,
    now: datetime | None = None,
) -> tuple[User, str]:
    """Check a login and open its server-side session; return the user and the token."""
    now = now or utcnow()
    user = authenticate(session, username, password, ip=ip, now=now)
    token = sessions.open_session(session, user, ip=ip, device=device, remember=remember, now=now)
    session.commit()
    return user, token
