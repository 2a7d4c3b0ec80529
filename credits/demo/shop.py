"""The demo shop: twenty items priced as villages price them, two donors, a township
allocation, three months of redemptions (one cancelled, two still to deliver)."""

from __future__ import annotations

import io
import random
import uuid
from datetime import datetime, timedelta
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits.documents.fonts import PRIMARY_FONT_PATH
from credits.errors import DomainError
from credits.evidence import PhotoStore
from credits.models import Household, LedgerEntry, ShopItem, User, Village
from credits.shop.cancel import cancel_redemption
from credits.shop.catalogue import ItemInput, create_item, store_item_photo
from credits.shop.delivery import confirm_delivered
from credits.shop.redemption import redeem
from credits.shop.stock import StockIn, stock_in

# name, unit, points, yuan per unit, opening stock, monthly limit
ITEMS = (
    ("香皂", "块", 5, 4, 80, None),
    ("牙膏", "支", 8, 7, 60, None),
    ("毛巾", "条", 10, 9, 50, None),
    ("洗衣粉", "袋", 20, 18, 60, None),
    ("洗洁精", "瓶", 12, 10, 50, None),
    ("卫生纸", "提", 25, 22, 40, None),
    ("食盐", "袋", 3, 2.5, 100, None),
    ("酱油", "瓶", 10, 9, 40, None),
    ("陈醋", "瓶", 8, 7, 40, None),
    ("挂面", "包", 6, 5, 80, None),
    ("鸡蛋", "盒", 15, 14, 30, 2),
    ("大米 10斤", "袋", 50, 45, 30, 2),
    ("面粉 10斤", "袋", 40, 36, 20, 2),
    ("食用油 5L", "桶", 85, 78, 20, 1),
    ("保温杯", "个", 35, 30, 15, None),
    ("雨伞", "把", 30, 25, 15, None),
    ("电饭煲", "台", 200, 180, 3, None),
    ("理发", "次", 10, 10, 200, None),
    ("家电维修", "次", 20, 20, 100, None),
    ("文具套装", "套", 15, 12, 30, None),
)
DONORS = ("青山县爱心超市", "李建国（在外乡贤）")


@lru_cache(maxsize=1)
def _font() -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(PRIMARY_FONT_PATH), 46, index=0)


def _photo(name: str, rng: random.Random) -> bytes:
    """A product-like picture: a coloured pack with the item's name on it."""
    base = (rng.randint(150, 235), rng.randint(120, 220), rng.randint(90, 200))
    image = Image.new("RGB", (480, 360), (246, 242, 236))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((110, 40, 370, 320), radius=28, fill=base, outline=(90, 70, 60), width=4)
    draw.rectangle((110, 150, 370, 230), fill=(255, 255, 255))
    font = _font()
    label = name.split(" ")[0][:4]
    width = draw.textlength(label, font=font)
    draw.text((240 - width / 2, 164), label, font=font, fill=(160, 20, 30))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _balance_at(session: Session, household: Household, moment: datetime) -> int:
    """A household's spendable points at a moment (the demo spends no later points)."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.balance_delta), 0)).where(
                LedgerEntry.village_id == household.village_id,
                LedgerEntry.household_id == household.id,
                LedgerEntry.posted_at <= moment,
            )
        )
        or 0
    )


def load_shop_demo(
    session: Session,
    village: Village,
    homes: list[Household],
    users: dict[str, User],
    rng: random.Random,
    now: datetime,
    photos: PhotoStore | None = None,
) -> None:
    """Stock the demo shop and play three months of counter work."""
    cashier = users["cashier"]
    start = now - timedelta(days=92)
    items: list[ShopItem] = []
    for n, (name, unit, price, yuan, opening, limit) in enumerate(ITEMS):
        photo = store_item_photo(photos, village.id, _photo(name, rng)) if photos else None
        item = create_item(
            session,
            actor=cashier,
            village_id=village.id,
            data=ItemInput(name, unit, price, int(yuan * 100), limit, None, True, n),
            photo=photo,
            now=start,
        )
        services = unit == "次"
        source = "purchase" if services else ("donor" if n % 3 else "township")
        stock_in(
            session,
            actor=cashier,
            village_id=village.id,
            data=StockIn(
                item.id,
                opening,
                source,
                donor_name=DONORS[n % 2] if source == "donor" else "",
            ),
            now=start + timedelta(hours=2),
        )
        items.append(item)
    for home in (homes[4], homes[9]):
        home.special_needs = "elderly_alone" if home is homes[4] else "disabled"
    session.commit()
    spent: dict[int, int] = {}
    made = []
    for day in range(0, 90, 2):
        moment = start + timedelta(days=day + 1, hours=1 + rng.randint(0, 7))
        for home in rng.sample(homes, 3):
            left = _balance_at(session, home, moment) - spent.get(home.id, 0)
            affordable = [i for i in items if i.price <= left * 0.6]
            if not affordable:
                continue
            pick = rng.sample(affordable, min(len(affordable), rng.randint(1, 2)))
            lines = [(i.id, 1) for i in pick if i.price <= left]
            try:
                r = redeem(
                    session,
                    actor=cashier,
                    household_id=home.id,
                    lines=lines,
                    idempotency_key=uuid.uuid4().hex,
                    now=moment,
                )
            except DomainError:
                session.rollback()
                continue
            spent[home.id] = spent.get(home.id, 0) + r.total
            made.append(r)
    done = [r for r in made if not r.deliver]
    if done:
        wrong = done[len(done) // 2]
        cancel_redemption(
            session,
            actor=cashier,
            redemption_id=wrong.id,
            reason="拿错了商品，当场退回",
            now=wrong.created_at + timedelta(minutes=20),
        )
    # All deliveries but the last two have been made by the group's volunteer.
    to_deliver = [r for r in made if r.deliver]
    for r in to_deliver[:-2]:
        confirm_delivered(
            session,
            actor=cashier,
            village_id=village.id,
            redemption_id=r.id,
            delivered_on=(r.created_at + timedelta(days=1)).date(),
            delivered_by="志愿者王小燕",
            now=r.created_at + timedelta(days=1, hours=3),
        )
