"""The monthly reconciliation as an A4 landscape PDF, signed by the cashier and the committee."""

from __future__ import annotations

import os
from typing import IO

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm

from credits.documents.fonts import draw_text
from credits.documents.frame import GREY, INK, RED, PageFrame, open_document
from credits.i18n import gettext
from credits.shop.reconciliation import Reconciliation, summary, table

HEAD_FILL = HexColor("#F6E7E5")


def render_reconciliation(
    rec: Reconciliation, out: IO[bytes] | str | os.PathLike[str], *, locale: str = "zh_CN"
) -> None:
    """Write the reconciliation: the item table, the headline numbers, signature lines."""
    month = f"{rec.period // 100}-{rec.period % 100:02d}"
    frame = PageFrame(
        title=gettext("Points shop reconciliation", locale) + f" {month}",
        village=rec.village.name,
        locale=locale,
        pagesize=landscape(A4),
    )
    c = open_document(out, title=frame.title, frame=frame)
    x0, y0, x1, y1 = frame.content_box()
    rows = table(rec, locale)
    widths = [46, 14, 20] + [19.5] * 10
    scale = (x1 - x0) / (sum(widths) * mm)
    xs = [x0]
    for w in widths:
        xs.append(xs[-1] + w * mm * scale)
    y = y1 - 5 * mm
    row_h = 6.5 * mm
    for n, row in enumerate(rows):
        if y < y0 + 60 * mm:
            c.showPage()
            y = y1 - 5 * mm
        if n == 0 or n == len(rows) - 1:
            c.setFillColor(HEAD_FILL)
            c.rect(x0, y - 2.2 * mm, x1 - x0, row_h, stroke=0, fill=1)
        c.setFillColor(INK)
        for i, value in enumerate(row):
            cell = f"{value:.2f}" if isinstance(value, float) else str(value)
            size = 8.5 if n == 0 else 9.5
            if i < 2:
                draw_text(c, xs[i] + 1.5 * mm, y, cell, size, bold=n == 0)
            else:
                draw_text(c, xs[i + 1] - 1.5 * mm, y, cell, size, anchor="right", bold=n == 0)
        c.setStrokeColor(GREY)
        c.setLineWidth(0.3)
        c.line(x0, y - 2.2 * mm, x1, y - 2.2 * mm)
        y -= row_h
    y -= 4 * mm
    for i, (label, value) in enumerate(summary(rec, locale)):
        col = i % 2
        x = x0 + col * (x1 - x0) / 2
        text = f"{value:.2f}" if isinstance(value, float) else str(value)
        draw_text(c, x, y, label, 10.5)
        draw_text(c, x + 80 * mm, y, text, 11, anchor="right", bold=True)
        if col == 1:
            y -= 6 * mm
    if rec.outrun:
        y -= 2 * mm
        c.setFillColor(RED)
        draw_text(
            c,
            x0,
            y,
            gettext(
                "Warning: the points outstanding exceed what the goods on the shelf can honour.",
                locale,
            ),
            11,
            bold=True,
        )
        c.setFillColor(INK)
    y = y0 + 10 * mm
    for i, who in enumerate(("Cashier (signature)", "Supervisory committee (signature)", "Date")):
        x = x0 + i * (x1 - x0) / 3
        draw_text(c, x, y, gettext(who, locale), 10.5)
        c.line(x + 38 * mm, y - 1.5, x + (x1 - x0) / 3 - 8 * mm, y - 1.5)
    c.showPage()
    c.save()
