"""QR symbols from the qrcode package: the same modules qrcode makes, the least-penalty mask."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import qrcode
import segno
from qrcode import constants

from credits import qr

URLS = [
    "https://jifen.example-county.gov.cn/c/AEBAGBAFAYDQQCIKBMGA2DQP",
    "http://127.0.0.1:5000/p/VA/notice?group=3",
    "https://x.cn/c/" + "Z" * 37,
]
LEVELS = {
    "M": constants.ERROR_CORRECT_M,
    "Q": constants.ERROR_CORRECT_Q,
    "H": constants.ERROR_CORRECT_H,
}


def reference(url: str, level: str, mask: int) -> tuple[tuple[bool, ...], ...]:
    code = qrcode.QRCode(error_correction=LEVELS[level], border=0, mask_pattern=mask)
    code.add_data(url, optimize=0)
    code.make(fit=True)
    return tuple(tuple(bool(m) for m in row) for row in code.modules)


def rows_of(matrix: tuple[tuple[bool, ...], ...]) -> list[int]:
    return [int("".join("1" if m else "0" for m in row), 2) for row in matrix]


@pytest.mark.parametrize("url", URLS)
def test_a_symbol_is_qrcodes_own_symbol_with_the_mask_of_least_penalty(url: str) -> None:
    symbol = qr.make(url, error="M")
    assert not symbol.is_micro and symbol.error == "M"
    candidates = [reference(url, "M", k) for k in range(8)]
    assert symbol.matrix in candidates
    penalties = [qr._penalty(rows_of(c), symbol.size) for c in candidates]
    assert qr._penalty(rows_of(symbol.matrix), symbol.size) == min(penalties)


def test_a_fixed_mask_gives_exactly_that_mask() -> None:
    for k in range(8):
        assert qr.make(URLS[0], error="M", mask=k).matrix == reference(URLS[0], "M", k)


@pytest.mark.parametrize("url", [*URLS, "hello", "https://x.cn/c/AB"])
def test_boosting_raises_the_level_as_far_as_segno_does_and_never_the_size(url: str) -> None:
    plain = qr.make(url, error="M")
    boosted = qr.make(url, error="M", boost_error=True)
    theirs = segno.make_qr(url, error="m", boost_error=True)
    assert boosted.version == plain.version == theirs.version
    assert boosted.error == theirs.error
    assert qr.make("hello", error="M", boost_error=True).error == "H"


def test_segments_put_the_token_in_alphanumeric_mode() -> None:
    whole = qr.make(URLS[2], error="M")
    segments = qr.make([("https://x.cn/c/", qr.BYTE), ("Z" * 37, qr.ALPHANUMERIC)], error="M")
    assert segments.mode is None and whole.mode == "byte"
    assert segments.version < whole.version


def test_the_svg_is_one_path_of_runs_with_the_quiet_zone() -> None:
    symbol = qr.make(URLS[0], error="M")
    svg = symbol.svg_inline(scale=5, dark="#1d1b1a")
    side = (symbol.size + 8) * 5
    assert f'viewBox="0 0 {side} {side}"' in svg and svg.count("<path") == 1
    assert svg.count("h") - svg.count("http") >= sum(1 for _ in symbol.runs())


def test_every_mask_decodes(tmp_path: Path) -> None:
    for k in range(8):
        png = tmp_path / f"qr{k}.png"
        qr.make(URLS[0], error="M", boost_error=True, mask=k).save(png, scale=4, border=4)
        out = subprocess.run(
            ["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == URLS[0]
