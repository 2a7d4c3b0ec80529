"""The shop receipt as an A6 PDF: village, 积分超市, number, items, points, balance after,
cashier, time and the household's passbook QR code."""

from __future__ import annotations

import os
from typing import IO

from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from sqlalchemy.orm import Session

from credits import cards
from credits.clock import to_local
from credits.documents.fonts import draw_text
from credits.documents.frame import GREY, INK, RED, open_document
from credits.documents.layout import draw_qr
from credits.i18n import gettext
from credits.models import Redemption
from credits.privacy import mask_name


def render_receipt(
    session: Session,
    redemption: Redemption,
    out: IO[bytes] | str | os.PathLike[str],
    *,
    base_url: str,
    locale: str = "zh_CN",
) -> None:
    """Write one redemption's receipt as an A6 portrait PDF."""

    def t(msgid: str, **params: object) -> str:
        return gettext(msgid, locale, **params)

    household = redemption.household
    village = household.village
    width, height = A6
    c = open_document(out, title=t("Receipt %(number)s", number=redemption.number), pagesize=A6)
    x0, x1 = 8 * mm, width - 8 * mm
    y = height - 10 * mm
    c.setFillColor(RED)
    draw_text(
        c, width / 2, y - 4, f"{village.name} · {t('Points shop')}", 14, anchor="centre", bold=True
    )
    y -= 9 * mm
    c.setFillColor(INK)
    draw_text(c, x0, y, t("No. %(number)s", number=redemption.number), 9.5)
    draw_text(
        c, x1, y, to_local(redemption.created_at).strftime("%Y-%m-%d %H:%M"), 9.5, anchor="right"
    )
    y -= 5.5 * mm
    group = household.group.name if household.group else ""
    who = f"{mask_name(household.head_name)}  {group}{household.house_number}"
    draw_text(c, x0, y, t("Household: %(who)s", who=who), 9.5)
    y -= 3 * mm
    c.setStrokeColor(GREY)
    c.setLineWidth(0.5)
    c.line(x0, y, x1, y)
    y -= 5 * mm
    for line in redemption.lines:
        draw_text(c, x0, y, line.name, 10.5)
        draw_text(
            c, x1 - 24 * mm, y, f"{line.price}×{line.quantity}{line.unit}", 9.5, anchor="right"
        )
        draw_text(c, x1, y, f"−{line.points}", 10.5, anchor="right", bold=True)
        y -= 5.5 * mm
    c.line(x0, y + 2.5 * mm, x1, y + 2.5 * mm)
    y -= 1.5 * mm
    draw_text(c, x0, y, t("Total points"), 11, bold=True)
    draw_text(c, x1, y, f"−{redemption.total}", 13, anchor="right", bold=True)
    y -= 6 * mm
    draw_text(c, x0, y, t("Spendable balance after"), 10.5)
    draw_text(c, x1, y, str(redemption.balance_after), 12, anchor="right", bold=True)
    y -= 5.5 * mm
    draw_text(c, x0, y, t("Cashier: %(name)s", name=redemption.cashier.display_name), 9.5)
    if redemption.state == "cancelled":
        c.setFillColor(RED)
        draw_text(c, x1, y, t("Cancelled"), 11, anchor="right", bold=True)
        c.setFillColor(INK)
    qr = 26 * mm
    qr_y = max(16 * mm, y - 8 * mm - qr)  # right under the lines, never off the page
    draw_qr(c, (width - qr) / 2, qr_y, qr, cards.issue_url(base_url, household))
    c.setFillColor(GREY)
    draw_text(c, width / 2, qr_y - 4 * mm, t("Scan for your passbook"), 8.5, anchor="centre")
    draw_text(
        c,
        width / 2,
        qr_y - 8 * mm,
        t("Points never change into cash. Keep this receipt."),
        7.5,
        anchor="centre",
    )
    c.showPage()
    c.save()
