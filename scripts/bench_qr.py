"""Time QR codes for 300 household cards: segno against the qrcode package (credits.qr).

Run: .venv/bin/python scripts/bench_qr.py [--cards 300] [--repeat 3] [--pdf]
Prints seconds per 300 symbols for each maker and the ratio qrcode / segno; both draw the
same card URLs (prefix in byte mode, token in alphanumeric mode, error M boosted, no micro).
With --pdf it also prints the whole card sheet PDF (fonts, text, QR paths) with each maker.
"""

from __future__ import annotations

import argparse
import io
import secrets
import time
from base64 import b32encode
from collections.abc import Callable

import segno
from segno import consts

from credits import qr
from credits.documents import cards as card_sheets

BASE = "https://jifen.example-county.gov.cn/c/"


def card_urls(n: int) -> list[str]:
    return [BASE + b32encode(secrets.token_bytes(14)).decode().rstrip("=") for _ in range(n)]


def with_segno(url: str) -> int:
    prefix, token = url[: len(BASE)], url[len(BASE) :]
    symbol = segno.make_qr(
        [(prefix, consts.MODE_BYTE), (token, consts.MODE_ALPHANUMERIC)],
        error="m",
        boost_error=True,
    )
    return sum(1 for row in symbol.matrix for cell in row if cell & 0x1)


def with_qrcode(url: str, mask: int | None = None) -> int:
    prefix, token = url[: len(BASE)], url[len(BASE) :]
    symbol = qr.make(
        [(prefix, qr.BYTE), (token, qr.ALPHANUMERIC)], error="M", boost_error=True, mask=mask
    )
    return sum(n for _r, _c, n in symbol.runs())


def best_of(maker: Callable[[str], int], urls: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for url in urls:
            maker(url)
        times.append(time.perf_counter() - start)
    return min(times)


def segno_symbol(url: str) -> qr.QRSymbol:
    """A segno symbol in the shape the card sheet draws."""
    prefix, token = url[: len(BASE)], url[len(BASE) :]
    symbol = segno.make_qr(
        [(prefix, consts.MODE_BYTE), (token, consts.MODE_ALPHANUMERIC)],
        error="m",
        boost_error=True,
    )
    matrix = tuple(tuple(bool(cell & 0x1) for cell in row) for row in symbol.matrix)
    return qr.QRSymbol(matrix, int(symbol.version), str(symbol.error), None)


def card_pdf(urls: list[str], maker: Callable[[str], qr.QRSymbol]) -> tuple[float, int]:
    """Seconds and bytes for a card sheet of these URLs, QR symbols made by maker."""
    faces = [
        card_sheets.CardFace("桃源村", "功德银行", "张建华", f"{i}号", "一组", f"VA-{i:04d}-1", url)
        for i, url in enumerate(urls)
    ]
    original = card_sheets.make_qr
    card_sheets.make_qr = maker  # type: ignore[assignment]
    try:
        out = io.BytesIO()
        start = time.perf_counter()
        card_sheets.render_sheets(out, faces, title="bench")
        return time.perf_counter() - start, len(out.getvalue())
    finally:
        card_sheets.make_qr = original  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pdf", action="store_true", help="also time the whole card sheet PDF")
    args = parser.parse_args()
    urls = card_urls(args.cards)
    base = best_of(with_segno, urls, args.repeat)
    print(f"segno            {base:7.3f} s for {args.cards} cards")
    for label, maker in (
        ("qrcode (credits)", with_qrcode),
        ("qrcode, mask 0", lambda u: with_qrcode(u, mask=0)),
    ):
        took = best_of(maker, urls, args.repeat)
        print(f"{label:16} {took:7.3f} s  ({took / base:.2f}× segno)")
    if args.pdf:
        card_pdf(urls[:10], card_sheets.make_qr)  # load the fonts once, outside the timing
        old, old_size = card_pdf(urls, segno_symbol)
        new, new_size = card_pdf(urls, card_sheets.make_qr)
        print(f"card PDF, segno  {old:7.3f} s, {old_size // 1024} KB")
        print(f"card PDF, qrcode {new:7.3f} s, {new_size // 1024} KB  ({new / old:.2f}× segno)")


if __name__ == "__main__":
    main()
