"""Cancelling a redemption: the same day by the cashier, later only with a second person.
Stock goes back and the points return through reversal entries; both lines stay visible."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, can_see_village, check_recusal, has_permission, require
from credits.clock import local_date
from credits.db import lock_row, utcnow
from credits.errors import NotFound, ValidationError
from credits.i18n import N_
from credits.ledger import append_entry
from credits.models import (
    Account,
    EntryKind,
    LedgerEntry,
    MoveKind,
    Redemption,
    RedemptionState,
    ShopItem,
    StockMove,
    User,
)
from credits.shop.errors import AlreadyCancelled, SecondPersonNeeded
from credits.shop.stock import apply_move
from credits.shop.text import clean_text
from credits.users import check_password


def needs_second_person(redemption: Redemption, now: datetime) -> bool:
    """Tell whether cancelling now needs a second person (it is no longer the same day)."""
    return local_date(redemption.created_at) != local_date(now)


def _second_person(
    session: Session, actor: User, redemption: Redemption, username: str, password: str
) -> User:
    """Check the second person's password and that they may approve (admin or reviewer)."""
    second = session.scalar(select(User).where(User.username == clean_text(username, 50)))
    wrong = ValidationError(
        N_(
            "The second person's user name or password is wrong, or they may not approve "
            "cancellations (an admin or reviewer of this village, not the cashier)."
        )
    )
    if second is None or not check_password(second.password_hash, password or ""):
        raise wrong
    if (
        second.id == actor.id
        or not has_permission(second, Permission.REVIEW)
        or not can_see_village(session, second, redemption.village_id)
    ):
        raise wrong
    check_recusal(second.household_id, redemption.household_id)
    return second


def cancel_redemption(
    session: Session,
    *,
    actor: User,
    redemption_id: int,
    reason: str,
    second_username: str = "",
    second_password: str = "",
    ip: str | None = None,
    now: datetime | None = None,
) -> Redemption:
    """Cancel a redemption with a reason: stock returns, the points come back."""
    now = now or utcnow()
    redemption = session.get(Redemption, redemption_id)
    if redemption is None:
        raise NotFound()
    require(session, actor, Permission.SHOP, redemption.village_id)
    check_recusal(actor.household_id, redemption.household_id)
    reason = clean_text(reason, 500)
    if not reason:
        raise ValidationError(N_("Say why the redemption is cancelled."))
    second = None
    if needs_second_person(redemption, now):
        if not second_username:
            raise SecondPersonNeeded()
        second = _second_person(session, actor, redemption, second_username, second_password)
    lock_row(session, "chain_head", "village_id", redemption.village_id)
    moved = session.execute(
        update(Redemption)
        .where(Redemption.id == redemption.id, Redemption.state == RedemptionState.DONE)
        .values(
            state=RedemptionState.CANCELLED,
            cancelled_at=now,
            cancelled_by_id=actor.id,
            cancel_second_id=second.id if second else None,
            cancel_reason=reason,
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyCancelled()
    session.refresh(redemption)
    outs = session.scalars(
        select(StockMove)
        .where(
            StockMove.village_id == redemption.village_id,
            StockMove.redemption_id == redemption.id,
            StockMove.kind == MoveKind.OUT,
        )
        .order_by(StockMove.item_id)
    ).all()
    for out in outs:
        item = session.get(ShopItem, out.item_id)
        assert item is not None
        apply_move(
            session,
            item,
            kind=MoveKind.RETURN,
            quantity=-out.quantity,
            value_fen=-out.value_fen,
            now=now,
            actor=actor,
            redemption_id=redemption.id,
            reason=reason,
        )
    for payment in sorted(redemption.payments, key=lambda p: p.account_id):
        account = session.get(Account, payment.account_id)
        entry = session.get(LedgerEntry, payment.entry_id)
        assert account is not None and entry is not None
        reversal = append_entry(
            session,
            account,
            kind=EntryKind.REVERSAL,
            points=payment.points,
            score_delta=0,
            balance_delta=payment.points,
            deed_date=local_date(now),
            now=now,
            category=entry.category,
            title=entry.title,
            reason=reason,
            reverses_id=entry.id,
            recorded_by_id=actor.id,
            approved_by_id=second.id if second else None,
        )
        payment.reversal_id = reversal.id
    audit.log(
        session,
        "shop.cancel",
        actor=actor,
        village_id=redemption.village_id,
        obj=redemption,
        ip=ip,
        at=now,
        after={"reason": reason, "second": second.id if second else None},
    )
    session.commit()
    return redemption
