"""What the shop tests share: points for a household, a stocked item, a cashier's basket."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from credits.ledger import append_entry
from credits.models import EntryKind, Household, MoveKind, Scheme, ShopItem, User
from credits.shop.catalogue import ItemInput, create_item
from credits.shop.stock import StockIn, stock_in
from credits.workflow import ensure_account

NOW = datetime(2026, 11, 20, 2, 0, 0)  # 10:00 in the villages


def give_points(
    session: Session, household: Household, scheme: Scheme, points: int, now: datetime = NOW
) -> None:
    """Post an award straight onto the ledger (what a posted claim does), and commit."""
    account = ensure_account(session, household, scheme.id)
    append_entry(
        session,
        account,
        kind=EntryKind.AWARD,
        points=points,
        score_delta=points,
        balance_delta=points,
        deed_date=now.date(),
        now=now,
        title="测试奖励",
        category="测试",
    )
    session.commit()


def stocked_item(
    session: Session,
    cashier: User,
    village_id: int,
    *,
    name: str = "香皂",
    price: int = 5,
    quantity: int = 10,
    unit_value_fen: int = 500,
    now: datetime = NOW,
    **fields: object,
) -> ShopItem:
    """Create an item and stock it from the township."""
    item = create_item(
        session,
        actor=cashier,
        village_id=village_id,
        data=ItemInput(name=name, unit="块", price=price, unit_value_fen=unit_value_fen, **fields),  # type: ignore[arg-type]
        now=now,
    )
    if quantity:
        stock_in(
            session,
            actor=cashier,
            village_id=village_id,
            data=StockIn(item_id=item.id, quantity=quantity, source="township"),
            now=now,
        )
    return item


def key() -> str:
    return uuid.uuid4().hex


__all__ = ["NOW", "MoveKind", "give_points", "key", "stocked_item"]
