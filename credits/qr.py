"""QR symbols made with the `qrcode` package: the matrix, drawn by whoever needs it (PDF, SVG, PNG).

Always a full QR code, never a Micro QR (phone cameras do not read them). Segments let a
card URL put its prefix in byte mode and its token in the denser alphanumeric mode.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import IO

import qrcode
from PIL import Image
from qrcode import constants, util

BYTE, ALPHANUMERIC = "byte", "alphanumeric"
_MODES = {BYTE: util.MODE_8BIT_BYTE, ALPHANUMERIC: util.MODE_ALPHA_NUM}
_LEVELS = {
    "L": constants.ERROR_CORRECT_L,
    "M": constants.ERROR_CORRECT_M,
    "Q": constants.ERROR_CORRECT_Q,
    "H": constants.ERROR_CORRECT_H,
}
_STRONGER = {"L": ("M", "Q", "H"), "M": ("Q", "H"), "Q": ("H",), "H": ()}

Segments = str | Sequence[tuple[str, str]]


@dataclass(frozen=True)
class QRSymbol:
    """A QR code's modules (True is dark), without the quiet zone."""

    matrix: tuple[tuple[bool, ...], ...]
    version: int
    error: str  # L, M, Q or H
    mode: str | None  # byte, alphanumeric, numeric; None for several segments (as segno)
    is_micro: bool = False

    @property
    def size(self) -> int:
        return len(self.matrix)

    def runs(self) -> Iterator[tuple[int, int, int]]:
        """(row, first column, length) of each horizontal run of dark modules."""
        for r, row in enumerate(self.matrix):
            c, n = 0, len(row)
            while c < n:
                if row[c]:
                    start = c
                    while c < n and row[c]:
                        c += 1
                    yield r, start, c - start
                else:
                    c += 1

    def svg_inline(self, scale: int = 1, dark: str = "#000", border: int = 4) -> str:
        """An inline <svg> of the symbol (one path of runs), sized by CSS, quiet zone included."""
        side = (self.size + 2 * border) * scale
        parts = [
            f"M{(c + border) * scale},{(r + border) * scale}h{n * scale}v{scale}h-{n * scale}z"
            for r, c, n in self.runs()
        ]
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" '
            f'class="segno"><path fill="{dark}" d="{"".join(parts)}"/></svg>'
        )

    def save(
        self, out: str | os.PathLike[str] | IO[bytes], scale: int = 1, border: int = 4
    ) -> None:
        """Write the symbol as a black-on-white PNG (for tests and decoders)."""
        side = self.size + 2 * border
        image = Image.new("1", (side, side), 1)
        pixels = image.load()
        assert pixels is not None
        for r, c, n in self.runs():
            for dc in range(n):
                pixels[border + c + dc, border + r] = 0
        if scale != 1:
            image = image.resize((side * scale, side * scale), Image.Resampling.NEAREST)
        image.save(out, format="PNG")

    def png(self, scale: int = 1, border: int = 4) -> bytes:
        out = io.BytesIO()
        self.save(out, scale=scale, border=border)
        return out.getvalue()


def _code(content: Segments, level: str, mask: int | None) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=_LEVELS[level], border=0, mask_pattern=mask)
    if isinstance(content, str):
        code.add_data(content, optimize=0)
    else:
        for text, mode in content:
            code.add_data(util.QRData(text.encode("utf-8"), mode=_MODES[mode], check_data=False))
    return code


def make(
    content: Segments, *, error: str = "M", boost_error: bool = False, mask: int | None = None
) -> QRSymbol:
    """Encode text (or (text, mode) segments) as the smallest QR code at an error level.

    boost_error raises the level above `error` wherever the same symbol size allows (a worn
    laminated card keeps reading). mask None picks the mask by the standard's penalty rules.
    """
    level = error.upper()
    code = _code(content, level, mask)
    version = code.best_fit()
    if boost_error:
        for stronger in _STRONGER[level]:
            candidate = _code(content, stronger, mask)
            if candidate.best_fit(start=version) != version:
                break
            code, level = candidate, stronger
    rows = _rows(code, mask)
    n = code.modules_count
    return QRSymbol(
        matrix=tuple(tuple(ch == "1" for ch in format(row, f"0{n}b")) for row in rows),
        version=version,
        error=level,
        mode=_mode_name(code) if len(code.data_list) == 1 else None,
    )


def _mode_name(code: qrcode.QRCode) -> str:
    mode = code.data_list[0].mode
    return {util.MODE_NUMBER: "numeric", util.MODE_ALPHA_NUM: ALPHANUMERIC}.get(mode, BYTE)


# ---- choosing the mask ----
#
# qrcode places the data once per candidate mask (eight times) and scores each in pure
# Python, which makes a card sheet ~1.4x slower than segno. Here the data is placed once
# (with mask 0); every other mask is that placement XOR the mask over the data modules,
# done on whole rows as integers, and scored by the standard's four penalty rules
# (ISO/IEC 18004 7.8.3) on bit rows and strings. Column c of a row is bit n-1-c.


def _rows(code: qrcode.QRCode, mask: int | None) -> list[int]:
    """The finished symbol's rows as integers, with the given mask or the best one."""
    code.makeImpl(False, 0 if mask is None else mask)
    n = code.modules_count
    placed = [_bits(row) for row in code.modules]
    if mask is not None:
        return placed
    layout = _layout(code.version, code.error_correction)
    unmasked = [p & d ^ m for p, d, m in zip(placed, layout.data, layout.masks[0], strict=True)]
    best: tuple[int, list[int]] | None = None
    for k in range(8):
        rows = [
            f | (u ^ m) for f, u, m in zip(layout.fixed[k], unmasked, layout.masks[k], strict=True)
        ]
        score = _penalty(rows, n)
        if best is None or score < best[0]:
            best = (score, rows)
    assert best is not None
    return best[1]


def _bits(cells: Sequence[bool | None]) -> int:
    value = 0
    for cell in cells:
        value = value << 1 | (1 if cell else 0)
    return value


@dataclass(frozen=True)
class _Layout:
    data: list[int]  # per row: the data modules
    fixed: list[list[int]]  # per mask: the dark function modules (format info differs)
    masks: list[list[int]]  # per mask: the data modules it inverts


@cache
def _layout(version: int, correction: int) -> _Layout:
    """Where a symbol of this version has data, and its function patterns for each mask."""
    grids = []
    for k in range(8):
        probe = qrcode.QRCode(version=version, error_correction=correction, border=0)
        n = probe.modules_count = version * 4 + 17
        probe.modules = [[None] * n for _ in range(n)]
        probe.setup_position_probe_pattern(0, 0)
        probe.setup_position_probe_pattern(n - 7, 0)
        probe.setup_position_probe_pattern(0, n - 7)
        probe.setup_position_adjust_pattern()
        probe.setup_timing_pattern()
        probe.setup_type_info(False, k)
        if version >= 7:
            probe.setup_type_number(False)
        grids.append(probe.modules)
    n = version * 4 + 17
    data = [_bits([cell is None for cell in row]) for row in grids[0]]
    fixed = [[_bits([bool(cell) for cell in row]) for row in grid] for grid in grids]
    masks = []
    for k in range(8):
        invert = util.mask_func(k)
        masks.append(
            [_bits([grids[0][r][c] is None and invert(r, c) for c in range(n)]) for r in range(n)]
        )
    return _Layout(data, fixed, masks)


_RUN = re.compile(r"0{5,}|1{5,}")
_FINDER_LIKE = re.compile(r"(?=10111010000|00001011101)")


def _penalty(rows: list[int], n: int) -> int:
    """The standard's mask penalty: runs, 2x2 blocks, finder-like patterns, dark balance."""
    lines = [format(row, f"0{n}b") for row in rows]
    lines += ["".join(column) for column in zip(*lines[:n], strict=True)]
    score = 0
    for line in lines:
        for run in _RUN.finditer(line):
            score += run.end() - run.start() - 2  # 3 for five, one more for each beyond
        score += 40 * len(_FINDER_LIKE.findall(line))
    inner = (1 << (n - 1)) - 1
    full = (1 << n) - 1
    for a, b in zip(rows, rows[1:], strict=False):
        dark = a & b & (a >> 1) & (b >> 1) & inner
        la, lb = ~a & full, ~b & full
        light = la & lb & (la >> 1) & (lb >> 1) & inner
        score += 3 * (dark.bit_count() + light.bit_count())
    dark_share = sum(row.bit_count() for row in rows) * 100 // (n * n)
    return score + 10 * (abs(dark_share - 50) // 5)
