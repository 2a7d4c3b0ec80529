"""The notice sheet (公示表): the claims on notice, printed for the village notice board."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from reportlab.lib.units import mm
from sqlalchemy import select
from sqlalchemy.orm import Session

from credits.clock import to_local
from credits.documents.frame import PageFrame, open_document
from credits.documents.layout import wrap
from credits.documents.notice_table import NoticeSheet, _date_text
from credits.i18n import gettext
from credits.ledger import head_code
from credits.models import Group, Scheme, Village
from credits.notice import public_notice

__all__ = ["SheetSummary", "public_notice_url", "render_notice_sheet", "wrap"]


@dataclass(frozen=True)
class SheetSummary:
    """What was printed: number of claims and of pages."""

    claims: int
    pages: int


def public_notice_url(base_url: str, village: Village, group: Group | None = None) -> str:
    """Return the address of the village's public notice page (printed as a QR code)."""
    url = f"{base_url.rstrip('/')}/p/{village.code}/notice"
    return f"{url}?group={group.id}" if group is not None else url


def render_notice_sheet(
    session: Session,
    village: Village,
    out: IO[bytes] | str | os.PathLike[str],
    *,
    now: datetime,
    base_url: str,
    group: Group | None = None,
    scheme: Scheme | None = None,
    locale: str = "zh_CN",
) -> SheetSummary:
    """Write the notice sheet of a village (or one group, or one scheme) as an A4 PDF."""

    def t(msgid: str, **params: object) -> str:
        return gettext(msgid, locale, **params)

    board = public_notice(
        session,
        village.id,
        scheme.id if scheme else None,
        group.id if group else None,
        now=now,
    )
    if scheme is not None:
        schemes = [scheme]
    else:
        all_schemes = session.scalars(
            select(Scheme)
            .where(Scheme.village_id == village.id, Scheme.active.is_(True))
            .order_by(Scheme.id)
        ).all()
        with_items = {i.scheme_id for i in board.items}
        schemes = [s for s in all_schemes if s.id in with_items] or list(all_schemes[:1])
    code = head_code(session, village.id)
    place = village.name + (f"{group.name}" if group else "")
    township = f"{village.township_name} · " if village.township_name else ""
    frame = PageFrame(
        title=t("Points notice sheet"),
        village=f"{township}{village.name}",
        ledger_code=code,
        printed_on=to_local(now).date(),
        locale=locale,
    )
    names = "、".join(s.name for s in schemes) if schemes else ""
    heading = t("%(place)s %(schemes)s points notice", place=place, schemes=names).strip()
    canvas = open_document(out, title=heading, subject=t("Points notice sheet"), frame=frame)
    sheet = NoticeSheet(canvas, frame, heading=heading, village_name=village.name, locale=locale)
    window = board.window
    if window is not None:
        start, end = (_date_text(to_local(d).date(), locale) for d in window)
        period = t("Notice period: %(start)s to %(end)s", start=start, end=end)
        deadline = end
    else:
        period = t("Notice period: none at the moment")
        deadline = _date_text(to_local(now).date(), locale)
    url = public_notice_url(base_url, village, group)
    positive = sum(1 for i in board.items if i.points > 0)
    intro = [
        (period, 11.5, True),
        (
            t(
                "%(n)s items on notice: %(awards)s awards, %(deductions)s deductions.",
                n=len(board.items),
                awards=positive,
                deductions=len(board.items) - positive,
            ),
            10,
            False,
        ),
        (
            t(
                "Anyone who disagrees with an item may object, giving their name, to the "
                "village supervisory committee by %(date)s, or online by scanning the QR "
                "code on the right.",
                date=deadline,
            ),
            10,
            False,
        ),
    ]
    sheet.draw_intro(intro, url)
    number = 0
    for s in schemes:
        items = board.for_scheme(s.id)
        if len(schemes) > 1 or scheme is None:
            sheet.section_title(
                t(
                    "%(scheme)s (%(n)s items, unit: %(unit)s)",
                    scheme=s.name,
                    n=len(items),
                    unit=s.unit,
                ),
                s.name,
            )
        sheet.draw_header()
        if not items:
            sheet.empty_row()
        for item in items:
            number += 1
            sheet.row(
                sheet.item_cells(number, item, show_group=group is None), stripe=number % 2 == 0
            )
        sheet.y -= 4 * mm
    if not schemes:
        sheet.draw_header()
        sheet.empty_row()
    check_url = f"{base_url.rstrip('/')}/p/{village.code}/ledger/check"
    sheet.draw_signatures(code, deadline, check_url)
    canvas.save()
    return SheetSummary(claims=len(board.items), pages=sheet.pages)
