"""Household card sheets: CR80 cards, ten to an A4 page with crop marks, QR codes as vectors.

The cards butt against each other in a 2 × 5 grid centred on the page, so one cut along
each crop mark separates them. Every card keeps a 3 mm safe margin inside its edge, so a
cut a little off the line never slices the band, the text or the QR quiet zone.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO

from reportlab.lib.colors import HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from credits.cards import card_number, issue_url, make_qr
from credits.documents.fonts import draw_text, missing_glyphs, text_width
from credits.documents.frame import GOLD, GREY, INK, RED, open_document
from credits.errors import NotFound, ValidationError
from credits.i18n import N_, gettext
from credits.models import Group, Household, Village
from credits.qr import QRSymbol
from credits.queries import schemes_of

CARD_W = 85.6 * mm
CARD_H = 54 * mm
COLUMNS, ROWS = 2, 5
PER_PAGE = COLUMNS * ROWS
SAFE = 3 * mm  # nothing but white within this distance of a card's edge
BAND_H = 11 * mm
QR_MIN = 22 * mm  # the symbol itself, without its quiet zone (UI.md)
QUIET_MODULES = 4  # the quiet zone the QR standard requires around the symbol
# QR modules are whole steps of a 1/150-inch grid anchored at the page's top-left corner:
# every module edge then falls on a dot boundary of 150/300/600 dpi printers and
# rasterisers, so all modules print equally wide. Fractional modules blur into grey
# seams that scanners misread (about 1 code in 150 failed to decode at 150 dpi).
GRID = 72 / 150
MIN_MODULE_STEPS = 5  # 5/150 inch ≈ 0.85 mm a module
MARK_GAP = 2 * mm  # crop marks start this far outside the grid
MARK_LEN = 6 * mm
BAND_INK = HexColor("#F7E3A1")  # pale gold on red for the scheme names
SOFT_RULE = HexColor("#DDDDDD")


@dataclass(frozen=True)
class CardFace:
    """What one card shows; built from a household, drawn without touching the database."""

    village_name: str
    schemes: str
    head_name: str
    house_number: str
    group_name: str
    card_number: str
    url: str


@dataclass
class SheetResult:
    """What was printed: pages, cards, and warnings the clerk must read."""

    pages: int = 0
    cards: int = 0
    warnings: list[str] = field(default_factory=list)


def grid_origin(pagesize: tuple[float, float] = A4) -> tuple[float, float]:
    """Lower-left corner of the card grid, centred on the page."""
    width, height = pagesize
    return (width - COLUMNS * CARD_W) / 2, (height - ROWS * CARD_H) / 2


def card_box(slot: int, pagesize: tuple[float, float] = A4) -> tuple[float, float]:
    """Lower-left corner of a card slot (0 is top left, filled row by row)."""
    x0, y0 = grid_origin(pagesize)
    row, column = divmod(slot, COLUMNS)
    return x0 + column * CARD_W, y0 + (ROWS - 1 - row) * CARD_H


def draw_crop_marks(canvas: Canvas, pagesize: tuple[float, float] = A4) -> None:
    """Short hairlines in the margins continuing every cut line of the grid."""
    x0, y0 = grid_origin(pagesize)
    x1, y1 = x0 + COLUMNS * CARD_W, y0 + ROWS * CARD_H
    canvas.saveState()
    canvas.setStrokeColor(INK)
    canvas.setLineWidth(0.25)
    for column in range(COLUMNS + 1):
        x = x0 + column * CARD_W
        canvas.line(x, y1 + MARK_GAP, x, y1 + MARK_GAP + MARK_LEN)
        canvas.line(x, y0 - MARK_GAP, x, y0 - MARK_GAP - MARK_LEN)
    for row in range(ROWS + 1):
        y = y0 + row * CARD_H
        canvas.line(x0 - MARK_GAP, y, x0 - MARK_GAP - MARK_LEN, y)
        canvas.line(x1 + MARK_GAP, y, x1 + MARK_GAP + MARK_LEN, y)
    canvas.restoreState()


def draw_qr(canvas: Canvas, qr: QRSymbol, x: float, y: float, size: float) -> None:
    """Draw a QR symbol as one vector path of dark runs; (x, y) is its lower-left corner."""
    unit = size / qr.size
    path = canvas.beginPath()
    for r, c, n in qr.runs():
        path.rect(x + c * unit, y + size - (r + 1) * unit, n * unit, unit)
    canvas.saveState()
    canvas.setFillColor(INK)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def qr_module(modules: int) -> float:
    """Module size in points: whole grid steps, the symbol at least QR_MIN wide."""
    steps = max(MIN_MODULE_STEPS, math.ceil(QR_MIN / (modules * GRID)))
    return steps * GRID


def _snap(value: float) -> float:
    """Round a length from the page's top or left edge to the 1/150-inch grid."""
    return round(value / GRID) * GRID


def _fit(text: str, size: float, room: float, smallest: float) -> float:
    """The largest size up to `size` at which text fits in room (never below smallest)."""
    width = text_width(text, size)
    if width <= room:
        return size
    return max(smallest, size * room / width)


def _ellipsis(text: str, size: float, room: float) -> str:
    """Cut text with … so it fits in room at size."""
    if text_width(text, size) <= room:
        return text
    while text and text_width(text + "…", size) > room:
        text = text[:-1]
    return text + "…"


def draw_card(canvas: Canvas, face: CardFace, x: float, y: float, locale: str = "zh_CN") -> None:
    """Draw one card front with its lower-left corner at (x, y)."""
    qr = make_qr(face.url)
    canvas.saveState()
    # Red band with the village and the schemes, inside the safe margin.
    band_x, band_y = x + SAFE, y + CARD_H - SAFE - BAND_H
    band_w = CARD_W - 2 * SAFE
    canvas.setFillColor(RED)
    canvas.roundRect(band_x, band_y, band_w, BAND_H, 1.5 * mm, stroke=0, fill=1)
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(0.8)
    canvas.line(band_x, band_y - 0.9 * mm, band_x + band_w, band_y - 0.9 * mm)
    pad = 2.5 * mm
    scheme_size = 7.5
    scheme_room = band_w * 0.45
    scheme_text = _ellipsis(face.schemes, scheme_size, scheme_room)
    scheme_w = text_width(scheme_text, scheme_size) if scheme_text else 0.0
    village_room = band_w - 2 * pad - (scheme_w + 2 * mm if scheme_w else 0)
    village_size = _fit(face.village_name, 12, village_room, 7)
    canvas.setFillColor(white)
    draw_text(
        canvas,
        band_x + pad,
        band_y + BAND_H / 2 - village_size * 0.36,
        _ellipsis(face.village_name, village_size, village_room),
        village_size,
        bold=True,
    )
    if scheme_text:
        canvas.setFillColor(BAND_INK)
        draw_text(
            canvas,
            band_x + band_w - pad,
            band_y + BAND_H / 2 - scheme_size * 0.36,
            scheme_text,
            scheme_size,
            anchor="right",
        )

    # The QR code on the right, with its quiet zone kept clear of anything else.
    modules = len(qr.matrix)
    unit = qr_module(modules)
    size = unit * modules
    quiet = QUIET_MODULES * unit
    body_top = band_y - 0.9 * mm
    page_height = canvas._pagesize[1]
    qr_x = _snap(x + CARD_W - SAFE - quiet - size + 1.2 * mm)  # quiet zone may use the margin
    qr_top = page_height - _snap(page_height - (body_top - (body_top - y - size) / 2))
    draw_qr(canvas, qr, qr_x, qr_top - size, size)

    # The head's name large, then house number and group, then the card number.
    left = x + SAFE + 1.5 * mm
    room = qr_x - quiet - left
    name_size = _fit(face.head_name, 21, room, 10)
    canvas.setFillColor(INK)
    name_y = body_top - 4 * mm - name_size * 0.8
    draw_text(canvas, left, name_y, face.head_name, name_size, bold=True)
    line_y = name_y - 6.2 * mm
    for text in (face.house_number, face.group_name):
        if text:
            size = _fit(text, 10, room, 6.5)
            draw_text(canvas, left, line_y, _ellipsis(text, size, room), size)
            line_y -= 4.6 * mm
    canvas.setStrokeColor(SOFT_RULE)
    canvas.setLineWidth(0.4)
    number_y = y + SAFE + 5.2 * mm
    canvas.line(left, number_y + 3.6 * mm, left + room, number_y + 3.6 * mm)
    label = gettext("Card no.", locale)
    label_size = 6.5
    canvas.setFillColor(GREY)
    draw_text(canvas, left, number_y, label, label_size)
    number_x = left + text_width(label, label_size) + 1.2 * mm
    number_size = _fit(face.card_number, 10, left + room - number_x, 6)
    canvas.setFillColor(INK)
    draw_text(canvas, number_x, number_y, face.card_number, number_size, bold=True)
    canvas.setFillColor(GREY)
    hint = gettext("Scan to see your points passbook", locale)
    hint_size = _fit(hint, 6.5, room, 5)
    draw_text(canvas, left, y + SAFE + 0.8 * mm, hint, hint_size)
    canvas.restoreState()


def faces_for(
    session: Session,
    village: Village,
    base_url: str,
    *,
    group: Group | None = None,
    household_id: int | None = None,
    locale: str = "zh_CN",
) -> tuple[list[CardFace], list[str]]:
    """Build the card faces to print and the warnings the clerk should read."""
    query = (
        select(Household)
        .where(Household.village_id == village.id)
        .options(selectinload(Household.group), selectinload(Household.village))
    )
    if household_id is not None:
        query = query.where(Household.id == household_id)
    else:
        query = query.where(Household.active.is_(True))
        if group is not None:
            query = query.where(Household.group_id == group.id)
    households = list(
        session.scalars(
            query.outerjoin(Group, Household.group_id == Group.id).order_by(
                Group.position, Household.id
            )
        )
    )
    if household_id is not None and not households:
        raise NotFound(N_("No such household."))
    schemes = " · ".join(s.name for s in schemes_of(session, village.id))
    faces: list[CardFace] = []
    warnings: list[str] = []
    for household in households:
        if not household.active:  # only when asked for by id: the query skips them
            raise ValidationError(N_("This household is deactivated."))
        if household.card_revoked:
            if household_id is not None:
                raise ValidationError(
                    N_("This card is revoked. Reissue it before printing a new one.")
                )
            warnings.append(
                gettext(
                    "%(name)s: the card is revoked and was not printed; reissue it first.",
                    locale,
                    name=household.head_name,
                )
            )
            continue
        missing = missing_glyphs(household.head_name + household.house_number)
        if missing:
            codes = "、".join(f"{ch} U+{ord(ch):04X}" for ch in missing)
            warnings.append(
                gettext(
                    "%(name)s (card %(number)s): no font has %(chars)s; it prints as a boxed "
                    "code. Write the character by hand on the card.",
                    locale,
                    name=household.head_name,
                    number=card_number(household),
                    chars=codes,
                )
            )
        faces.append(
            CardFace(
                village_name=village.name,
                schemes=schemes,
                head_name=household.head_name,
                house_number=household.house_number,
                group_name=household.group.name if household.group else "",
                card_number=card_number(household),
                url=issue_url(base_url, household),
            )
        )
    if not faces:
        raise ValidationError(N_("There are no cards to print."))
    return faces, warnings


def sheet_title(village: Village, group: Group | None = None, locale: str = "zh_CN") -> str:
    """The PDF title of a card sheet."""
    title = gettext("Household cards · %(village)s", locale, village=village.name)
    return f"{title} · {group.name}" if group is not None else title


def render_sheets(
    out: IO[bytes] | str | os.PathLike[str],
    faces: Sequence[CardFace],
    *,
    title: str,
    progress: Callable[[int], None] | None = None,
    locale: str = "zh_CN",
) -> int:
    """Write the card faces ten to an A4 page; return the number of pages."""
    canvas = open_document(out, title=title, subject=title, pagesize=A4)
    pages = 0
    for start in range(0, len(faces), PER_PAGE):
        draw_crop_marks(canvas)
        for slot, face in enumerate(faces[start : start + PER_PAGE]):
            draw_card(canvas, face, *card_box(slot), locale=locale)
            if progress is not None:
                progress(1)
        canvas.showPage()
        pages += 1
    canvas.save()
    return pages


def print_cards(
    session: Session,
    village: Village,
    out: IO[bytes] | str | os.PathLike[str],
    *,
    base_url: str,
    group: Group | None = None,
    household_id: int | None = None,
    progress: Callable[[int], None] | None = None,
    locale: str = "zh_CN",
) -> SheetResult:
    """Print the cards of a village, one group, or one household (a reprint)."""
    faces, warnings = faces_for(
        session, village, base_url, group=group, household_id=household_id, locale=locale
    )
    pages = render_sheets(
        out, faces, title=sheet_title(village, group, locale), progress=progress, locale=locale
    )
    return SheetResult(pages=pages, cards=len(faces), warnings=warnings)
