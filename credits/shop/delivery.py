"""Delivery for households that cannot come to the counter (elderly living alone, disabled)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, require
from credits.clock import local_date
from credits.db import utcnow
from credits.errors import InvalidState, ValidationError
from credits.i18n import N_
from credits.models import Household, Redemption, RedemptionState, User
from credits.shop.redemption import redemption_of
from credits.shop.text import clean_text

OVERDUE_AFTER = timedelta(days=7)


def to_deliver(session: Session, village_id: int, group_id: int | None = None) -> list[Redemption]:
    """Redemptions waiting for delivery, by group and house number, oldest first."""
    query = (
        select(Redemption)
        .join(Household, Household.id == Redemption.household_id)
        .where(
            Redemption.village_id == village_id,
            Redemption.deliver.is_(True),
            Redemption.delivered_on.is_(None),
            Redemption.state == RedemptionState.DONE,
        )
    )
    if group_id is not None:
        query = query.where(Household.group_id == group_id)
    return list(
        session.scalars(
            query.order_by(Household.group_id, Household.house_number, Redemption.created_at)
        )
    )


def overdue(session: Session, village_id: int, now: datetime) -> list[Redemption]:
    """Undelivered redemptions older than a week (flagged on the shop page)."""
    return [r for r in to_deliver(session, village_id) if now - r.created_at > OVERDUE_AFTER]


def confirm_delivered(
    session: Session,
    *,
    actor: User,
    village_id: int,
    redemption_id: int,
    delivered_on: date | None,
    delivered_by: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> Redemption:
    """Record that a volunteer delivered a redemption, on which day."""
    now = now or utcnow()
    require(session, actor, Permission.SHOP, village_id)
    redemption = redemption_of(session, village_id, redemption_id)
    if not redemption.deliver or redemption.state != RedemptionState.DONE:
        raise InvalidState(N_("This redemption is not waiting for delivery."))
    if redemption.delivered_on is not None:
        return redemption
    who = clean_text(delivered_by, 50)
    if not who:
        raise ValidationError(N_("Say who delivered the goods."))
    day = delivered_on or local_date(now)
    if day > local_date(now) or day < local_date(redemption.created_at):
        raise ValidationError(N_("The delivery date must lie between the redemption and today."))
    redemption.delivered_on, redemption.delivered_by = day, who
    redemption.delivery_confirmed_by_id = actor.id
    audit.log(
        session,
        "shop.delivered",
        actor=actor,
        village_id=village_id,
        obj=redemption,
        ip=ip,
        at=now,
        after={"on": day, "by": who},
    )
    session.commit()
    return redemption
