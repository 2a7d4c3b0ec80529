"""The printed passbook (存折): a bank-passbook statement of a household for a date range.

For villagers without a phone. A4 portrait, one statement per scheme, each starting on
a new page: a header with the household and the period, then a table of date, item,
member, credit, debit and the running balance between the opening and closing balances.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import IO

from reportlab.lib.colors import HexColor
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.orm import Session

from credits.cards import card_number
from credits.clock import today
from credits.documents.fonts import draw_text, text_width
from credits.documents.frame import GOLD, GREY, INK, RED, PageFrame, open_document
from credits.documents.text import format_date, format_signed
from credits.errors import ValidationError
from credits.i18n import N_, gettext
from credits.ledger import head_code
from credits.models import Household
from credits.passbook import HistoryLine, Statement, statements

ROW_H = 7 * mm
HEAD_ROW_H = 8 * mm
TEXT_SIZE = 9.5
HEAD_SIZE = 9
SOFT = HexColor("#FBEEEC")
ZEBRA = HexColor("#F8F5F2")
LINE = HexColor("#CCCCCC")
POS = HexColor("#16713A")
NEG = HexColor("#C2410C")

KIND_LABELS = {
    "award": N_("Award"),
    "deduction": N_("Deduction"),
    "redemption": N_("Redemption"),
    "reversal": N_("Correction"),
    "adjustment": N_("Adjustment"),
}

# Column widths as fractions of the content width: date, item, member, in, out, balance.
COLUMNS = (0.17, 0.37, 0.12, 0.11, 0.11, 0.12)


@dataclass(frozen=True)
class PassbookResult:
    """What was printed."""

    pages: int
    statements: int
    lines: int


def _fit_text(text: str, size: float, room: float) -> str:
    if text_width(text, size) <= room:
        return text
    while text and text_width(text + "…", size) > room:
        text = text[:-1]
    return text + "…"


class _Writer:
    """Draws statements onto framed pages, breaking pages as the rows run out."""

    def __init__(self, canvas: Canvas, frame: PageFrame, household: Household, locale: str):
        self.canvas = canvas
        self.frame = frame
        self.household = household
        self.locale = locale
        self.x0, self.y0, self.x1, self.y1 = frame.content_box()
        self.y = self.y1
        self.pages = 0
        self.row_index = 0
        width = self.x1 - self.x0
        self.edges = [self.x0]
        for fraction in COLUMNS:
            self.edges.append(self.edges[-1] + fraction * width)

    def _(self, msgid: str, **params: object) -> str:
        return gettext(msgid, self.locale, **params)

    def new_page(self) -> None:
        if self.pages:
            self.canvas.showPage()
        self.pages += 1
        self.y = self.y1

    def header(self, statement: Statement) -> None:
        """The passbook page head: household, card, scheme and period in a ruled box."""
        c = self.canvas
        household = self.household
        period_from = (
            format_date(statement.date_from, self.locale)
            if statement.date_from
            else self._("account opened")
        )
        period = self._(
            "%(start)s to %(end)s",
            start=period_from,
            end=format_date(statement.date_to, self.locale),
        )
        cells = [
            (self._("Head of household"), household.head_name),
            (self._("House no."), household.house_number or "—"),
            (self._("Group"), household.group.name if household.group else "—"),
            (self._("Card no."), card_number(household)),
            (self._("Scheme"), statement.scheme_name),
            (self._("Period"), period),
        ]
        box_h = 2 * 9 * mm + 4 * mm
        top = self.y
        c.saveState()
        c.setStrokeColor(GOLD)
        c.setLineWidth(0.8)
        c.setFillColor(SOFT)
        c.rect(self.x0, top - box_h, self.x1 - self.x0, box_h, stroke=1, fill=1)
        col_w = (self.x1 - self.x0) / 3
        for i, (label, value) in enumerate(cells):
            row, col = divmod(i, 3)
            x = self.x0 + col * col_w + 3 * mm
            y = top - 2 * mm - row * 9 * mm
            c.setFillColor(GREY)
            draw_text(c, x, y - 3.2 * mm, label, 7.5)
            c.setFillColor(INK)
            size = 11 if i != 5 else 9.5
            draw_text(c, x, y - 7.8 * mm, _fit_text(value, size, col_w - 5 * mm), size, bold=i == 0)
        c.restoreState()
        self.y = top - box_h - 4 * mm

    def table_head(self, statement: Statement, continued: bool) -> None:
        c = self.canvas
        if continued:
            c.saveState()
            c.setFillColor(RED)
            draw_text(
                c,
                self.x0,
                self.y - 4 * mm,
                self._("%(scheme)s (continued)", scheme=statement.scheme_name),
                10,
                bold=True,
            )
            c.restoreState()
            self.y -= 7 * mm
        labels = [
            self._("Date"),
            self._("Passbook item"),
            self._("Member"),
            self._("Points in"),
            self._("Points out"),
            self._("Balance"),
        ]
        c.saveState()
        c.setFillColor(RED)
        c.rect(self.x0, self.y - HEAD_ROW_H, self.x1 - self.x0, HEAD_ROW_H, stroke=0, fill=1)
        c.setFillColor(HexColor("#FFFFFF"))
        baseline = self.y - HEAD_ROW_H / 2 - HEAD_SIZE * 0.36
        for i, label in enumerate(labels):
            self._cell(i, baseline, label, HEAD_SIZE, bold=True)
        c.restoreState()
        self.y -= HEAD_ROW_H
        self.row_index = 0

    def _cell(
        self, column: int, baseline: float, text: str, size: float, *, bold: bool = False
    ) -> None:
        left, right = self.edges[column] + 1.5 * mm, self.edges[column + 1] - 1.5 * mm
        if column >= 3:
            draw_text(self.canvas, right, baseline, text, size, anchor="right", bold=bold)
        else:
            draw_text(
                self.canvas, left, baseline, _fit_text(text, size, right - left), size, bold=bold
            )

    def row(
        self,
        cells: list[str],
        *,
        strong: bool = False,
        colour_points: int | None = None,
    ) -> None:
        c = self.canvas
        top = self.y
        c.saveState()
        if strong:
            c.setFillColor(SOFT)
            c.rect(self.x0, top - ROW_H, self.x1 - self.x0, ROW_H, stroke=0, fill=1)
        elif self.row_index % 2:
            c.setFillColor(ZEBRA)
            c.rect(self.x0, top - ROW_H, self.x1 - self.x0, ROW_H, stroke=0, fill=1)
        c.setStrokeColor(LINE)
        c.setLineWidth(0.3)
        c.line(self.x0, top - ROW_H, self.x1, top - ROW_H)
        baseline = top - ROW_H / 2 - TEXT_SIZE * 0.36
        for i, text in enumerate(cells):
            if not text:
                continue
            ink = INK
            if colour_points is not None and i in (3, 4):
                ink = POS if colour_points > 0 else NEG
            c.setFillColor(ink)
            self._cell(i, baseline, text, TEXT_SIZE, bold=strong or i == 5)
        c.restoreState()
        self.y -= ROW_H
        self.row_index += 1

    def room_for_rows(self) -> int:
        return int((self.y - self.y0) // ROW_H)

    def item_text(self, line: HistoryLine) -> str:
        title = line.title or self._(KIND_LABELS.get(line.kind, N_("Entry")))
        if line.is_reversal:
            title = self._("Correction: %(title)s", title=title)
        elif line.reversed_later:
            title = self._("%(title)s (corrected later)", title=title)
        return title

    def statement(self, statement: Statement) -> int:
        """Draw one statement from a fresh page; return how many entry lines it drew."""
        self.new_page()
        self.header(statement)
        self.table_head(statement, continued=False)
        opening_label = (
            self._("Brought forward") if statement.date_from else self._("Opening balance")
        )
        self.row(["", opening_label, "", "", "", str(statement.opening)], strong=True)
        for line in statement.lines:
            # Keep one row free at the foot of the last page for the closing balance.
            if self.room_for_rows() < 1:
                self.new_page()
                self.table_head(statement, continued=True)
            points = line.points
            self.row(
                [
                    format_date(line.day, self.locale),
                    self.item_text(line),
                    line.member,
                    format_signed(points) if points > 0 else "",
                    format_signed(points) if points < 0 else "",
                    str(line.balance_after),
                ],
                colour_points=points,
            )
        if self.room_for_rows() < 3:
            self.new_page()
            self.table_head(statement, continued=True)
        self.row(
            [
                "",
                self._("Closing balance"),
                "",
                format_signed(statement.credits) if statement.credits else "",
                format_signed(-statement.debits) if statement.debits else "",
                str(statement.closing),
            ],
            strong=True,
        )
        self.y -= 4 * mm
        c = self.canvas
        c.saveState()
        c.setFillColor(GREY)
        note = self._(
            "Spendable points: %(balance)s %(unit)s · honour score: %(score)s %(unit)s "
            "(spending in the shop never lowers the honour score)",
            balance=statement.closing,
            score=statement.score,
            unit=statement.unit,
        )
        draw_text(c, self.x0, self.y - 3 * mm, _fit_text(note, 8.5, self.x1 - self.x0), 8.5)
        c.restoreState()
        self.y -= 8 * mm
        return len(statement.lines)


def print_passbook(
    session: Session,
    household: Household,
    out: IO[bytes] | str | os.PathLike[str],
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    scheme_key: str | None = None,
    locale: str = "zh_CN",
) -> PassbookResult:
    """Print a household's passbook statements for a date range (default: all until today)."""
    items = statements(
        session, household, date_from=date_from, date_to=date_to, scheme_key=scheme_key
    )
    if not items:
        raise ValidationError(N_("This village has no points scheme yet."))
    village = household.village
    frame = PageFrame(
        title=gettext("Points passbook", locale),
        village=village.name,
        ledger_code=head_code(session, village.id),
        printed_on=today(),
        locale=locale,
    )
    title = gettext("Points passbook", locale) + f" · {household.head_name}"
    canvas = open_document(out, title=title, subject=title, frame=frame)
    writer = _Writer(canvas, frame, household, locale)
    lines = sum(writer.statement(statement) for statement in items)
    canvas.save()
    return PassbookResult(pages=writer.pages, statements=len(items), lines=lines)
