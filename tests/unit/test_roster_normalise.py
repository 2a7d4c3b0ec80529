"""Roster text rules: group names, full-width digits, phones, birth years, names, headers."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from credits.roster import (
    FieldError,
    clean_birth_year,
    clean_gender,
    clean_name,
    clean_phone,
    clean_relation,
    clean_special_needs,
)
from credits.roster_import import header_field, parse_needs
from credits.search import (
    canonical_group,
    chinese_number,
    keys_for,
    name_tokens,
    normalise_name,
    normalise_query,
    normalise_text,
)

TODAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("一组", "一组"),
        ("第一组", "一组"),
        ("1组", "一组"),
        ("第1组", "一组"),
        ("１组", "一组"),
        ("第１组", "一组"),
        (" 一组 ", "一组"),
        ("一 组", "一组"),
        ("01组", "一组"),
        ("1", "一组"),
        ("一村民小组", "一组"),
        ("第三小组", "三组"),
        ("10组", "十组"),
        ("第十组", "十组"),
        ("12组", "十二组"),
        ("第二十一组", "二十一组"),
        ("两组", "二组"),
        ("东山组", "东山组"),
        ("0组", "0组"),
        ("", ""),
    ],
)
def test_group_names_have_one_spelling(raw: str, canonical: str) -> None:
    assert canonical_group(raw) == canonical


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "一"),
        (9, "九"),
        (10, "十"),
        (11, "十一"),
        (20, "二十"),
        (99, "九十九"),
        (100, "一百"),
        (105, "一百零五"),
        (115, "一百一十五"),
        (230, "二百三十"),
    ],
)
def test_chinese_numbers(n: int, text: str) -> None:
    assert chinese_number(n) == text
    assert canonical_group(f"{n}组") == text + "组"
    assert canonical_group(f"第{text}组") == text + "组"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("１３８１２３４５６７８", "13812345678"),
        ("ＡＢＣ１号", "ABC1号"),
        ("  张建华  ", "张建华"),
        ("桃源村\u3000１组  ５号", "桃源村 1组 5号"),
        ("a\tb\nc", "a b c"),
        (None, ""),
        (12, "12"),
    ],
)
def test_text_is_nfkc_normalised_and_trimmed(raw: object, text: str) -> None:
    assert normalise_text(raw) == text


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("张 建华", "张建华"),
        (" 欧阳\u3000明华 ", "欧阳明华"),
        ("Anna  Li", "Anna Li"),
        ("阿卜杜·热合曼", "阿卜杜·热合曼"),
    ],
)
def test_chinese_names_lose_inner_spaces(raw: str, name: str) -> None:
    assert normalise_name(raw) == name


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("0571-88001234", "0571-88001234"),
        ("057188001234", "0571-88001234"),
        ("010-62345678", "010-62345678"),
        ("(0571)88001234", "0571-88001234"),
        ("0731-8123456", "0731-8123456"),
        ("88001234", "88001234"),
        ("", ""),
        ("  ", ""),
    ],
)
def test_phone_numbers_are_accepted_and_normalised(raw: str, phone: str) -> None:
    assert clean_phone(raw) == phone


@pytest.mark.parametrize(
    "raw",
    [
        "123",
        "1381234567",
        "138123456789",
        "12812345678",
        "0571-123",
        "13812345678a",
        "电话",
        "0571-0123456",
        "13812345",
    ],
)
def test_malformed_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(FieldError) as info:
        clean_phone(raw)
    assert info.value.field == "phone"
    assert info.value.params["value"] == raw


@pytest.mark.parametrize(
    ("raw", "year"),
    [
        ("1965", 1965),
        ("１９６５", 1965),
        ("1965.03", 1965),
        ("1965.3", 1965),
        ("1965.12", 1965),
        ("1965年3月", 1965),
        ("1965年03月", 1965),
        ("1965年", 1965),
        ("1965年3月12日", 1965),
        ("1965-03", 1965),
        ("1965-03-12", 1965),
        ("1965/3/12", 1965),
        ("196503", 1965),
        ("19650312", 1965),
        (1965, 1965),
        (1965.03, 1965),
        (1965.1, 1965),
        (datetime(1965, 3, 12), 1965),
        (date(1965, 3, 12), 1965),
        ("1900", 1900),
        ("2026", 2026),
        ("", None),
        (None, None),
    ],
)
def test_birth_years_are_read_from_common_spellings(raw: object, year: int | None) -> None:
    assert clean_birth_year(raw, TODAY) == year


@pytest.mark.parametrize(
    "raw", ["65", "1965.13", "1965年13月", "一九六五", "abc", "1965-02-40", 23814.0, "19651"]
)
def test_malformed_birth_years_are_refused(raw: object) -> None:
    with pytest.raises(FieldError) as info:
        clean_birth_year(raw, TODAY)
    assert info.value.message == "“%(value)s” is not a birth year: write it like 1965 or 1965.03."


@pytest.mark.parametrize(("raw", "year"), [("1899", 1899), ("2027", 2027), (1890, 1890)])
def test_birth_years_outside_1900_to_this_year_are_refused(raw: object, year: int) -> None:
    with pytest.raises(FieldError) as info:
        clean_birth_year(raw, TODAY)
    assert info.value.params == {"year": year, "low": 1900, "high": 2026}


@pytest.mark.parametrize(
    ("raw", "gender"),
    [("男", "男"), ("女 ", "女"), ("男性", "男"), ("F", "女"), ("m", "男"), ("", "")],
)
def test_gender(raw: str, gender: str) -> None:
    assert clean_gender(raw) == gender


def test_unknown_gender_is_refused() -> None:
    with pytest.raises(FieldError):
        clean_gender("未知")


@pytest.mark.parametrize(
    ("raw", "relation"),
    [("户主", "户主"), ("本人", "户主"), ("户主本人", "户主"), (" 配偶", "配偶")],
)
def test_relation(raw: str, relation: str) -> None:
    assert clean_relation(raw) == relation


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("张建华 ", "张建华"),
        ("阿卜杜•热合曼", "阿卜杜·热合曼"),
        ("王𰻞", "王𰻞"),
        ("Anna Li", "Anna Li"),
    ],
)
def test_names(raw: str, name: str) -> None:
    assert clean_name(raw) == name


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "The name is missing."),
        ("  ", "The name is missing."),
        ("张三1", "The name %(name)s contains “%(char)s”, which is not part of a name."),
        ("张三(已故)", "The name %(name)s contains “%(char)s”, which is not part of a name."),
        ("张" * 51, "A name may have at most %(n)s characters."),
    ],
)
def test_bad_names_are_refused(raw: str, message: str) -> None:
    with pytest.raises(FieldError) as info:
        clean_name(raw)
    assert info.value.message == message


def test_special_needs_are_stored_in_a_fixed_order() -> None:
    assert clean_special_needs(["disabled", "elderly_alone"]) == "elderly_alone,disabled"
    assert clean_special_needs([]) == ""
    with pytest.raises(FieldError):
        clean_special_needs(["rich"])


@pytest.mark.parametrize(
    ("cell", "needs", "understood"),
    [
        ("独居老人", "elderly_alone", True),
        ("残疾", "disabled", True),
        ("独居老人、残疾", "elderly_alone,disabled", True),
        ("空巢老人", "elderly_alone", True),
        ("无", "", True),
        ("", None, True),
        ("低保户", "", False),
    ],
)
def test_special_needs_cells(cell: str, needs: str | None, understood: bool) -> None:
    assert parse_needs(cell) == (needs, understood)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("组别", "group"),
        ("小组", "group"),
        ("村民小组", "group"),
        ("户主姓名", "head_name"),
        ("户主", "head_name"),
        ("成员姓名", "name"),
        ("姓名", "name"),
        ("与户主关系", "relation"),
        ("关系", "relation"),
        ("性别", "gender"),
        ("出生年份", "birth_year"),
        ("出生年月", "birth_year"),
        ("联系电话", "phone"),
        ("电话", "phone"),
        ("手机号", "phone"),
        ("门牌号", "house_number"),
        ("住址", "house_number"),
        ("门牌", "house_number"),
        ("*户主姓名", "head_name"),
        ("联系电话（手机）", "phone"),
        (" 门 牌 号 ", "house_number"),
        ("特殊情况", "special_needs"),
        ("序号", None),
        ("身份证号", None),
        ("户主身份证号码", None),
        ("是否户主", None),
        ("备注", None),
    ],
)
def test_header_synonyms(header: str, field: str | None) -> None:
    assert header_field(header) == field


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("张建华", ["张建华", "zjh", "zhangjianhua"]),
        ("欧阳明华", ["欧阳明华", "oymh", "ouyangminghua"]),
        ("曾国庆", ["曾国庆", "cgq", "cengguoqing", "zgq", "zengguoqing"]),
        ("单雄信", ["单雄信", "dxx", "danxiongxin", "sxx", "shanxiongxin"]),
        ("吕长生", ["吕长生", "lcs", "lvchangsheng", "luchangsheng"]),
        ("Anna", ["anna"]),
        ("", []),
    ],
)
def test_name_tokens_hold_initials_and_full_pinyin(name: str, tokens: list[str]) -> None:
    assert name_tokens(name) == tokens


def test_household_keys_cover_head_and_members() -> None:
    head_key, search_key = keys_for("张建华", ["张建华", "王桂芳"])
    assert head_key == " 张建华 zjh zhangjianhua "
    assert search_key == " 张建华 zjh zhangjianhua 王桂芳 wgf wangguifang "


def test_search_keys_stay_within_their_column() -> None:
    _, search_key = keys_for("张建华", [f"王{'桂' * 40}{i}" for i in range(60)])
    assert len(search_key) <= 1000 and len(search_key.encode()) <= 2400
    assert search_key.startswith(" 张建华 zjh ")


@pytest.mark.parametrize(
    ("q", "text"), [(" ＺＪＨ ", "zjh"), ("张 建华", "张建华"), ("x" * 80, "x" * 50)]
)
def test_queries_are_normalised(q: str, text: str) -> None:
    assert normalise_query(q) == text
