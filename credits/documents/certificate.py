"""The family-tradition certificate (最美家庭 / 好家风家庭): one A4 page for a household."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import IO

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from credits.documents.fonts import PRIMARY, draw_text, register_fonts, text_width
from credits.documents.frame import GOLD, GREY, INK, RED
from credits.documents.text import format_date
from credits.errors import ValidationError
from credits.i18n import N_, gettext

TITLES = {
    "most_beautiful": N_("Most beautiful family"),
    "good_tradition": N_("Family of good tradition"),
}
PALE = HexColor("#FFFBF2")
NO_LINE_START = "。，、；：？！”’）》」』"


@dataclass(frozen=True)
class CertificateData:
    """What one certificate says; nothing is read from the database while drawing."""

    title: str  # a key of TITLES
    head_name: str
    house_number: str
    village_name: str
    scheme_name: str
    year: int
    committee: str
    issued_on: date


def _wrap(text: str, size: float, room: float) -> list[str]:
    """Break Chinese text into lines that fit (character by character)."""
    lines, current = [], ""
    for ch in text:
        # Closing punctuation never starts a line (禁则): it stays at the end of this one.
        if text_width(current + ch, size) > room and current and ch not in NO_LINE_START:
            lines.append(current)
            current = ""
        current += ch
    if current:
        lines.append(current)
    return lines


def render_certificate(
    out: IO[bytes] | str | os.PathLike[str], data: CertificateData, locale: str = "zh_CN"
) -> None:
    """Write the certificate PDF (deterministic: invariant mode)."""
    if data.title not in TITLES:
        raise ValidationError(N_("Choose the title of the certificate."))
    register_fonts()
    width, height = landscape(A4)
    canvas = Canvas(
        os.fspath(out) if isinstance(out, os.PathLike) else out,
        pagesize=(width, height),
        pageCompression=1,
        invariant=1,
        initialFontName=PRIMARY,
    )
    title = gettext(TITLES[data.title], locale)
    canvas.setTitle(f"{title} · {data.head_name}")
    canvas.setCreator("Merit Bank")
    m = 14 * mm
    canvas.setFillColor(PALE)
    canvas.rect(m, m, width - 2 * m, height - 2 * m, stroke=0, fill=1)
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(6)
    canvas.rect(m, m, width - 2 * m, height - 2 * m, stroke=1, fill=0)
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(1.2)
    inset = 5 * mm
    canvas.rect(m + inset, m + inset, width - 2 * (m + inset), height - 2 * (m + inset))
    canvas.setFillColor(RED)
    heading = gettext("Certificate of honour", locale)
    draw_text(canvas, width / 2, height - 52 * mm, heading, 44, anchor="centre", bold=True)
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(1.5)
    half = text_width(heading, 44) / 2 + 10 * mm
    for sign in (-1, 1):
        x = width / 2 + sign * half
        canvas.line(x, height - 45 * mm, x + sign * 40 * mm, height - 45 * mm)
    name = data.head_name + (f"（{data.house_number}）" if data.house_number else "")
    canvas.setFillColor(INK)
    draw_text(
        canvas,
        40 * mm,
        height - 82 * mm,
        gettext("%(name)s family:", locale, name=name),
        22,
        bold=True,
    )
    body = gettext(
        "In %(year)s your family was named “%(title)s” by %(village)s in the %(scheme)s. "
        "This certificate is awarded in recognition.",
        locale,
        year=data.year,
        title=title,
        village=data.village_name,
        scheme=data.scheme_name,
    )
    y = height - 100 * mm
    for line in _wrap(body, 20, width - 96 * mm):
        draw_text(canvas, 48 * mm, y, line, 20)
        y -= 32
    canvas.setFillColor(RED)
    draw_text(canvas, width / 2, y - 40, title, 48, anchor="centre", bold=True)
    canvas.setFillColor(INK)
    right = width - 40 * mm
    draw_text(canvas, right, 44 * mm, data.committee, 16, anchor="right", bold=True)
    canvas.setFillColor(GREY)
    draw_text(canvas, right, 34 * mm, format_date(data.issued_on, locale), 14, anchor="right")
    canvas.showPage()
    canvas.save()
