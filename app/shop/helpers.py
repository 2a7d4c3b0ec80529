"""Small helpers the shop's views share: numbers from forms, refusals, the photo store."""

from __future__ import annotations

import uuid

from flask import flash, request

from app.web import translate_error
from credits.errors import DomainError

MAX_INT = 2**31 - 1


def form_int(name: str, default: int | None = None, *, signed: bool = False) -> int | None:
    """Read a whole number from the form; None when empty, garbled or absurdly large."""
    raw = (request.values.get(name) or "").strip().replace("\x00", "")
    if not raw:
        return default
    body = raw[1:] if signed and raw[:1] in "+-−" else raw
    if not body.isdigit() or len(body) > 9:
        return None
    value = int(body)
    return -value if raw[:1] in "-−" else value


def new_key() -> str:
    """A fresh idempotency key for a form."""
    return uuid.uuid4().hex


def refuse(exc: DomainError) -> int:
    """Flash a domain refusal; return its status."""
    flash(translate_error(exc), "error")
    return exc.status


def text(name: str, limit: int) -> str:
    """A text field, cut to a sane length (the domain cleans it further)."""
    return (request.values.get(name) or "")[:limit]


def basket_lines() -> list[tuple[int, int]]:
    """The basket as (item id, quantity) from fields named qty-<item id>."""
    lines = []
    for name, value in request.form.items():
        if not name.startswith("qty-"):
            continue
        item_id = name[4:]
        raw = (value or "").strip()
        if not item_id.isdigit() or len(item_id) > 9:
            continue
        if not raw:
            continue
        if not raw.isdigit() or len(raw) > 4:
            lines.append((int(item_id), 10_000))  # refused by the domain with a clear message
            continue
        lines.append((int(item_id), int(raw)))
    return lines
