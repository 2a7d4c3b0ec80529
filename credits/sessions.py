"""Staff login sessions kept on the server: opened at login, checked on every request.

The cookie holds a random token; the database holds its hash. A session is live while
its record has not ended, its user is active, and it was seen within the idle limit.
Reads (GET) never write, so `last_seen_at` moves on logins and on writes only; the web
layer also keeps the time of the last request in the signed cookie, and the idle check
takes the later of the two.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from credits import audit
from credits.db import utcnow
from credits.errors import NotFound
from credits.i18n import N_
from credits.models import StaffSession, User

DEFAULT_IDLE = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)  # a write moves last_seen at most this often
MAX_DEVICE = 200

# Why a session ended, as stored and as shown to the user.
END_REASONS = {
    "logout": N_("logged out"),
    "ended_by_user": N_("ended by the user"),
    "password_changed": N_("password changed"),
    "password_reset": N_("password reset by an administrator"),
    "disabled": N_("user disabled"),
}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session: Session,
    user: User,
    *,
    ip: str = "",
    device: str = "",
    remember: bool = False,
    now: datetime | None = None,
) -> str:
    """Record a new login of `user` and return the token for its cookie (no commit)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            user_id=user.id,
            token_hash=_digest(token),
            created_at=now,
            last_seen_at=now,
            ip=(ip or "")[:45],
            device=(device or "")[:MAX_DEVICE],
            remember=remember,
        )
    )
    return token


def live_user(
    session: Session,
    user_id: int,
    token: str,
    *,
    now: datetime | None = None,
    seen: datetime | None = None,
    idle: timedelta = DEFAULT_IDLE,
) -> tuple[User, StaffSession] | None:
    """Return the user and the session record for a cookie's id and token, if still live.

    `seen` is the last request time the signed cookie carries, if any.
    """
    now = now or utcnow()
    record = session.scalar(select(StaffSession).where(StaffSession.token_hash == _digest(token)))
    if record is None or record.user_id != user_id or record.ended_at is not None:
        return None
    last = max(record.last_seen_at, seen) if seen is not None else record.last_seen_at
    if now - last > idle:
        return None
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    return user, record


def touch(
    session: Session, record: StaffSession, *, ip: str = "", now: datetime | None = None
) -> None:
    """Move a session's last-seen time on a write request (no commit; at most once a minute)."""
    now = now or utcnow()
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
        if ip:
            record.ip = ip[:45]


def end_session(
    session: Session, token: str, *, reason: str = "logout", now: datetime | None = None
) -> None:
    """End the session a cookie's token names (no commit)."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == _digest(token), StaffSession.ended_at.is_(None))
        .values(ended_at=now or utcnow(), end_reason=reason)
    )


def end_all(
    session: Session,
    user_id: int,
    *,
    reason: str,
    keep_token: str | None = None,
    now: datetime | None = None,
) -> int:
    """End every open session of a user, except the one `keep_token` names (no commit)."""
    query = update(StaffSession).where(
        StaffSession.user_id == user_id, StaffSession.ended_at.is_(None)
    )
    if keep_token:
        query = query.where(StaffSession.token_hash != _digest(keep_token))
    result = session.execute(query.values(ended_at=now or utcnow(), end_reason=reason))
    return int(getattr(result, "rowcount", 0) or 0)


def open_sessions(session: Session, user: User) -> list[StaffSession]:
    """Return a user's open sessions, the most recently seen first."""
    return list(
        session.scalars(
            select(StaffSession)
            .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
            .order_by(StaffSession.last_seen_at.desc(), StaffSession.id.desc())
        )
    )


def is_current(record: StaffSession, token: str | None) -> bool:
    """Tell whether a session record is the one a cookie's token names."""
    return bool(token) and record.token_hash == _digest(token or "")


def end_own_session(
    session: Session,
    user: User,
    session_id: int,
    *,
    ip: str = "",
    now: datetime | None = None,
) -> None:
    """End one of the user's own sessions (e.g. a lost tablet) and audit it."""
    now = now or utcnow()
    record = session.get(StaffSession, session_id)
    if record is None or record.user_id != user.id:
        raise NotFound(N_("No such session."))
    if record.ended_at is None:
        record.ended_at, record.end_reason = now, "ended_by_user"
        audit.log(
            session,
            "session.end",
            actor=user,
            village_id=user.village_id,
            obj=user,
            ip=ip,
            at=now,
            after={"session_id": record.id, "device": record.device, "ip": record.ip},
        )
    session.commit()
