"""The delivery list for volunteers: per group, the households to visit and what to bring."""

from __future__ import annotations

import os
from datetime import datetime
from typing import IO

from reportlab.lib.units import mm
from sqlalchemy.orm import Session

from credits.clock import to_local
from credits.documents.fonts import draw_text
from credits.documents.frame import GREY, INK, PageFrame, open_document
from credits.i18n import gettext
from credits.models import Village
from credits.shop.delivery import to_deliver


def render_delivery_list(
    session: Session,
    village: Village,
    out: IO[bytes] | str | os.PathLike[str],
    *,
    group_id: int | None = None,
    now: datetime,
    locale: str = "zh_CN",
) -> int:
    """Write the delivery list (A4), one block per group; return the redemptions listed."""
    waiting = to_deliver(session, village.id, group_id)
    frame = PageFrame(
        title=gettext("Delivery list", locale),
        village=village.name,
        printed_on=to_local(now).date(),
        locale=locale,
    )
    c = open_document(out, title=gettext("Delivery list", locale), frame=frame)
    x0, y0, x1, y1 = frame.content_box()
    y = y1 - 6 * mm
    c.setFillColor(INK)
    draw_text(
        c,
        x0,
        y,
        gettext("%(n)s redemptions to deliver. Volunteer: ______________", locale, n=len(waiting)),
        11,
    )
    y -= 8 * mm
    cols = (x0, x0 + 40 * mm, x0 + 70 * mm, x1 - 62 * mm, x1 - 30 * mm)
    heads = ("Household", "Redeemed on", "Goods", "Delivered on", "Signature")
    current = object()
    for r in waiting:
        h = r.household
        group = h.group.name if h.group else gettext("No group", locale)
        if y < y0 + 20 * mm:
            c.showPage()
            y = y1 - 6 * mm
            current = object()
        if group != current:
            current = group
            y -= 2 * mm
            c.setFillColor(INK)
            draw_text(c, x0, y, group, 13, bold=True)
            y -= 6 * mm
            c.setFillColor(GREY)
            for x, head in zip(cols, heads, strict=True):
                draw_text(c, x, y, gettext(head, locale), 9.5)
            y -= 2.5 * mm
            c.setStrokeColor(GREY)
            c.line(x0, y, x1, y)
            y -= 6 * mm
        c.setFillColor(INK)
        draw_text(c, cols[0], y, h.head_name, 11.5, bold=True)
        c.setFillColor(GREY)
        draw_text(c, cols[0], y - 4.2 * mm, f"{h.house_number} {h.phone}"[:24], 8.5)
        c.setFillColor(INK)
        draw_text(c, cols[1], y, to_local(r.created_at).strftime("%m-%d"), 11)
        goods = "、".join(f"{line.name}×{line.quantity}" for line in r.lines)
        draw_text(c, cols[2], y, goods[:22], 11)
        draw_text(c, cols[2], y - 4.2 * mm, r.number, 8.5)
        c.setStrokeColor(GREY)
        c.line(cols[3], y - 1.5, cols[4] - 4 * mm, y - 1.5)
        c.line(cols[4], y - 1.5, x1, y - 1.5)
        y -= 12 * mm
    if not waiting:
        draw_text(c, x0, y, gettext("Nothing to deliver.", locale), 12)
    c.showPage()
    c.save()
    return len(waiting)
