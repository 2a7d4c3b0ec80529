"""Checks the cached stock of each item against the sum of its movements (verify-ledger)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits.i18n import N_
from credits.models import ShopItem, StockMove

STOCK_DIFFERS = N_(
    "item %(id)s (%(name)s): cached stock %(stock)s but its movements sum to %(sum)s"
)
STOCK_NEGATIVE = N_("item %(id)s (%(name)s): stock is negative (%(stock)s)")


def verify_stock(session: Session, village_id: int) -> list[tuple[str, dict[str, object]]]:
    """Return (msgid, params) for every item whose cached stock differs from its moves or is
    negative."""
    sums = dict(
        session.execute(
            select(StockMove.item_id, func.sum(StockMove.quantity))
            .where(StockMove.village_id == village_id)
            .group_by(StockMove.item_id)
        ).all()
    )
    problems: list[tuple[str, dict[str, object]]] = []
    for item in session.scalars(
        select(ShopItem)
        .where(ShopItem.village_id == village_id)
        .order_by(ShopItem.id)
        .execution_options(populate_existing=True)
    ):
        want = int(sums.get(item.id) or 0)
        params: dict[str, object] = {"id": item.id, "name": item.name, "stock": item.stock}
        if item.stock != want:
            problems.append((STOCK_DIFFERS, {**params, "sum": want}))
        if item.stock < 0:
            problems.append((STOCK_NEGATIVE, params))
    return problems
