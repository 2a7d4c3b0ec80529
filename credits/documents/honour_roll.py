"""The honour roll (光荣榜) of a closed period: A3 landscape for the culture corridor, A4 portrait.

Printed only from a closed period's fixed rows, with a fixed creation date and document
id (reportlab's invariant mode), so the same closed period always gives the same bytes.
Red and gold on white, generous margins, one type family, names readable from a metre.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import IO

from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A3, A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from credits.boards.closing import ClosedBoard
from credits.boards.periods import parse_period, period_title
from credits.documents.cards import draw_qr
from credits.documents.fonts import PRIMARY, draw_text, register_fonts, text_width
from credits.documents.frame import GOLD, GREY, INK, RED
from credits.documents.text import format_date
from credits.i18n import gettext
from credits.models import ClosedStanding
from credits.qr import make as make_qr

SIZES = ("a3", "a4")
TOP = 10
MEDALS = {1: HexColor("#C9A13B"), 2: HexColor("#9AA0A6"), 3: HexColor("#B87333")}
PALE_GOLD = HexColor("#FBF5E6")
SOFT_RULE = HexColor("#E8D9B0")


@dataclass(frozen=True)
class Layout:
    """Sizes of one paper format (points)."""

    pagesize: tuple[float, float]
    margin: float
    columns: int
    title: float
    subtitle: float
    name: float
    detail: float
    score: float
    medal: float
    row: float
    winners_per_row: int
    qr: float


LAYOUTS = {
    "a3": Layout(landscape(A3), 20 * mm, 2, 78, 22, 34, 14, 34, 17 * mm, 22 * mm, 6, 28 * mm),
    "a4": Layout(A4, 14 * mm, 1, 50, 15, 19, 9, 20, 9.5 * mm, 13 * mm, 3, 22 * mm),
}


def _star(canvas: Canvas, cx: float, cy: float, r: float, colour: Color) -> None:
    """A filled five-pointed star (vector: no glyph needed)."""
    import math

    path = canvas.beginPath()
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.42
        angle = math.pi / 2 + i * math.pi / 5
        x, y = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        if i == 0:
            path.moveTo(x, y)
        else:
            path.lineTo(x, y)
    path.close()
    canvas.setFillColor(colour)
    canvas.drawPath(path, stroke=0, fill=1)


def _fit(text: str, size: float, room: float) -> float:
    width = text_width(text, size)
    return size if width <= room else size * room / width


def _border(canvas: Canvas, lay: Layout) -> None:
    width, height = lay.pagesize
    m = lay.margin
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(3)
    canvas.rect(m, m, width - 2 * m, height - 2 * m, stroke=1, fill=0)
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(1)
    inset = 3 * mm
    canvas.rect(m + inset, m + inset, width - 2 * (m + inset), height - 2 * (m + inset))
    # Small gold corner squares: a quiet ornament that survives a cheap printer.
    canvas.setFillColor(GOLD)
    s = 4 * mm
    for x in (m - s / 2, width - m - s / 2):
        for y in (m - s / 2, height - m - s / 2):
            canvas.rect(x, y, s, s, stroke=0, fill=1)


def _header(canvas: Canvas, lay: Layout, data: ClosedBoard, locale: str) -> float:
    """Title, village · scheme · period; returns the y below the header."""
    width, height = lay.pagesize
    top = height - lay.margin - 6 * mm
    baseline = top - lay.title
    canvas.setFillColor(RED)
    title = gettext("Honour roll", locale)
    draw_text(canvas, width / 2, baseline, title, lay.title, anchor="centre", bold=True)
    half = text_width(title, lay.title) / 2 + 8 * mm
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(1.6)
    mid = baseline + lay.title * 0.36
    for sign in (-1, 1):
        x = width / 2 + sign * half
        canvas.line(x, mid, x + sign * 30 * mm, mid)
        _star(canvas, x + sign * 34 * mm, mid, 2.4 * mm, GOLD)
    spec = parse_period(data.closed.label)
    sub = f"{data.village_name} · {data.scheme_name} · {period_title(spec, locale)}"
    canvas.setFillColor(INK)
    y = baseline - lay.subtitle * 2.1
    draw_text(canvas, width / 2, y, sub, lay.subtitle, anchor="centre")
    return y - lay.subtitle * 1.4


def _medal(canvas: Canvas, cx: float, cy: float, d: float, rank: int) -> None:
    colour = MEDALS.get(rank)
    if colour is not None:
        canvas.setFillColor(colour)
        canvas.circle(cx, cy, d / 2, stroke=0, fill=1)
        canvas.setFillColor(white)
    else:
        canvas.setStrokeColor(RED)
        canvas.setLineWidth(1.4)
        canvas.circle(cx, cy, d / 2 * 0.86, stroke=1, fill=0)
        canvas.setFillColor(RED)
    size = d * (0.5 if rank < 10 else 0.4)
    draw_text(canvas, cx, cy - size * 0.36, str(rank), size, anchor="centre", bold=True)


def _row(
    canvas: Canvas, lay: Layout, x0: float, x1: float, y: float, line: ClosedStanding, unit: str
) -> None:
    """One household: medal, name large, house and group, points and stars on the right."""
    mid = y - lay.row / 2
    _medal(canvas, x0 + lay.medal / 2, mid, lay.medal, line.rank)
    name_x = x0 + lay.medal + 5 * mm
    score = str(line.points)
    score_w = text_width(score, lay.score) + text_width(unit, lay.detail) + 2 * mm
    room = x1 - name_x - score_w - 8 * mm
    canvas.setFillColor(INK)
    size = _fit(line.head_name, lay.name, room)
    draw_text(canvas, name_x, mid + lay.name * 0.05, line.head_name, size, bold=True)
    detail = " · ".join(p for p in (line.house_number, line.group_name) if p)
    if detail:
        canvas.setFillColor(GREY)
        draw_text(canvas, name_x, mid - lay.detail * 1.45, detail, lay.detail)
    canvas.setFillColor(GREY)
    draw_text(canvas, x1, mid + lay.score * 0.05, unit, lay.detail, anchor="right")
    canvas.setFillColor(RED)
    unit_w = text_width(unit, lay.detail) + 1.5 * mm
    draw_text(
        canvas, x1 - unit_w, mid + lay.score * 0.05, score, lay.score, anchor="right", bold=True
    )
    r = lay.detail * 0.5
    for i in range(line.stars):
        _star(canvas, x1 - r - i * r * 2.5, mid - lay.detail * 1.1, r, GOLD)
    canvas.setStrokeColor(SOFT_RULE)
    canvas.setLineWidth(0.6)
    canvas.line(x0, y - lay.row, x1, y - lay.row)


def _winners(
    canvas: Canvas, lay: Layout, x0: float, x1: float, y: float, data: ClosedBoard, locale: str
) -> float:
    """Category winners in a row of pale-gold boxes; returns the y below them."""
    items = [(cat, rows[0]) for cat, rows in data.categories.items() if rows]
    if not items:
        return y
    canvas.setFillColor(RED)
    heading = gettext("Stars of the categories", locale)
    draw_text(canvas, x0, y - lay.subtitle, heading, lay.subtitle, bold=True)
    y -= lay.subtitle * 1.8
    per_row = lay.winners_per_row
    gap = 4 * mm
    box_w = (x1 - x0 - gap * (per_row - 1)) / per_row
    box_h = lay.detail * 5.2
    for index, (category, row) in enumerate(items):
        column, line = index % per_row, index // per_row
        bx = x0 + column * (box_w + gap)
        by = y - (line + 1) * box_h - line * gap
        canvas.setFillColor(PALE_GOLD)
        canvas.setStrokeColor(GOLD)
        canvas.setLineWidth(0.8)
        canvas.roundRect(bx, by, box_w, box_h, 2 * mm, stroke=1, fill=1)
        title = gettext("%(category)s star", locale, category=category)
        canvas.setFillColor(RED)
        size = _fit(title, lay.detail * 1.15, box_w - 6 * mm)
        draw_text(
            canvas,
            bx + box_w / 2,
            by + box_h - lay.detail * 1.7,
            title,
            size,
            anchor="centre",
            bold=True,
        )
        canvas.setFillColor(INK)
        name = f"{row.head_name}  {row.points}"
        size = _fit(name, lay.detail * 1.6, box_w - 6 * mm)
        draw_text(
            canvas, bx + box_w / 2, by + lay.detail * 1.3, name, size, anchor="centre", bold=True
        )
    rows = -(-len(items) // per_row)
    return y - rows * box_h - (rows - 1) * gap


def _footer(canvas: Canvas, lay: Layout, data: ClosedBoard, url: str, locale: str) -> None:
    width, _ = lay.pagesize
    x0, x1 = lay.margin + 9 * mm, width - lay.margin - 9 * mm
    y0 = lay.margin + 9 * mm
    qr = make_qr(url, error="M")
    draw_qr(canvas, qr, x1 - lay.qr, y0, lay.qr)
    canvas.setFillColor(GREY)
    caption = gettext("Scan for the live board", locale)
    draw_text(
        canvas,
        x1 - lay.qr - 4 * mm,
        y0 + lay.detail * 0.2,
        caption,
        lay.detail * 0.8,
        anchor="right",
    )
    committee = data.closed.committee or gettext(
        "%(village)s village committee", locale, village=data.village_name
    )
    canvas.setFillColor(INK)
    size = lay.detail * 1.15
    draw_text(canvas, x0, y0 + size * 2.2, committee, size, bold=True)
    draw_text(canvas, x0, y0 + size * 0.6, format_date(data.closed_on, locale), size)
    canvas.setFillColor(GREY)
    # The head at closing, as every printout shows it: #1234 · 3F9A-1C2B-77D0-E5A1.
    code = gettext(
        "Ledger check code %(code)s",
        locale,
        code=f"#{data.closed.head_seq} · {data.closed.head_code}",
    )
    draw_text(
        canvas,
        (x0 + x1 - lay.qr) / 2,
        y0 + lay.detail * 0.2,
        code,
        lay.detail * 0.8,
        anchor="centre",
    )


def draw_honour_roll(
    canvas: Canvas, data: ClosedBoard, *, size: str, url: str, locale: str = "zh_CN"
) -> None:
    """Draw the one-page honour roll of a closed period on a canvas."""
    lay = LAYOUTS[size]
    width, height = lay.pagesize
    _border(canvas, lay)
    y = _header(canvas, lay, data, locale)
    x0, x1 = lay.margin + 12 * mm, width - lay.margin - 12 * mm
    honoured = [r for r in data.overall if not r.barred][:TOP]
    per_column = -(-TOP // lay.columns)
    gap = 16 * mm
    col_w = (x1 - x0 - gap * (lay.columns - 1)) / lay.columns
    if not honoured:
        canvas.setFillColor(GREY)
        text = gettext("No points were earned in this period.", locale)
        draw_text(canvas, width / 2, y - lay.row, text, lay.subtitle, anchor="centre")
    for index, row in enumerate(honoured):
        column, place = divmod(index, per_column)
        cx0 = x0 + column * (col_w + gap)
        _row(canvas, lay, cx0, cx0 + col_w, y - place * lay.row, row, data.unit)
    used = min(len(honoured), per_column) if honoured else 1
    y -= used * lay.row + lay.subtitle * 1.2
    _winners(canvas, lay, x0, x1, y, data, locale)
    _footer(canvas, lay, data, url, locale)


def render_honour_roll(
    out: IO[bytes] | str | os.PathLike[str],
    data: ClosedBoard,
    *,
    size: str = "a3",
    url: str,
    locale: str = "zh_CN",
) -> None:
    """Write the honour roll PDF; the same closed period always gives the same bytes."""
    register_fonts()
    lay = LAYOUTS[size]
    canvas = Canvas(
        os.fspath(out) if isinstance(out, os.PathLike) else out,
        pagesize=lay.pagesize,
        pageCompression=1,
        invariant=1,
        initialFontName=PRIMARY,
        lang="zh-CN" if locale.startswith("zh") else "en",
    )
    spec = parse_period(data.closed.label)
    canvas.setTitle(
        f"{gettext('Honour roll', locale)} · {data.village_name} · {period_title(spec, locale)}"
    )
    canvas.setAuthor(data.village_name)
    canvas.setCreator("Merit Bank")
    draw_honour_roll(canvas, data, size=size, url=url, locale=locale)
    canvas.showPage()
    canvas.save()


def board_url(base_url: str, data: ClosedBoard) -> str:
    """The public board a printed roll's QR code opens."""
    return f"{base_url.rstrip('/')}/p/{data.village_code}/boards?scheme={data.scheme_key}"
