"""The notice sheet PDF (公示表): masked names, signed points, head code, embedded font, QR."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from conftest import NOW, new_claim

import credits.i18n as i18n
from credits.documents.notice_sheet import (
    SheetSummary,
    public_notice_url,
    render_notice_sheet,
    wrap,
)
from credits.ledger import head_code
from credits.villages import add_household, ensure_group
from credits.workflow import post_due

PO_FILE = Path(__file__).resolve().parents[2] / "translations/zh_CN/LC_MESSAGES/messages.po"
RARE = "\U0002003e"  # 𠀾, CJK Extension B: drawn from the fallback font


@pytest.fixture(autouse=True)
def zh_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Compile the Chinese catalogue into tmp_path (the .mo files are build output)."""
    out = tmp_path / "translations" / "zh_CN" / "LC_MESSAGES"
    out.mkdir(parents=True)
    with PO_FILE.open("rb") as po:
        catalogue = read_po(po)
    with (out / "messages.mo").open("wb") as mo:
        write_mo(mo, catalogue)
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path / "translations")
    i18n.translator.cache_clear()
    yield
    i18n.translator.cache_clear()


def pdftotext(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    run = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *pages, str(pdf), "-"], capture_output=True, check=True
    )
    return run.stdout.decode("utf-8").replace(" ", "")


def render(session, world, tmp_path: Path, **kwargs) -> tuple[Path, SheetSummary]:
    out = tmp_path / "sheet.pdf"
    summary = render_notice_sheet(
        session,
        world.village,
        out,
        now=NOW + timedelta(hours=1),
        base_url="http://example.org/",
        **kwargs,
    )
    assert out.read_bytes().startswith(b"%PDF")
    return out, summary


def test_notice_sheet_lists_masked_names_signed_points_and_the_head_code(session, world, tmp_path):
    new_claim(session, world, household=0, approve_by="reviewer")
    new_claim(session, world, household=1, rule="XL03", approve_by="reviewer")
    new_claim(session, world, household=2, rule="KF03", note="邻里吵架动手", approve_by="reviewer")
    # A posted claim moves the chain head, whose code the sheet prints at the foot.
    posted = new_claim(
        session, world, household=1, approve_by="reviewer", now=NOW - timedelta(days=8)
    )
    assert post_due(session, now=NOW) == 1
    assert posted.id
    pdf, summary = render(session, world, tmp_path)
    assert (summary.claims, summary.pages) == (3, 1)
    text = pdftotext(pdf)
    xl03 = f"+{world.rule('XL03').points}"
    for expected in ("张*华", "李*兰", "欧阳*华", "+10", xl03, "\u221210", "2026年11月20日"):
        assert expected in text, expected
    code = head_code(session, world.village.id)
    # Sequence number and 64 bits, e.g. "#12 · 3F9A-1C2B-77D0-E5A1" (pdftotext drops spaces).
    assert re.fullmatch(r"#[1-9][0-9]* · [0-9A-F]{4}(-[0-9A-F]{4}){3}", code), code
    assert code.replace(" ", "") in text.replace(" ", "")
    assert "/p/VA/ledger/check" in text
    for label in (
        "积分公示表",
        "村务监督委员会（签字）",
        "日期",
        "账本校验码",
        "第1页/共1页",
        "公示期",
    ):
        assert label in text, label
    for secret in ("张建华", "李秀兰", "欧阳明华", "张小明"):
        assert secret not in text


def test_notice_sheet_embeds_its_font_and_renders(session, world, tmp_path):
    new_claim(session, world, approve_by="reviewer")
    pdf, _ = render(session, world, tmp_path)
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    rows = fonts.splitlines()[2:]
    assert rows, fonts
    assert all(row.split()[-5] == "yes" for row in rows), fonts  # the "emb" column
    assert "STSong" not in fonts
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    png = next(tmp_path.glob("page*.png"))
    assert png.stat().st_size > 10_000


def test_notice_sheet_qr_code_opens_the_public_notice_page(session, world, tmp_path):
    new_claim(session, world, approve_by="reviewer")
    pdf, _ = render(session, world, tmp_path)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "qr")],
        check=True,
    )
    png = next(tmp_path.glob("qr*.png"))
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True, check=True
    )
    assert decoded.stdout.strip() == "http://example.org/p/VA/notice"
    assert public_notice_url("http://example.org/", world.village) == decoded.stdout.strip()


def test_a_long_notice_runs_over_pages_with_the_header_repeated(session, world, tmp_path):
    group = ensure_group(session, world.village, "一组")
    surnames = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
    for i, surname in enumerate(surnames):
        # The last character of each name is a rare one only the fallback font has.
        world.households.append(
            add_household(
                session,
                world.village,
                head_name=f"{surname}明{RARE}",
                group=group,
                house_number=f"{i + 10}号",
            )
        )
    session.commit()
    for i in range(3, len(world.households)):
        new_claim(session, world, household=i, approve_by="reviewer")
    pdf, summary = render(session, world, tmp_path)
    assert summary.claims == len(surnames)
    assert summary.pages >= 2
    for page in range(1, summary.pages + 1):
        assert f"第{page}页/共{summary.pages}页" in pdftotext(pdf, page)
    for page in (1, 2):  # both pages carry rows, and each repeats the table header
        text = pdftotext(pdf, page)
        assert "积分事项" in text and "公示截止" in text and "号" in text
    whole = pdftotext(pdf)
    assert f"赵*{RARE}" in whole and f"姜*{RARE}" in whole
    assert "赵明" not in whole
    assert "（续）" in pdftotext(pdf, 2)
    assert "村务监督委员会（签字）" in pdftotext(pdf, summary.pages)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    assert len(fonts.stdout.splitlines()[2:]) >= 2  # the fallback font is embedded too


def test_a_group_sheet_lists_only_that_group(session, world, tmp_path):
    second = ensure_group(session, world.village, "二组")
    world.households.append(
        add_household(session, world.village, head_name="周立波", group=second, house_number="8号")
    )
    session.commit()
    new_claim(session, world, household=0, approve_by="reviewer")
    new_claim(session, world, household=3, approve_by="reviewer")
    pdf, summary = render(session, world, tmp_path, group=second)
    text = pdftotext(pdf)
    assert "周*波" in text and "张*华" not in text
    assert "桃源村二组" in text
    assert summary.claims == 1


def test_an_empty_notice_still_prints_a_sheet(session, world, tmp_path):
    pdf, summary = render(session, world, tmp_path, scheme=world.scheme)
    assert summary.claims == 0
    text = pdftotext(pdf)
    assert "目前没有公示事项" in text
    assert "村务监督委员会（签字）" in text


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("照顾年迈父母", 1000, ["照顾年迈父母"]),
        ("照顾年迈父母", 25, ["照顾", "年迈", "父母"]),
        ("", 50, [""]),
    ],
)
def test_wrap_breaks_chinese_anywhere(text, width, lines):
    assert wrap(text, width, 10.5) == lines
