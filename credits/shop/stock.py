"""Stock: every movement is a row; `ShopItem.stock` caches their sum and never goes below zero."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, require
from credits.db import lock_row, utcnow
from credits.errors import ValidationError
from credits.i18n import N_
from credits.models import MoveKind, ShopItem, StockMove, StockSource, User
from credits.shop.catalogue import item_of
from credits.shop.errors import OutOfStock
from credits.shop.text import clean_text

MAX_QUANTITY = 100_000


def apply_move(
    session: Session,
    item: ShopItem,
    *,
    kind: str,
    quantity: int,
    value_fen: int | None = None,
    now: datetime,
    actor: User | None,
    **fields: object,
) -> StockMove:
    """Move stock with one guarded UPDATE: it never takes the cached count below zero.

    `stock >= :out` is checked by the database in the same statement that changes it, so
    two counters racing for the last unit cannot both get it (PostgreSQL re-checks the
    row after the first commit; SQLite runs writers one at a time).
    """
    result = session.execute(
        update(ShopItem)
        .where(ShopItem.id == item.id, ShopItem.stock + quantity >= 0)
        .values(stock=ShopItem.stock + quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = session.scalar(select(ShopItem.stock).where(ShopItem.id == item.id))
        raise OutOfStock(item=item.name, stock=current or 0, wanted=-quantity)
    session.expire(item, ["stock"])  # the UPDATE changed it behind the ORM's back
    move = StockMove(
        village_id=item.village_id,
        item_id=item.id,
        kind=kind,
        quantity=quantity,
        value_fen=quantity * item.unit_value_fen if value_fen is None else value_fen,
        created_by_id=actor.id if actor else None,
        created_at=now,
        **fields,
    )
    session.add(move)
    return move


def _existing(session: Session, village_id: int, key: str | None) -> StockMove | None:
    if not key:
        return None
    return session.scalar(
        select(StockMove).where(
            StockMove.village_id == village_id, StockMove.idempotency_key == key
        )
    )


def _quantity(value: int) -> int:
    if not 0 < value <= MAX_QUANTITY:
        raise ValidationError(N_("The quantity must be a whole number from 1 to 100000."))
    return value


@dataclass(frozen=True)
class StockIn:
    """A delivery into the shop: how many, from whom, worth how much."""

    item_id: int
    quantity: int
    source: str
    value_fen: int | None = None
    donor_name: str = ""
    anonymous: bool = False
    note: str = ""


def stock_in(
    session: Session,
    *,
    actor: User,
    village_id: int,
    data: StockIn,
    idempotency_key: str | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> StockMove:
    """Record goods coming in (入库) with their source and value in yuan."""
    now = now or utcnow()
    require(session, actor, Permission.SHOP, village_id)
    same = _existing(session, village_id, idempotency_key)
    if same is not None:
        return same
    item = item_of(session, village_id, data.item_id)
    quantity = _quantity(data.quantity)
    if data.source not in tuple(StockSource):
        raise ValidationError(N_("Say where the goods came from."))
    donor = clean_text(data.donor_name, 60) if data.source == StockSource.DONOR else ""
    if data.source == StockSource.DONOR and not donor:
        raise ValidationError(N_("Give the donor's name (they may still be listed anonymously)."))
    value = quantity * item.unit_value_fen if data.value_fen is None else data.value_fen
    if not 0 <= value <= 10**10:
        raise ValidationError(N_("Enter an amount in yuan, such as 12 or 12.5."))
    move = apply_move(
        session,
        item,
        kind=MoveKind.IN,
        quantity=quantity,
        value_fen=value,
        now=now,
        actor=actor,
        source=data.source,
        donor_name=donor,
        anonymous=data.anonymous and bool(donor),
        reason=clean_text(data.note, 500),
        idempotency_key=idempotency_key or None,
    )
    audit.log(
        session,
        "shop.stock.in",
        actor=actor,
        village_id=village_id,
        obj=move,
        ip=ip,
        at=now,
        after={"item": item.id, "quantity": quantity, "source": data.source, "value_fen": value},
    )
    session.commit()
    return move


def adjust(
    session: Session,
    *,
    actor: User,
    village_id: int,
    item_id: int,
    quantity: int,
    reason: str,
    idempotency_key: str | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> StockMove:
    """Record spoiled or lost goods (or a found surplus) with a reason."""
    now = now or utcnow()
    require(session, actor, Permission.SHOP, village_id)
    same = _existing(session, village_id, idempotency_key)
    if same is not None:
        return same
    item = item_of(session, village_id, item_id)
    reason = clean_text(reason, 500)
    if not reason:
        raise ValidationError(N_("Say why the stock changes (spoiled, lost …)."))
    if quantity == 0 or abs(quantity) > MAX_QUANTITY:
        raise ValidationError(N_("The quantity must be a whole number from 1 to 100000."))
    move = apply_move(
        session,
        item,
        kind=MoveKind.ADJUST,
        quantity=quantity,
        now=now,
        actor=actor,
        reason=reason,
        idempotency_key=idempotency_key or None,
    )
    audit.log(
        session,
        "shop.stock.adjust",
        actor=actor,
        village_id=village_id,
        obj=move,
        ip=ip,
        at=now,
        after={"item": item.id, "quantity": quantity, "reason": reason},
    )
    session.commit()
    return move


def stock_take(
    session: Session,
    *,
    actor: User,
    village_id: int,
    counted: dict[int, int],
    idempotency_key: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> list[StockMove]:
    """Record a stock-take (盘点): each counted quantity that differs becomes an adjustment."""
    now = now or utcnow()
    require(session, actor, Permission.SHOP, village_id)
    key = "".join(ch for ch in idempotency_key if ch.isascii() and ch.isalnum())[:56] or "take"
    done = session.scalar(
        select(StockMove.id).where(
            StockMove.village_id == village_id, StockMove.idempotency_key.like(f"{key}-%")
        )
    )
    if done is not None:  # the same stock-take sent again
        return []
    moves: list[StockMove] = []
    for n, (item_id, quantity) in enumerate(sorted(counted.items())):
        item = item_of(session, village_id, item_id)
        if not 0 <= quantity <= MAX_QUANTITY:
            raise ValidationError(N_("The quantity must be a whole number from 1 to 100000."))
        lock_row(session, "shop_item", "id", item.id)
        session.refresh(item)
        difference = quantity - item.stock
        if difference:
            moves.append(
                apply_move(
                    session,
                    item,
                    kind=MoveKind.ADJUST,
                    quantity=difference,
                    now=now,
                    actor=actor,
                    reason="盘点",
                    idempotency_key=f"{key}-{n}",
                )
            )
    audit.log(
        session,
        "shop.stock.take",
        actor=actor,
        village_id=village_id,
        ip=ip,
        at=now,
        after={"counted": len(counted), "differences": {m.item_id: m.quantity for m in moves}},
    )
    session.commit()
    return moves


@dataclass(frozen=True)
class DonorLine:
    """One line of the public thank-you list (爱心捐赠)."""

    name: str  # "" for an anonymous donor
    value_fen: int
    first: datetime


def donors(session: Session, village_id: int) -> list[DonorLine]:
    """Donors of a village with what they gave in yuan, largest first; anonymous ones unnamed."""
    rows = session.execute(
        select(
            StockMove.donor_name,
            StockMove.anonymous,
            func.sum(StockMove.value_fen),
            func.min(StockMove.created_at),
        )
        .where(
            StockMove.village_id == village_id,
            StockMove.kind == MoveKind.IN,
            StockMove.source == StockSource.DONOR,
        )
        .group_by(StockMove.donor_name, StockMove.anonymous)
    ).all()
    lines = [
        DonorLine("" if anon else name, int(total or 0), first) for name, anon, total, first in rows
    ]
    return sorted(lines, key=lambda d: (-d.value_fen, d.first))


def moves_of(session: Session, village_id: int, limit: int = 50) -> list[StockMove]:
    """The latest stock movements of a village, newest first."""
    return list(
        session.scalars(
            select(StockMove)
            .where(StockMove.village_id == village_id)
            .order_by(StockMove.created_at.desc(), StockMove.id.desc())
            .limit(limit)
        )
    )
