"""The page frame every printout shares: red title band, footer with page N of M, date, code."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import IO, Any

from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from credits.clock import today
from credits.documents.fonts import PRIMARY, draw_text, register_fonts, text_width
from credits.documents.text import format_date
from credits.i18n import gettext

RED = HexColor("#B3121B")  # 中国红, deep enough to stay red on a cheap laser printer
GOLD = HexColor("#C9A13B")
INK = HexColor("#222222")
GREY = HexColor("#555555")

Box = tuple[float, float, float, float]
PageDrawer = Callable[[Canvas, Box], None]


@dataclass
class PageFrame:
    """Header band, footer and margins of one kind of printout."""

    title: str
    village: str = ""
    ledger_code: str = ""
    printed_on: date = field(default_factory=today)
    locale: str = "zh_CN"
    pagesize: tuple[float, float] = A4
    margin_left: float = 15 * mm
    margin_right: float = 15 * mm
    # Office printers cannot print the outer ~5 mm; the band stays well inside that.
    margin_top: float = 12 * mm
    margin_bottom: float = 10 * mm
    band_height: float = 12 * mm
    title_size: float = 17
    village_size: float = 12
    footer_height: float = 8 * mm
    footer_size: float = 9
    gap: float = 5 * mm
    band_colour: Color = RED
    rule_colour: Color = GOLD

    def content_box(self) -> Box:
        """Return (x0, y0, x1, y1) of the area left for content, in points."""
        width, height = self.pagesize
        return (
            self.margin_left,
            self.margin_bottom + self.footer_height + self.gap,
            width - self.margin_right,
            height - self.margin_top - self.band_height - self.gap,
        )

    def draw(self, canvas: Canvas, page_number: int, page_count: int) -> None:
        """Draw the band and the footer of one page."""
        canvas.saveState()
        self._draw_band(canvas)
        self._draw_footer(canvas, page_number, page_count)
        canvas.restoreState()

    def _draw_band(self, canvas: Canvas) -> None:
        """Red band across the top with the title left and the village right, white on red."""
        width, height = self.pagesize
        x0, x1 = self.margin_left, width - self.margin_right
        top = height - self.margin_top
        y0 = top - self.band_height
        canvas.setFillColor(self.band_colour)
        canvas.rect(x0, y0, x1 - x0, self.band_height, stroke=0, fill=1)
        canvas.setStrokeColor(self.rule_colour)
        canvas.setLineWidth(1.2)
        canvas.line(x0, y0 - 1.6, x1, y0 - 1.6)
        pad = 4 * mm
        village_width = text_width(self.village, self.village_size) if self.village else 0.0
        room = x1 - x0 - 2 * pad - (village_width + 6 * mm if village_width else 0)
        # A long title shrinks to fit rather than run under the village name.
        size = min(self.title_size, room / max(text_width(self.title, 1), 1e-6))
        canvas.setFillColor(white)
        # CJK glyphs sit about 0.36 em above the centre line of their baseline box.
        draw_text(
            canvas, x0 + pad, y0 + self.band_height / 2 - size * 0.36, self.title, size, bold=True
        )
        if self.village:
            baseline = y0 + self.band_height / 2 - self.village_size * 0.36
            draw_text(canvas, x1 - pad, baseline, self.village, self.village_size, anchor="right")

    def _draw_footer(self, canvas: Canvas, page_number: int, page_count: int) -> None:
        """Thin rule, then print date left, page N of M centre, ledger code right."""
        width, _ = self.pagesize
        x0, x1 = self.margin_left, width - self.margin_right
        rule_y = self.margin_bottom + self.footer_height
        canvas.setStrokeColor(self.rule_colour)
        canvas.setLineWidth(0.6)
        canvas.line(x0, rule_y, x1, rule_y)
        canvas.setFillColor(GREY)
        baseline = self.margin_bottom + self.footer_height / 2 - self.footer_size * 0.36
        size = self.footer_size
        date_text = format_date(self.printed_on, self.locale)
        printed = gettext("Printed on %(date)s", self.locale, date=date_text)
        draw_text(canvas, x0, baseline, printed, size)
        if page_count:
            pages = gettext(
                "Page %(page)s of %(pages)s", self.locale, page=page_number, pages=page_count
            )
            draw_text(canvas, (x0 + x1) / 2, baseline, pages, size, anchor="centre")
        if self.ledger_code:
            code = gettext("Ledger check code %(code)s", self.locale, code=self.ledger_code)
            draw_text(canvas, x1, baseline, code, size, anchor="right")

    def canvasmaker(self) -> Callable[..., FramedCanvas]:
        """Return a canvas factory for platypus: doc.build(story, canvasmaker=...)."""
        register_fonts()
        return partial(FramedCanvas, frame=self)


class FramedCanvas(Canvas):
    """Canvas that holds its pages until save(), so each frame can say "page N of M"."""

    def __init__(self, *args: Any, frame: PageFrame | None = None, **kwargs: Any) -> None:
        """Create the canvas; frame is drawn on every page when the document is saved."""
        super().__init__(*args, **kwargs)
        self.frame = frame
        self._held_pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        """Hold the finished page (its whole drawing state) instead of writing it now."""
        self._held_pages.append(dict(self.__dict__))
        self._startPage()

    def _release_pages(self) -> None:
        """Second pass: now that the count is known, frame and write each held page."""
        if len(self._code) or not self._held_pages:
            self.showPage()
        held, self._held_pages = self._held_pages, []
        for state in held:
            self.__dict__.update(state)
            self._held_pages = []
            if self.frame is not None:
                self.frame.draw(self, self._pageNumber, len(held))
            Canvas.showPage(self)

    def save(self) -> None:
        """Frame every page and write the file."""
        self._release_pages()
        super().save()

    def getpdfdata(self) -> bytes:
        """Frame every page and return the PDF bytes."""
        self._release_pages()
        data: bytes = super().getpdfdata()
        return data


def open_document(
    out: IO[bytes] | str | os.PathLike[str],
    *,
    title: str,
    subject: str = "",
    author: str = "Merit Bank",
    pagesize: tuple[float, float] = A4,
    frame: PageFrame | None = None,
    lang: str = "zh-CN",
) -> Canvas:
    """Open a compressed PDF canvas with metadata and fonts; with a frame, pages get framed."""
    register_fonts()
    if frame is not None:
        pagesize = frame.pagesize
    canvas = FramedCanvas(
        os.fspath(out) if isinstance(out, os.PathLike) else out,
        frame=frame,
        pagesize=pagesize,
        pageCompression=1,
        initialFontName=PRIMARY,
        lang=lang,
    )
    canvas.setTitle(title)
    canvas.setSubject(subject)
    canvas.setAuthor(author)
    canvas.setCreator("Merit Bank")
    canvas.setPageCompression(1)
    return canvas


def render_pages(
    out: IO[bytes] | str | os.PathLike[str],
    frame: PageFrame,
    pages: Sequence[PageDrawer],
    *,
    subject: str = "",
    author: str = "Merit Bank",
) -> None:
    """Write one framed page per drawer; each drawer gets the canvas and the content box."""
    canvas = open_document(out, title=frame.title, subject=subject, author=author, frame=frame)
    box = frame.content_box()
    for draw_page in pages:
        draw_page(canvas, box)
        canvas.showPage()
    canvas.save()
