"""Checks the cached stock of each item against the sum of its movements (verify-ledger)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits.models import ShopItem, StockMove


def verify_stock(session: Session, village_id: int) -> list[str]:
    """Return a message for every item whose cached stock differs from its moves, or is negative."""
    sums = dict(
        session.execute(
            select(StockMove.item_id, func.sum(StockMove.quantity))
            .where(StockMove.village_id == village_id)
            .group_by(StockMove.item_id)
        ).all()
    )
    problems = []
    for item in session.scalars(
        select(ShopItem)
        .where(ShopItem.village_id == village_id)
        .order_by(ShopItem.id)
        .execution_options(populate_existing=True)
    ):
        want = int(sums.get(item.id) or 0)
        if item.stock != want:
            problems.append(
                f"item {item.id} ({item.name}): cached stock {item.stock} "
                f"but its movements sum to {want}"
            )
        if item.stock < 0:
            problems.append(f"item {item.id} ({item.name}): stock is negative ({item.stock})")
    return problems
