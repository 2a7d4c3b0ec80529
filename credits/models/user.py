"""Staff logins with a role and a scope (a region or a village)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from credits.db import Base, utcnow
from credits.models.household import Household
from credits.models.region import Region, Village


class Role(StrEnum):
    COUNTY_ADMIN = "county_admin"
    TOWNSHIP_ADMIN = "township_admin"
    VILLAGE_ADMIN = "village_admin"
    CLERK = "clerk"
    REVIEWER = "reviewer"
    CASHIER = "cashier"


REGION_ROLES = (Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN)


class User(Base):
    """A staff login; `household_id` links them to the household they live in (回避)."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()
    # Set by an administrator's reset: the user must choose a new password first.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    region: Mapped[Region | None] = relationship()
    village: Mapped[Village | None] = relationship()
    household: Mapped[Household | None] = relationship()

    # Flask-Login's protocol, written out so the domain needs no Flask mixin.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # The web layer sets `_session_token` (not a column) to the login session this
        # object was loaded for, so the id Flask-Login keeps in its cookies names it.
        token = getattr(self, "_session_token", None)
        return f"{self.id}:{token}" if token else str(self.id)
