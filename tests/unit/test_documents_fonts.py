"""Embedded fonts, glyph fallback and the shared page frame of the PDFs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

import credits.i18n as i18n
from credits.documents import fonts
from credits.documents.fonts import (
    FALLBACK,
    PRIMARY,
    FontMissingError,
    draw_text,
    font_for_char,
    missing_glyphs,
    register_fonts,
    text_width,
)
from credits.documents.frame import PageFrame, open_document, render_pages
from credits.documents.text import format_date, format_date_zh, format_signed

PO_FILE = Path(__file__).resolve().parents[2] / "translations/zh_CN/LC_MESSAGES/messages.po"
EXT_G = "\U00030000"  # CJK Extension G: in neither shipped font


@pytest.fixture
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
    """Text of a PDF (or one page of it) as poppler extracts it, spaces removed."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    run = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *pages, str(pdf), "-"],
        capture_output=True,
        check=True,
    )
    # poppler guesses word spacing; narrow spaces between CJK characters come and go.
    return run.stdout.decode("utf-8").replace(" ", "")


def page_count(pdf: Path) -> int:
    """Number of pages poppler finds in a PDF."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    line = next(row for row in info.stdout.splitlines() if row.startswith("Pages:"))
    return int(line.split()[1])


def test_register_fonts_is_idempotent() -> None:
    register_fonts()
    first = pdfmetrics.getFont(PRIMARY)
    register_fonts()
    assert pdfmetrics.getFont(PRIMARY) is first
    assert pdfmetrics.getFont(FALLBACK).face is not None


def test_common_names_need_no_fallback() -> None:
    assert missing_glyphs("张三") == []
    assert missing_glyphs("欧阳娜娜 +5 −3 ★") == []
    assert {font_for_char(ch) for ch in "张三堃赟昇"} == {PRIMARY}


def test_rare_name_characters_come_from_the_fallback() -> None:
    # 䶮 (Extension A) and 𠀾 (Extension B) are missing from Micro Hei.
    assert font_for_char("䶮") == FALLBACK
    assert font_for_char("\U0002003e") == FALLBACK
    assert missing_glyphs("王䶮 赵\U0002003e") == []


def test_characters_no_font_has_are_reported_once() -> None:
    assert missing_glyphs(f"欧阳{EXT_G}华 {EXT_G}") == [EXT_G]
    assert font_for_char(EXT_G) is None
    assert missing_glyphs(" \t\n\u3000") == []


def test_text_width_matches_the_runs() -> None:
    plain = pdfmetrics.stringWidth("张三", PRIMARY, 20)
    assert text_width("张三", 20) == pytest.approx(plain)
    fallback = pdfmetrics.stringWidth("䶮", FALLBACK, 20)
    assert text_width("张䶮", 20) == pytest.approx(plain / 2 + fallback)
    # The visible substitute for a missing glyph takes one em.
    assert text_width(EXT_G, 20) == pytest.approx(20)


def test_font_missing_error_names_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "no-such-font.ttc"
    monkeypatch.setenv(fonts.PRIMARY_ENV, str(missing))
    with pytest.raises(FontMissingError, match="no-such-font.ttc"):
        register_fonts()
    with pytest.raises(FontMissingError):
        missing_glyphs("张三")
    monkeypatch.delenv(fonts.PRIMARY_ENV)
    monkeypatch.setenv(fonts.FALLBACK_ENV, str(tmp_path / "no-fallback.ttf"))
    with pytest.raises(FontMissingError, match="no-fallback.ttf"):
        register_fonts()


def test_unreadable_font_file_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    monkeypatch.setenv(fonts.FALLBACK_ENV, str(broken))
    with pytest.raises(FontMissingError, match="broken.ttf"):
        register_fonts()


def test_chinese_date_and_signed_points() -> None:
    assert format_date_zh(date(2026, 11, 26)) == "2026年11月26日"
    assert format_date_zh(date(2027, 1, 5)) == "2027年1月5日"
    assert format_date(date(2026, 11, 26), "en") == "November 26, 2026"
    assert [format_signed(n) for n in (5, -3, 0)] == ["+5", "\u22123", "0"]


def test_content_box_sits_between_band_and_footer() -> None:
    frame = PageFrame(title="公示表")
    x0, y0, x1, y1 = frame.content_box()
    width, height = frame.pagesize
    assert 0 < x0 < x1 < width
    assert frame.margin_bottom + frame.footer_height < y0 < y1
    assert y1 < height - frame.margin_top - frame.band_height


def test_framed_pdf_embeds_fonts_and_keeps_chinese_text(tmp_path: Path, zh_catalogue: None) -> None:
    pdf = tmp_path / "notice.pdf"
    frame = PageFrame(
        title="积分公示表",
        village="红旗村",
        ledger_code="3F9A-1C2B",
        printed_on=date(2026, 11, 26),
    )

    def names(canvas: Canvas, box: tuple[float, float, float, float]) -> None:
        draw_text(canvas, box[0], box[3] - 30, "张三 王䶮 赵\U0002003e +5 \u22123", 20)

    def empty(canvas: Canvas, box: tuple[float, float, float, float]) -> None:
        draw_text(canvas, box[0], box[3] - 30, "李四", 20, anchor="left")

    render_pages(pdf, frame, [names, empty])

    assert page_count(pdf) == 2
    first = pdftotext(pdf, 1)
    assert "张三王䶮赵\U0002003e+5\u22123" in first  # Extension B survives text extraction
    assert "积分公示表" in first and "红旗村" in first
    assert "第1页/共2页" in first
    assert "打印日期：2026年11月26日" in first
    assert "账本校验码3F9A-1C2B" in first
    assert "第2页/共2页" in pdftotext(pdf, 2)

    listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    rows = listing.stdout.splitlines()[2:]
    assert any("WenQuanYiMicroHei" in row for row in rows)
    assert any("MeritHanFallback" in row for row in rows)
    for row in rows:
        # Columns: name type encoding emb sub uni ...; every font must be embedded.
        assert row.split()[-5] == "yes", row


def test_missing_glyph_is_drawn_as_a_visible_code(tmp_path: Path) -> None:
    pdf = tmp_path / "missing.pdf"
    canvas = open_document(str(pdf), title="test")
    width = draw_text(canvas, 300, 400, f"欧阳{EXT_G}华", 30, anchor="centre")
    canvas.save()
    assert width == pytest.approx(text_width(f"欧阳{EXT_G}华", 30))
    text = pdftotext(pdf)
    assert "欧阳" in text and "华" in text
    assert "030" in text and "000" in text  # the boxed code point U+030000


def test_document_with_no_drawing_still_gets_one_framed_page(
    tmp_path: Path, zh_catalogue: None
) -> None:
    pdf = tmp_path / "blank.pdf"
    with pdf.open("wb") as out:
        canvas = open_document(out, title="空白", frame=PageFrame(title="空白"))
        canvas.save()
    assert page_count(pdf) == 1
    assert "第1页/共1页" in pdftotext(pdf)
