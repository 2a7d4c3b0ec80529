"""The public catalogue (no login): what points buy, what is in stock, who donated."""

from __future__ import annotations

import io
from typing import Any

from flask import abort, render_template, send_file

from app.evidence import photo_store
from app.extensions import db
from app.shop import bp
from credits import notice
from credits.models import ShopItem
from credits.shop.board import public_catalogue


def _village(village_code: str) -> Any:
    village = notice.public_village(db.session, village_code[:40])
    if village is None:
        abort(404)
    return village


@bp.get("/p/<village_code>/shop")
def catalogue(village_code: str) -> Any:
    """The catalogue an elderly villager asks about first: what can my points buy?"""
    village = _village(village_code)
    view = public_catalogue(db.session, village)
    return render_template("shop/catalogue.html", village=village, view=view)


@bp.get("/p/<village_code>/shop/items/<int:item_id>/photo")
def item_photo(village_code: str, item_id: int) -> Any:
    """The photo of an item on sale (public, like the item itself)."""
    village = _village(village_code)
    item = db.session.get(ShopItem, item_id)
    if item is None or item.village_id != village.id or not item.active or not item.photo_key:
        abort(404)
    try:
        data = photo_store().read(item.thumb_key or item.photo_key)
    except (OSError, ValueError):
        abort(404)
    response = send_file(io.BytesIO(data), mimetype="image/jpeg", max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
