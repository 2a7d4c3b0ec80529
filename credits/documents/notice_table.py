"""The notice sheet's layout: heading and QR code, the table of claims, the signature foot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from credits.clock import to_local
from credits.documents.fonts import draw_text, text_width
from credits.documents.frame import GOLD, GREY, INK, RED, PageFrame
from credits.documents.layout import LEAD, Cell, draw_qr, fit, wrap
from credits.documents.text import format_date_zh, format_signed
from credits.i18n import N_, gettext
from credits.notice import NoticeItem

LINE = HexColor("#9A9A9A")
HEAD_FILL = HexColor("#F6E7E5")
STRIPE = HexColor("#FAF7F4")
HELD = HexColor("#B3121B")

BODY = 10.5  # table text
SMALL = 8.5  # second lines in a cell
PAD = 1.6 * mm


@dataclass(frozen=True)
class Column:
    title: str  # msgid
    width: float  # mm
    align: str = "left"


COLUMNS = (
    Column(N_("No."), 8, "centre"),
    Column(N_("Household (head)"), 32),
    Column(N_("Points item"), 54),
    Column(N_("Points value"), 14, "centre"),
    Column(N_("Date of the deed"), 27, "centre"),
    Column(N_("Recorded by"), 18, "centre"),
    Column(N_("Notice ends"), 27, "centre"),
)


class NoticeSheet:
    """Lays out the sheet page by page on a framed canvas."""

    def __init__(
        self,
        canvas: Canvas,
        frame: PageFrame,
        *,
        heading: str,
        village_name: str,
        locale: str,
    ) -> None:
        self.canvas = canvas
        self.frame = frame
        self.heading = heading
        self.village_name = village_name
        self.locale = locale
        self.section = ""
        self.x0, self.y0, self.x1, self.y1 = frame.content_box()
        self.y = self.y1
        self.pages = 1
        self.widths = [c.width * mm for c in COLUMNS]
        # Stretch or shrink the columns to the content width exactly.
        scale = (self.x1 - self.x0) / sum(self.widths)
        self.widths = [w * scale for w in self.widths]

    def t(self, msgid: str, **params: object) -> str:
        return gettext(msgid, self.locale, **params)

    # -- page flow --

    def new_page(self) -> None:
        self.canvas.showPage()
        self.pages += 1
        self.y = self.y1
        draw_text(
            self.canvas,
            self.x0,
            self.y - 10,
            " · ".join(
                p for p in (self.t("%(title)s (continued)", title=self.heading), self.section) if p
            ),
            10,
        )
        self.y -= 16

    def ensure(self, height: float) -> bool:
        """Start a new page unless height fits above the bottom; tell whether it did."""
        if self.y - height < self.y0:
            self.new_page()
            return True
        return False

    # -- the top of the first page --

    def draw_intro(self, lines: Sequence[tuple[str, float, bool]], url: str) -> None:
        """Heading, notice window, how to object, and the QR code of the public page."""
        c = self.canvas
        c.setFillColor(INK)
        size = fit(self.heading, self.x1 - self.x0, 19)
        draw_text(
            c,
            (self.x0 + self.x1) / 2,
            self.y - size,
            self.heading,
            size,
            anchor="centre",
            bold=True,
        )
        self.y -= size * 1.9
        qr_size = 27 * mm
        text_right = self.x1 - qr_size - 6 * mm
        top = self.y
        for text, size, bold in lines:
            for line in wrap(text, text_right - self.x0, size):
                self.y -= size * 1.45
                draw_text(c, self.x0, self.y, line, size, bold=bold)
            self.y -= size * 0.35
        c.setFillColor(GREY)
        for line in wrap(url, text_right - self.x0, 8):
            self.y -= 8 * 1.4
            draw_text(c, self.x0, self.y, line, 8)
        qr_y = top - qr_size - 1 * mm
        draw_qr(c, self.x1 - qr_size, qr_y, qr_size, url)
        caption = self.t("Scan to see the notice or object")
        c.setFillColor(GREY)
        draw_text(
            c,
            self.x1 - qr_size / 2,
            qr_y - 9,
            caption,
            fit(caption, qr_size + 4 * mm, 7.5),
            anchor="centre",
        )
        self.y = min(self.y, qr_y - 12) - 4 * mm
        c.setFillColor(INK)

    # -- the table --

    def section_title(self, text: str, name: str) -> None:
        self.ensure(14 + self.header_height() + 30)
        self.section = name
        self.canvas.setFillColor(RED)
        self.canvas.rect(self.x0, self.y - 12.5, 3, 11, stroke=0, fill=1)
        self.canvas.setFillColor(INK)
        draw_text(self.canvas, self.x0 + 7, self.y - 10.5, text, 12, bold=True)
        self.y -= 17

    def header_height(self) -> float:
        return 9.5 + 2 * PAD

    def draw_header(self) -> None:
        c = self.canvas
        h = self.header_height()
        c.setFillColor(HEAD_FILL)
        c.rect(self.x0, self.y - h, self.x1 - self.x0, h, stroke=0, fill=1)
        c.setFillColor(RED)
        x = self.x0
        for col, width in zip(COLUMNS, self.widths, strict=True):
            title = self.t(col.title)
            size = fit(title, width - 2 * PAD, 9.5)
            draw_text(c, x + width / 2, self.y - PAD - 8.2, title, size, anchor="centre", bold=True)
            x += width
        self._grid(self.y, h, strong=True)
        self.y -= h

    def _grid(self, top: float, height: float, strong: bool = False) -> None:
        c = self.canvas
        c.saveState()
        c.setStrokeColor(RED if strong else LINE)
        c.setLineWidth(0.8 if strong else 0.4)
        c.rect(self.x0, top - height, self.x1 - self.x0, height, stroke=1, fill=0)
        c.setStrokeColor(LINE)
        c.setLineWidth(0.4)
        x = self.x0
        for width in self.widths[:-1]:
            x += width
            c.line(x, top, x, top - height)
        c.restoreState()

    def row(self, cells: list[Cell], stripe: bool) -> None:
        height = max(cell.height() for cell in cells) + 2 * PAD
        if self.ensure(height):
            self.draw_header()
        c = self.canvas
        if stripe:
            c.setFillColor(STRIPE)
            c.rect(self.x0, self.y - height, self.x1 - self.x0, height, stroke=0, fill=1)
        x = self.x0
        for cell, width in zip(cells, self.widths, strict=True):
            # Centre the cell's lines vertically in the row.
            y = self.y - (height - cell.height()) / 2
            for text, size, colour, bold in cell.lines:
                y -= size * LEAD
                c.setFillColor(colour)
                baseline = y + size * (LEAD - 1) / 2 + size * 0.12
                if cell.align == "centre":
                    draw_text(c, x + width / 2, baseline, text, size, anchor="centre", bold=bold)
                else:
                    draw_text(c, x + PAD, baseline, text, size, bold=bold)
            x += width
        self._grid(self.y, height)
        self.y -= height

    def item_cells(self, number: int, item: NoticeItem, show_group: bool) -> list[Cell]:
        w = [width - 2 * PAD for width in self.widths]
        where = " · ".join(
            p for p in (item.house_number, item.group_name if show_group else "") if p
        )
        household: list[tuple[str, float, Color, bool]] = [(item.household, 11.5, INK, True)]
        if where:
            household += [(line, SMALL, GREY, False) for line in wrap(where, w[1], SMALL)]
        rule = [(line, BODY, INK, False) for line in wrap(item.rule_title, w[2], BODY)]
        extra = []
        if item.member:
            extra.append(self.t("Done by %(name)s", name=item.member))
        if item.category:
            extra.append(item.category)
        if extra:
            rule += [(line, SMALL, GREY, False) for line in wrap(" · ".join(extra), w[2], SMALL)]
        if item.held:
            held = self.t("Objection raised; held until the committee decides")
            rule += [(line, SMALL, HELD, True) for line in wrap(held, w[2], SMALL)]
        points = format_signed(item.points)
        deed = (
            format_date_zh(item.deed_date)
            if self.locale.startswith("zh")
            else item.deed_date.isoformat()
        )
        notice_end = to_local(item.notice_end)
        end = _date_text(notice_end.date(), self.locale)
        end_time = notice_end.strftime("%H:%M")
        recorder = item.recorder or "—"
        return [
            Cell([(str(number), BODY, GREY, False)], "centre"),
            Cell(household),
            Cell(rule),
            Cell(
                [(points, fit(points, w[3], 13), RED if item.points < 0 else INK, True)], "centre"
            ),
            Cell([(deed, fit(deed, w[4], 9.5), INK, False)], "centre"),
            Cell([(line, 9.5, INK, False) for line in wrap(recorder, w[5], 9.5)], "centre"),
            Cell(
                [(end, fit(end, w[6], 9.5), INK, False), (end_time, SMALL, GREY, False)], "centre"
            ),
        ]

    def empty_row(self) -> None:
        height = 14 * mm
        self.ensure(height)
        self.canvas.setFillColor(GREY)
        draw_text(
            self.canvas,
            (self.x0 + self.x1) / 2,
            self.y - height / 2 - 4,
            self.t("No claims are on notice at the moment."),
            11,
            anchor="centre",
        )
        self._grid(self.y, height)
        self.y -= height

    # -- the foot --

    def draw_signatures(self, code: str, deadline: str, check_url: str = "") -> None:
        """Committee signature and date lines, the stamp place and the ledger head code."""
        height = 52 * mm
        self.ensure(height)
        c = self.canvas
        self.y -= 7 * mm
        c.setFillColor(INK)
        note = self.t(
            "Claims with no objection by %(date)s are posted to the households' accounts.",
            date=deadline,
        )
        for line in wrap(note, self.x1 - self.x0, 9.5):
            draw_text(c, self.x0, self.y, line, 9.5)
            self.y -= 9.5 * 1.5
        self.y -= 9 * mm
        half = (self.x1 - self.x0) / 2
        left = self.t("Village supervisory committee (signature):")
        right = self.t("Date:")
        draw_text(c, self.x0, self.y, left, 11, bold=True)
        lx = self.x0 + text_width(left, 11) + 2 * mm
        self._blank(lx, self.x0 + half + 10 * mm)
        rx = self.x0 + half + 16 * mm
        draw_text(c, rx, self.y, right, 11, bold=True)
        date_x = rx + text_width(right, 11) + 3 * mm
        date_line = self.t("____ year ___ month ___ day")
        draw_text(c, date_x, self.y, date_line, 11)
        self.y -= 13 * mm
        stamp = self.t("%(village)s villagers' committee (stamp)", village=self.village_name)
        draw_text(c, self.x1, self.y, stamp, 11, anchor="right")
        self.y -= 11 * mm
        c.setStrokeColor(GOLD)
        c.setLineWidth(0.6)
        c.line(self.x0, self.y + 5 * mm, self.x1, self.y + 5 * mm)
        c.setFillColor(INK)
        label = self.t("Ledger check code:")
        draw_text(c, self.x0, self.y, label, 10, bold=True)
        draw_text(c, self.x0 + text_width(label, 10) + 2 * mm, self.y, code, 12, bold=True)
        c.setFillColor(GREY)
        explain = self.t(
            "The code of the last ledger entry when this sheet was printed; "
            "anyone may compare it with the one shown online."
        )
        self.y -= 5 * mm
        for line in wrap(explain, self.x1 - self.x0, 8.5):
            draw_text(c, self.x0, self.y, line, 8.5)
            self.y -= 8.5 * 1.4
        if check_url:
            check = self.t("Check it at %(url)s", url=check_url)
            for line in wrap(check, self.x1 - self.x0, 8.5):
                draw_text(c, self.x0, self.y, line, 8.5)
                self.y -= 8.5 * 1.4

    def _blank(self, x_from: float, x_to: float) -> None:
        c = self.canvas
        c.saveState()
        c.setStrokeColor(INK)
        c.setLineWidth(0.6)
        c.line(x_from, self.y - 2, x_to, self.y - 2)
        c.restoreState()


def _date_text(day: date, locale: str) -> str:
    return format_date_zh(day) if locale.startswith("zh") else day.isoformat()
