"""Embedded Chinese fonts for PDFs: registration, glyph checks and run-by-run drawing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
PRIMARY_FONT_PATH = FONTS_DIR / "wqy-microhei.ttc"
FALLBACK_FONT_PATH = FONTS_DIR / "MeritHanFallback.ttf"
# Environment overrides, for deployments that keep fonts elsewhere (and for tests).
PRIMARY_ENV = "MERIT_FONT_PATH"
FALLBACK_ENV = "MERIT_FALLBACK_FONT_PATH"

PRIMARY = "MeritSans"
FALLBACK = "MeritSansFallback"

Anchor = Literal["left", "centre", "right"]

# A run is (font name, text); font None marks one character no font can draw.
Run = tuple[str | None, str]

# Outline stroke widths, in em, that thicken text drawn with fill-and-stroke.
BOLD_STROKE = 0.035
FALLBACK_STROKE = 0.022

_registered: dict[str, Path] = {}


class FontMissingError(RuntimeError):
    """A font file the PDFs need is not where it should be."""


def _utf16_hex(cp: int) -> str:
    """Code point as UTF-16BE hex, a surrogate pair above U+FFFF (what ToUnicode wants)."""
    if cp <= 0xFFFF:
        return f"{cp:04X}"
    cp -= 0x10000
    return f"{0xD800 + (cp >> 10):04X}{0xDC00 + (cp & 0x3FF):04X}"


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap, but correct for CJK Extension B+ characters."""
    # reportlab writes "<%04X>" of the code point, so 𠀾 U+2003E becomes "<2003E>", which
    # viewers misread: such names could not be searched or copied out of the PDF.
    head = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo",
        f"<< /Registry ({fontname})",
        f"/Ordering ({fontname})",
        "/Supplement 0",
        ">> def",
        f"/CMapName /{fontname} def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        f"<00> <{len(subset) - 1:02X}>",
        "endcodespacerange",
        f"{len(subset)} beginbfchar",
    ]
    body = [f"<{i:02X}> <{_utf16_hex(cp)}>" for i, cp in enumerate(subset)]
    tail = ["endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(head + body + tail)


ttfonts.makeToUnicodeCMap = _to_unicode_cmap


def font_paths() -> dict[str, Path]:
    """Return the font file for each reportlab font name, honouring the overrides."""
    return {
        PRIMARY: Path(os.environ.get(PRIMARY_ENV) or PRIMARY_FONT_PATH),
        FALLBACK: Path(os.environ.get(FALLBACK_ENV) or FALLBACK_FONT_PATH),
    }


def register_fonts() -> None:
    """Register MeritSans and MeritSansFallback with reportlab (once per font file)."""
    paths = font_paths()
    for name, path in paths.items():
        # Checked on every call: a missing font must stop the print, not yield blank names.
        if not path.is_file():
            raise FontMissingError(
                f"Font file for {name} not found: {path} "
                f"(expected in the repository under credits/fonts/, or set {PRIMARY_ENV} / "
                f"{FALLBACK_ENV})"
            )
        if _registered.get(name) == path:
            continue
        # Micro Hei is a collection; its first face is the proportional one.
        index = 0 if path.suffix.lower() == ".ttc" else None
        kwargs = {"subfontIndex": index} if index is not None else {}
        try:
            pdfmetrics.registerFont(TTFont(name, str(path), **kwargs))
        except Exception as exc:  # reportlab raises bare TTFError/AssertionError
            raise FontMissingError(f"Font file for {name} is unusable: {path}: {exc}") from exc
        # Platypus looks fonts up by family for <b>/<i>; there is one face, so map all to it.
        pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
        _registered[name] = path
        _coverage.cache_clear()


@lru_cache(maxsize=16)
def _coverage(font: str) -> frozenset[int]:
    """Code points a registered font has a real glyph for (glyph 0 is .notdef)."""
    face = getattr(pdfmetrics.getFont(font), "face", None)
    if face is None:
        # A standard PDF font (Helvetica, ...) draws printable ASCII only, for our purposes.
        return frozenset(range(0x20, 0x7F))
    return frozenset(cp for cp, glyph in face.charToGlyph.items() if glyph)


def _chain(font: str) -> tuple[str, ...]:
    """Fonts to try, in order, for text asked for in font."""
    return tuple(dict.fromkeys((font, PRIMARY, FALLBACK)))


def _font_for(ch: str, font: str) -> str | None:
    """First font of the chain with a glyph for ch (fonts already registered)."""
    cp = ord(ch)
    return next((name for name in _chain(font) if cp in _coverage(name)), None)


def font_for_char(ch: str, font: str = PRIMARY) -> str | None:
    """Return the first font in the chain that can draw ch, or None when none can."""
    register_fonts()
    return _font_for(ch, font)


def missing_glyphs(text: str) -> list[str]:
    """Return the characters of text (whitespace aside) that no shipped font can draw."""
    register_fonts()
    seen: dict[str, None] = {}
    for ch in text:
        if not ch.isspace() and _font_for(ch, PRIMARY) is None:
            seen[ch] = None
    return list(seen)


def runs(text: str, font: str = PRIMARY) -> Iterator[Run]:
    """Split text into runs of one font each; a character no font has is its own run."""
    register_fonts()
    current: str | None = None
    buffer: list[str] = []
    for ch in text:
        # Any whitespace becomes a plain space: a tab or newline has no glyph to draw.
        if ch.isspace() and ord(ch) not in _coverage(font):
            ch = " "
        name = font if ch == " " else _font_for(ch, font)
        if name is None:
            if buffer:
                yield current, "".join(buffer)
                buffer = []
            yield None, ch
            continue
        if name != current and buffer:
            yield current, "".join(buffer)
            buffer = []
        current = name
        buffer.append(ch)
    if buffer:
        yield current, "".join(buffer)


def _run_width(run: Run, size: float) -> float:
    """Width of one run; a missing character's substitute box is one em wide."""
    name, chunk = run
    if name is None:
        return size * len(chunk)
    return pdfmetrics.stringWidth(chunk, name, size)


def text_width(text: str, size: float, *, font: str = PRIMARY) -> float:
    """Width of text as draw_text would draw it."""
    register_fonts()
    return sum(_run_width(run, size) for run in runs(text, font))


def _draw_missing(canvas: Canvas, x: float, y: float, ch: str, size: float) -> None:
    """Draw a boxed hex code point in place of a glyph no font has, so it is never blank."""
    code = f"{ord(ch):06X}" if ord(ch) > 0xFFFF else f"{ord(ch):04X}"
    half = len(code) // 2
    canvas.saveState()
    canvas.setStrokeColor(_ink(canvas))
    canvas.setLineWidth(max(size * 0.04, 0.3))
    canvas.rect(x + size * 0.06, y - size * 0.1, size * 0.88, size * 0.92, stroke=1, fill=0)
    canvas.setFont(PRIMARY, size * 0.36)
    centre = x + size / 2
    canvas.drawCentredString(centre, y + size * 0.42, code[:half])
    canvas.drawCentredString(centre, y + size * 0.02, code[half:])
    canvas.restoreState()


def _stroke(font: str, bold: bool) -> float:
    """Outline stroke, in em, that evens out weights: faux bold, and the thin fallback."""
    if font == FALLBACK:
        # The Mincho's hairlines need a little more to look bold, but not the sum of both.
        return BOLD_STROKE + FALLBACK_STROKE / 3 if bold else FALLBACK_STROKE
    return BOLD_STROKE if bold else 0.0


def _ink(canvas: Canvas) -> Any:
    """The canvas's current fill colour (reportlab keeps it in a private attribute)."""
    return getattr(canvas, "_fillColorObj", (0, 0, 0))


def draw_text(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    size: float,
    *,
    font: str = PRIMARY,
    anchor: Anchor = "left",
    bold: bool = False,
) -> float:
    """Draw text on its baseline at y, switching fonts per character; return its width."""
    register_fonts()
    pieces = list(runs(text, font))
    width = sum(_run_width(run, size) for run in pieces)
    if anchor == "centre":
        x -= width / 2
    elif anchor == "right":
        x -= width
    canvas.saveState()
    # Thicken by filling and stroking the outline: Micro Hei has no bold face, and the
    # fallback's Mincho strokes are thinner than the Hei around them.
    canvas.setStrokeColor(_ink(canvas))
    for run in pieces:
        name, chunk = run
        if name is None:
            _draw_missing(canvas, x, y, chunk, size)
        else:
            weight = _stroke(name, bold)
            # The render mode outlives the text object (PDF keeps it in the graphics
            # state), so each run gets its own save/restore.
            canvas.saveState()
            text_object = canvas.beginText(x, y)
            text_object.setFont(name, size)
            if weight:
                canvas.setLineWidth(size * weight)
                text_object.setTextRenderMode(2)
            text_object.textOut(chunk)
            canvas.drawText(text_object)
            canvas.restoreState()
        x += _run_width(run, size)
    canvas.restoreState()
    return width
