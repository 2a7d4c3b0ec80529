"""The demo shop: twenty items, two donors, three months of redemptions, one cancelled,
two still to deliver, and every check of verify-ledger passes."""

from __future__ import annotations

from sqlalchemy import select

from credits.demo import load_demo
from credits.evidence import LocalPhotoStore
from credits.ledger import verify
from credits.models import Redemption, RedemptionState, ShopItem
from credits.shop.delivery import to_deliver
from credits.shop.stock import donors


def test_demo_shop_is_stocked_with_history(session, tmp_path):
    village = load_demo(session, households=15, photos=LocalPhotoStore(tmp_path))
    items = session.scalars(select(ShopItem)).all()
    assert len(items) == 20 and all(i.photo_key for i in items)
    assert {i.name: i.price for i in items}["食用油 5L"] == 85
    assert len(donors(session, village.id)) == 2
    redemptions = session.scalars(select(Redemption).order_by(Redemption.created_at)).all()
    assert len(redemptions) > 30
    assert (redemptions[-1].created_at - redemptions[0].created_at).days >= 80
    assert [r.state for r in redemptions].count(RedemptionState.CANCELLED) == 1
    assert len(to_deliver(session, village.id)) == 2
    assert verify(session).ok
