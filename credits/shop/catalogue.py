"""The catalogue: items priced in points (明码标分), their photos, and what the public sees."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, require
from credits.db import utcnow
from credits.errors import NotFound, ValidationError
from credits.evidence import PhotoStore, clean_photo
from credits.i18n import N_
from credits.models import MoveKind, Scheme, ShopItem, StockMove, User
from credits.shop.text import clean_text

UNITS = ("袋", "瓶", "桶", "包", "盒", "块", "支", "条", "个", "件", "斤", "次")
MAX_PRICE = 100_000
MAX_LIMIT = 1000


@dataclass(frozen=True)
class ItemInput:
    """What the catalogue form holds for one item."""

    name: str
    unit: str
    price: int
    unit_value_fen: int = 0
    monthly_limit: int | None = None
    scheme_id: int | None = None
    active: bool = True
    position: int = 0


def _checked(session: Session, village_id: int, data: ItemInput) -> ItemInput:
    name = clean_text(data.name, 60)
    unit = clean_text(data.unit, 10)
    if not name:
        raise ValidationError(N_("Give the item a name."))
    if not unit:
        raise ValidationError(N_("Give the unit the item is sold in (袋, 瓶, 次 …)."))
    if not 0 < data.price <= MAX_PRICE:
        raise ValidationError(N_("The price must be a whole number of points from 1 to 100000."))
    if data.monthly_limit is not None and not 0 < data.monthly_limit <= MAX_LIMIT:
        raise ValidationError(N_("The monthly limit must be a number from 1 to 1000, or empty."))
    if not 0 <= data.unit_value_fen <= MAX_PRICE * 100:
        raise ValidationError(N_("Enter an amount in yuan, such as 12 or 12.5."))
    if data.scheme_id is not None:
        scheme = session.get(Scheme, data.scheme_id)
        if scheme is None or scheme.village_id != village_id:
            raise NotFound(N_("No such scheme."))
    return ItemInput(
        name,
        unit,
        data.price,
        data.unit_value_fen,
        data.monthly_limit,
        data.scheme_id,
        data.active,
        data.position,
    )


def store_item_photo(store: PhotoStore, village_id: int, data: bytes) -> tuple[str, str]:
    """Check and re-encode an item photo (the evidence pipeline); return its two keys."""
    photo = clean_photo(data)
    stem = f"{village_id}/{uuid.uuid4().hex}"
    store.save(f"{stem}.jpg", photo.data)
    store.save(f"{stem}-thumb.jpg", photo.thumb)
    return f"{stem}.jpg", f"{stem}-thumb.jpg"


def create_item(
    session: Session,
    *,
    actor: User,
    village_id: int,
    data: ItemInput,
    idempotency_key: str | None = None,
    photo: tuple[str, str] | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> ShopItem:
    """Add an item to the catalogue (no stock yet); a repeated key answers the first item."""
    require(session, actor, Permission.SHOP, village_id)
    if idempotency_key:
        same = session.scalar(
            select(ShopItem).where(
                ShopItem.village_id == village_id, ShopItem.idempotency_key == idempotency_key
            )
        )
        if same is not None:
            return same
    data = _checked(session, village_id, data)
    item = ShopItem(
        village_id=village_id,
        name=data.name,
        unit=data.unit,
        price=data.price,
        unit_value_fen=data.unit_value_fen,
        monthly_limit=data.monthly_limit,
        scheme_id=data.scheme_id,
        active=data.active,
        position=data.position,
        created_at=now or utcnow(),
        idempotency_key=idempotency_key or None,
    )
    if photo:
        item.photo_key, item.thumb_key = photo
    session.add(item)
    audit.log(
        session,
        "shop.item.create",
        actor=actor,
        village_id=village_id,
        obj=item,
        ip=ip,
        at=now,
        after={"name": item.name, "price": item.price, "unit": item.unit},
    )
    session.commit()
    return item


def update_item(
    session: Session,
    *,
    actor: User,
    item_id: int,
    data: ItemInput,
    photo: tuple[str, str] | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> ShopItem:
    """Change an item's wording, price, limit or active flag; past receipts keep theirs."""
    item = session.get(ShopItem, item_id)
    if item is None:
        raise NotFound()
    require(session, actor, Permission.SHOP, item.village_id)
    data = _checked(session, item.village_id, data)
    before = audit.snapshot(item, "name", "unit", "price", "active", "monthly_limit")
    item.name, item.unit, item.price = data.name, data.unit, data.price
    item.unit_value_fen, item.monthly_limit = data.unit_value_fen, data.monthly_limit
    item.scheme_id, item.active, item.position = data.scheme_id, data.active, data.position
    if photo:
        item.photo_key, item.thumb_key = photo
    audit.log(
        session,
        "shop.item.update",
        actor=actor,
        village_id=item.village_id,
        obj=item,
        ip=ip,
        at=now,
        before=before,
        after=audit.snapshot(item, "name", "unit", "price", "active", "monthly_limit"),
    )
    session.commit()
    return item


def items(session: Session, village_id: int, *, active_only: bool = False) -> list[ShopItem]:
    """The catalogue of a village in shelf order (an item out of stock stays listed)."""
    query = select(ShopItem).where(ShopItem.village_id == village_id)
    if active_only:
        query = query.where(ShopItem.active.is_(True))
    return list(session.scalars(query.order_by(ShopItem.position, ShopItem.price, ShopItem.id)))


def item_of(session: Session, village_id: int, item_id: int) -> ShopItem:
    """Return an item of the village, or NotFound for any other."""
    item = session.get(ShopItem, item_id)
    if item is None or item.village_id != village_id:
        raise NotFound()
    return item


def schemes_of(session: Session, village_id: int) -> list[Scheme]:
    """The village's schemes, for the item form's scheme restriction."""
    return list(
        session.scalars(select(Scheme).where(Scheme.village_id == village_id).order_by(Scheme.id))
    )


@dataclass(frozen=True)
class NewStock:
    """An item recently stocked, as the hall TV shows it."""

    name: str
    unit: str
    price: int
    stock: int


def newest_stock(session: Session, village_id: int, limit: int = 3) -> list[NewStock]:
    """The items most recently stocked in (入库) and still on the shelf, newest first."""
    latest = (
        select(StockMove.item_id, func.max(StockMove.created_at).label("at"))
        .where(StockMove.village_id == village_id, StockMove.kind == MoveKind.IN)
        .group_by(StockMove.item_id)
        .subquery()
    )
    rows = session.execute(
        select(ShopItem, latest.c.at)
        .join(latest, latest.c.item_id == ShopItem.id)
        .where(ShopItem.village_id == village_id, ShopItem.active.is_(True), ShopItem.stock > 0)
        .order_by(latest.c.at.desc(), ShopItem.id.desc())
        .limit(limit)
    ).all()
    return [NewStock(item.name, item.unit, item.price, item.stock) for item, _at in rows]
