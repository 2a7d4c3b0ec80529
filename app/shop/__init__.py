"""The points shop's pages: the counter, receipts, catalogue, stock, delivery, reports."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("shop", __name__)

from app.shop import counter, manage, public  # noqa: E402,F401  (routes register on bp)
