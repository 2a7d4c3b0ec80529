"""The card sheet, end to end: print, rasterise, decode every QR, open every passbook."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import NOW, new_claim
from PIL import Image
from reportlab.lib.pagesizes import A4
from sqlalchemy import select

from app.extensions import db
from credits import cards
from credits.documents.cards import (
    CARD_H,
    CARD_W,
    COLUMNS,
    MARK_GAP,
    MARK_LEN,
    ROWS,
    card_box,
    grid_origin,
    print_cards,
)
from credits.models import Household, Village
from credits.privacy import mask_name
from credits.rules import load_preset_into
from credits.villages import add_household, ensure_group
from credits.workflow import post_due

BASE_URL = "http://192.168.1.10:5000"
DPI = 150
RARE = "𠀾"  # CJK Extension B: only the fallback font has it
NO_FONT = "\U0003134a"  # CJK Extension G: no shipped font has it


NAMES = [
    "王春雷",
    "刘红兵",
    "陈秀英",
    "杨建国",
    "赵丽娟",
    "黄志强",
    "周桂兰",
    "吴海燕",
    "徐卫东",
    "孙玉梅",
    "胡振华",
    "朱文斌",
    "高淑芬",
    "林国庆",
    "何雪梅",
    "郭晓东",
    "马金凤",
]


@pytest.fixture
def demo(app, web_world):
    """A demo-like village: two schemes, three groups, 22 households, some history.

    Two households have rare names: one only the fallback font can draw, one no font can.
    """
    with app.app_context():
        village = db.session.get(Village, web_world.village.id)
        load_preset_into(db.session, village, "family_bank")
        groups = [ensure_group(db.session, village, name) for name in ("二组", "三组")]
        for i, name in enumerate(NAMES):
            add_household(
                db.session,
                village,
                head_name=name,
                group=groups[i % 2],
                house_number=f"{village.name}{i % 2 + 2}组{i // 2 + 1}号",
                members=[{"name": name, "relation": "户主"}],
            )
        add_household(
            db.session, village, head_name=f"王{RARE}生", group=groups[0], house_number="99号"
        )
        add_household(
            db.session, village, head_name=f"李{NO_FONT}", group=groups[1], house_number="100号"
        )
        db.session.commit()
        for household in range(3):
            new_claim(db.session, web_world, household=household, approve_by="reviewer")
        post_due(db.session, now=NOW + timedelta(days=8))
        return village.code


def _rasterise(pdf: Path, out: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(out / "page")], check=True)
    return sorted(out.glob("page-*.png"))


def _decode(png: Path) -> list[str]:
    result = subprocess.run(
        ["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, check=False
    )
    return [line for line in result.stdout.splitlines() if line.strip()]


def _cards_of_page(pdf: Path, page_png: Path, page_number: int, tmp_path: Path):
    """Yield (decoded URLs, printed text) of each card slot of a page, as a cutter would.

    Each card is cut out of the page image and decoded on its own, the way a phone sees
    one card; the text printed on that same card comes from the PDF's text layer.
    """
    image = Image.open(page_png)
    scale = DPI / 72
    page_height = A4[1]
    for slot in range(COLUMNS * ROWS):
        x, y = card_box(slot)
        top = page_height - (y + CARD_H)
        crop = tmp_path / f"card-{page_number}-{slot}.png"
        image.crop(
            (
                round(x * scale),
                round(top * scale),
                round((x + CARD_W) * scale),
                round((top + CARD_H) * scale),
            )
        ).save(crop)
        text = subprocess.run(
            [
                "pdftotext",
                "-f",
                str(page_number),
                "-l",
                str(page_number),
                "-r",
                "72",
                "-x",
                str(round(x)),
                "-y",
                str(round(top)),
                "-W",
                str(round(CARD_W)),
                "-H",
                str(round(CARD_H)),
                str(pdf),
                "-",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        yield _decode(crop), text


def _span(html: str, css_class: str) -> str:
    match = re.search(rf'<span class="{css_class}">([^<]*)</span>', html)
    assert match, css_class
    return match.group(1)


def test_every_printed_card_opens_its_own_households_passbook(app, client, demo, tmp_path):
    with app.app_context():
        village = db.session.scalar(select(Village).where(Village.code == demo))
        households = db.session.scalars(
            select(Household).where(Household.village_id == village.id, Household.active)
        ).all()
        by_number = {cards.card_number(h): h for h in households}
        expected = {
            cards.token_for(h): (cards.card_number(h), mask_name(h.head_name), h.house_number)
            for h in households
        }
        pdf = tmp_path / "cards.pdf"
        result = print_cards(db.session, village, pdf, base_url=BASE_URL)
    count = len(households)
    assert count == 22
    assert result.cards == count and result.pages == -(-count // 10)
    # The name no font has is reported to the clerk; the rare one prints from the fallback.
    assert len(result.warnings) == 1 and f"U+{ord(NO_FONT):04X}" in result.warnings[0]

    pages = _rasterise(pdf, tmp_path)
    assert len(pages) == result.pages
    decoded: list[str] = []
    for number, png in enumerate(pages, start=1):
        for urls, text in _cards_of_page(pdf, png, number, tmp_path):
            if not urls:
                assert not text.strip()  # an empty slot of the last page
                continue
            assert len(urls) == 1
            url = urls[0]
            decoded.append(url)
            parts = urlsplit(url)
            assert f"{parts.scheme}://{parts.netloc}" == BASE_URL
            token = parts.path.rsplit("/", 1)[1]
            assert token in expected, url
            card_no, head, house = expected[token]
            # The QR opens the household whose number, name and house the card shows.
            assert re.findall(r"VA-\d{4}-\d+", text) == [card_no]  # this card only
            assert house in text
            household = by_number[card_no]
            if NO_FONT not in household.head_name:
                assert household.head_name in text  # real glyphs, searchable, not boxes
            response = client.get(parts.path)
            assert response.status_code == 200, url
            html = response.get_data(as_text=True)
            assert _span(html, "pb-head") == head
            assert _span(html, "pb-house") == house
            others = {h for t, (_, _, h) in expected.items() if t != token}
            assert all(f'<span class="pb-house">{h}</span>' not in html for h in others)
    assert len(decoded) == count
    assert len(set(decoded)) == count


def test_cards_sit_between_the_crop_marks(app, demo, tmp_path):
    with app.app_context():
        village = db.session.scalar(select(Village).where(Village.code == demo))
        pdf = tmp_path / "cards.pdf"
        print_cards(db.session, village, pdf, base_url=BASE_URL)
    page = Image.open(_rasterise(pdf, tmp_path)[0]).convert("L")
    scale = DPI / 72
    x0, y0 = grid_origin()
    height = page.height

    def px(x: float, y: float) -> tuple[int, int]:
        return round(x * scale), round(height - y * scale)

    def dark(x: float, y: float) -> bool:
        # A 0.25 pt hairline is half a pixel at 150 dpi: look at the pixel and its neighbours.
        cx, cy = px(x, y)
        return (
            min(page.getpixel((cx + dx, cy + dy)) for dx in (-1, 0, 1) for dy in (-1, 0, 1)) < 180
        )

    # Every cut line has its crop marks in the margin…
    for column in range(COLUMNS + 1):
        x = x0 + column * CARD_W
        assert dark(x, y0 + ROWS * CARD_H + MARK_GAP + MARK_LEN / 2)
        assert dark(x, y0 - MARK_GAP - MARK_LEN / 2)
    for row in range(ROWS + 1):
        y = y0 + row * CARD_H
        assert dark(x0 - MARK_GAP - MARK_LEN / 2, y)
        assert dark(x0 + COLUMNS * CARD_W + MARK_GAP + MARK_LEN / 2, y)
    # …and nothing printed crosses a cut line: cutting never slices a card's content.
    for column in range(COLUMNS + 1):
        x = x0 + column * CARD_W
        steps = int(ROWS * CARD_H * scale)
        assert all(page.getpixel(px(x, y0 + i / scale)) > 230 for i in range(steps))
    for row in range(ROWS + 1):
        y = y0 + row * CARD_H
        steps = int(COLUMNS * CARD_W * scale)
        assert all(page.getpixel(px(x0 + i / scale, y)) > 230 for i in range(steps))
    # Each card has its red band inside its own box.
    rgb = Image.open(_rasterise(pdf, tmp_path)[0]).convert("RGB")
    for row in range(ROWS):
        for column in range(COLUMNS):
            left = x0 + column * CARD_W
            top = y0 + (ROWS - row) * CARD_H
            r, g, b = rgb.getpixel(px(left + CARD_W / 2, top - 8.5 * 72 / 25.4))
            assert r > 150 and g < 60 and b < 60, (row, column)
