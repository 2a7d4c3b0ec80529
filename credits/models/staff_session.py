"""Server-side records of staff logins: a session ends when its record ends."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from credits.db import Base, utcnow
from credits.models.user import User


class StaffSession(Base):
    """One logged-in device of a staff user; the cookie carries only its token.

    `token_hash` is the SHA-256 of the random token in the cookie, so a copy of the
    database does not hand out live sessions. Logout, a password change or reset and
    disabling the user set `ended_at`; a cookie whose record has ended is refused.
    """

    __tablename__ = "staff_session"
    __table_args__ = (Index("ix_staff_session_user_open", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str] = mapped_column(String(45), default="")
    device: Mapped[str] = mapped_column(String(200), default="")
    remember: Mapped[bool] = mapped_column(default=False)
    ended_at: Mapped[datetime | None] = mapped_column()
    end_reason: Mapped[str] = mapped_column(String(30), default="")

    user: Mapped[User] = relationship()
