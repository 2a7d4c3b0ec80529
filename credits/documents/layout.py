"""Drawing helpers the printouts share: vector QR codes, line wrapping, fitting, cells."""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.colors import Color, white
from reportlab.pdfgen.canvas import Canvas

from credits.documents.cards import draw_qr as draw_symbol
from credits.documents.fonts import text_width
from credits.qr import make as make_qr

LEAD = 1.28  # line height, in em


def draw_qr(canvas: Canvas, x: float, y: float, size: float, data: str) -> None:
    """Draw a QR code for `data` in a white box of `size`, quiet zone included; (x, y) is
    its lower-left corner. The symbol itself is drawn by `cards.draw_qr` (one vector path)."""
    qr = make_qr(data, error="M")
    border = 2  # modules; white paper around the box adds the rest of the quiet zone
    module = size / (qr.size + 2 * border)
    canvas.saveState()
    canvas.setFillColor(white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.restoreState()
    draw_symbol(canvas, qr, x + border * module, y + border * module, qr.size * module)


def wrap(text: str, width: float, size: float) -> list[str]:
    """Break text into lines no wider than width (CJK breaks anywhere; Latin words kept)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        tokens: list[str] = []
        word = ""
        for ch in paragraph:
            if ch.isascii() and not ch.isspace():
                word += ch
                continue
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        if word:
            tokens.append(word)
        for token in tokens:
            candidate = line + token
            if line and text_width(candidate, size) > width:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line = candidate
            # A single token wider than the line (a long URL) is cut by characters.
            while text_width(line, size) > width and len(line) > 1:
                cut = len(line)
                while cut > 1 and text_width(line[:cut], size) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines or [""]


def fit(text: str, width: float, size: float, smallest: float = 6.5) -> float:
    """Return the largest size up to `size` at which text fits in width."""
    while size > smallest and text_width(text, size) > width:
        size -= 0.25
    return size


@dataclass
class Cell:
    """Lines of one table cell: (text, size, colour, bold)."""

    lines: list[tuple[str, float, Color, bool]]
    align: str = "left"

    def height(self) -> float:
        return sum(size * LEAD for _, size, _, _ in self.lines)
