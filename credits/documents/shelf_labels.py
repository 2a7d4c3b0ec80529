"""Shelf labels: an A4 sheet of labels with name, photo and points in large type."""

from __future__ import annotations

import io
import os
from typing import IO

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from sqlalchemy.orm import Session

from credits.documents.fonts import draw_text, text_width
from credits.documents.frame import GOLD, GREY, INK, RED, open_document
from credits.evidence import PhotoStore
from credits.i18n import gettext
from credits.models import Village
from credits.shop.catalogue import items

COLS, ROWS = 2, 4
LABEL_W, LABEL_H = 90 * mm, 62 * mm


def render_shelf_labels(
    session: Session,
    village: Village,
    out: IO[bytes] | str | os.PathLike[str],
    *,
    photos: PhotoStore | None = None,
    locale: str = "zh_CN",
) -> int:
    """Write the labels of every active item; return how many were drawn."""
    on_sale = items(session, village.id, active_only=True)
    c = open_document(out, title=gettext("Shelf labels", locale), pagesize=A4)
    width, height = A4
    x_start = (width - COLS * LABEL_W) / 2
    y_top = height - (height - ROWS * LABEL_H) / 2
    for n, item in enumerate(on_sale):
        if n and n % (COLS * ROWS) == 0:
            c.showPage()
        slot = n % (COLS * ROWS)
        x = x_start + (slot % COLS) * LABEL_W
        y = y_top - (slot // COLS + 1) * LABEL_H
        _label(c, item, x, y, photos, village.name, locale)
    if not on_sale:
        draw_text(
            c,
            width / 2,
            height / 2,
            gettext("No item is on sale yet.", locale),
            14,
            anchor="centre",
        )
    c.showPage()
    c.save()
    return len(on_sale)


def _label(c, item, x, y, photos, village_name, locale) -> None:  # type: ignore[no-untyped-def]
    pad = 4 * mm
    c.saveState()
    c.setStrokeColor(HexColor("#BBBBBB"))
    c.setDash(2, 2)
    c.rect(x, y, LABEL_W, LABEL_H, stroke=1, fill=0)  # cut line
    c.setDash()
    c.setFillColor(RED)
    c.rect(x + pad, y + LABEL_H - pad - 8 * mm, LABEL_W - 2 * pad, 8 * mm, stroke=0, fill=1)
    c.setFillColor(HexColor("#FFFFFF"))
    draw_text(
        c,
        x + pad + 3 * mm,
        y + LABEL_H - pad - 5.6 * mm,
        gettext("Points shop", locale),
        11,
        bold=True,
    )
    draw_text(
        c, x + LABEL_W - pad - 3 * mm, y + LABEL_H - pad - 5.6 * mm, village_name, 9, anchor="right"
    )
    photo_size = 38 * mm
    px, py = x + pad, y + pad + 1 * mm
    drawn = False
    if photos is not None and item.photo_key:
        try:
            data = photos.read(item.thumb_key or item.photo_key)
            c.drawImage(
                ImageReader(io.BytesIO(data)),
                px,
                py,
                photo_size,
                photo_size,
                preserveAspectRatio=True,
                anchor="c",
            )
            drawn = True
        except (OSError, ValueError):
            drawn = False
    if not drawn:
        c.setStrokeColor(GOLD)
        c.rect(px, py, photo_size, photo_size, stroke=1, fill=0)
        c.setFillColor(GREY)
        draw_text(c, px + photo_size / 2, py + photo_size / 2 - 3, item.unit, 16, anchor="centre")
    tx = px + photo_size + 4 * mm
    room = x + LABEL_W - pad - tx
    size = 20.0
    while size > 11 and text_width(item.name, size) > room:
        size -= 1
    c.setFillColor(INK)
    draw_text(c, tx, y + LABEL_H - pad - 17 * mm, item.name, size, bold=True)
    c.setFillColor(RED)
    price = str(item.price)
    draw_text(c, tx, py + 6 * mm, price, 38, bold=True)
    c.setFillColor(INK)
    per = gettext("points / %(unit)s", locale, unit=item.unit)
    draw_text(c, tx + text_width(price, 38) + 2 * mm, py + 6 * mm, per, 12)
    if item.monthly_limit:
        c.setFillColor(GREY)
        draw_text(
            c,
            tx,
            py,
            gettext("At most %(n)s a household a month", locale, n=item.monthly_limit),
            8.5,
        )
    c.restoreState()
