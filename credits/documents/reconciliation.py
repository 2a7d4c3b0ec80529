"""The monthly reconciliation as an A4 landscape PDF, signed by the cashier and the committee."""

from __future__ import annotations

import os
from typing import IO

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm

from credits.documents.fonts import draw_text, text_width
from credits.documents.frame import GREY, INK, RED, PageFrame, open_document
from credits.i18n import gettext
from credits.shop.reconciliation import Reconciliation, summary, table

HEAD_FILL = HexColor("#F6E7E5")
STAGES = ("Opening", "In", "Out", "Adjusted", "Closing")


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
    row_h = 6.5 * mm

    def header(y: float) -> float:
        """Two header rows: the item columns, then 数量 / 金额 under each stage."""
        c.setFillColor(HEAD_FILL)
        c.rect(x0, y - 2.2 * mm - row_h, x1 - x0, 2 * row_h, stroke=0, fill=1)
        c.setFillColor(INK)
        for i, title in enumerate(rows[0][:3]):
            if i < 2:
                draw_text(c, xs[i] + 1.5 * mm, y - row_h / 2, str(title), 9, bold=True)
            else:
                x = xs[i + 1] - 1.5 * mm
                draw_text(c, x, y - row_h / 2, str(title), 9, anchor="right", bold=True)
        for n, stage in enumerate(STAGES):
            left, right = xs[3 + 2 * n], xs[5 + 2 * n]
            draw_text(
                c, (left + right) / 2, y, gettext(stage, locale), 9, anchor="centre", bold=True
            )
            draw_text(
                c, xs[4 + 2 * n] - 1.5 * mm, y - row_h, gettext("Qty", locale), 8.5, anchor="right"
            )
            draw_text(c, right - 1.5 * mm, y - row_h, gettext("Yuan", locale), 8.5, anchor="right")
        c.setStrokeColor(GREY)
        c.line(x0, y - 2.2 * mm - row_h, x1, y - 2.2 * mm - row_h)
        return y - 2 * row_h

    y = header(y1 - 5 * mm)
    body = rows[1:]
    for n, row in enumerate(body):
        if y < y0 + 4 * mm:
            c.showPage()
            y = header(y1 - 5 * mm)
        last = n == len(body) - 1
        if last:
            c.setFillColor(HEAD_FILL)
            c.rect(x0, y - 2.2 * mm, x1 - x0, row_h, stroke=0, fill=1)
        c.setFillColor(INK)
        for i, value in enumerate(row):
            cell = f"{value:.2f}" if isinstance(value, float) else str(value)
            if i < 2:
                draw_text(c, xs[i] + 1.5 * mm, y, cell, 9.5, bold=last)
            else:
                draw_text(c, xs[i + 1] - 1.5 * mm, y, cell, 9.5, anchor="right", bold=last)
        c.setStrokeColor(GREY)
        c.setLineWidth(0.3)
        c.line(x0, y - 2.2 * mm, x1, y - 2.2 * mm)
        y -= row_h
    if y < y0 + 55 * mm:  # the summary and the signatures go together on one page
        c.showPage()
        y = y1 - 5 * mm
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
        label = gettext(who, locale)
        draw_text(c, x, y, label, 10.5)
        start = x + text_width(label, 10.5) + 3 * mm
        c.line(start, y - 1.5, x + (x1 - x0) / 3 - 8 * mm, y - 1.5)
    c.showPage()
    c.save()
