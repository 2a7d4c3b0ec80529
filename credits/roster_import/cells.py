"""Roster cells: what a header names, a cell as text, special needs, lines that are no person."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from credits.roster import DISABLED, ELDERLY_ALONE
from credits.search import normalise_text

HEADER_SCAN_ROWS = 30

# Column fields, and the header texts that name them (compared after normalising).
GROUP, HEAD_NAME, NAME, RELATION, GENDER, BIRTH, PHONE, HOUSE, NEEDS = (
    "group",
    "head_name",
    "name",
    "relation",
    "gender",
    "birth_year",
    "phone",
    "house_number",
    "special_needs",
)
HEADERS: dict[str, tuple[str, ...]] = {
    GROUP: ("组别", "组", "小组", "村民小组", "所在小组", "所属小组", "组名", "组号"),
    HEAD_NAME: ("户主姓名", "户主", "户主名", "户主名字"),
    NAME: ("成员姓名", "姓名", "成员", "家庭成员", "家庭成员姓名", "名字"),
    RELATION: ("与户主关系", "关系", "与户主的关系", "家庭关系", "成员关系"),
    GENDER: ("性别",),
    BIRTH: ("出生年份", "出生年月", "出生日期", "出生年", "生日", "出生年月日"),
    PHONE: ("联系电话", "电话", "手机号", "手机", "手机号码", "联系方式", "电话号码"),
    HOUSE: ("门牌号", "门牌", "住址", "地址", "家庭住址", "家庭地址", "门牌号码"),
    NEEDS: ("特殊情况", "特殊需要", "特殊群体"),
}
_HEADER_INDEX = {text: name for name, texts in HEADERS.items() for text in texts}
_HEADER_JUNK = re.compile(r"[\s*:：]|[(（][^)）]*[)）]")
# Words a header contains, when it is not one of the texts above.
_HEADER_WORDS = (
    ("关系", RELATION),
    ("电话", PHONE),
    ("手机", PHONE),
    ("门牌", HOUSE),
    ("住址", HOUSE),
    ("地址", HOUSE),
    ("组别", GROUP),
    ("出生", BIRTH),
    ("性别", GENDER),
    ("户主", HEAD_NAME),
    ("姓名", NAME),
)
EXPORT_COLUMNS = (GROUP, HEAD_NAME, NAME, RELATION, GENDER, BIRTH, PHONE, HOUSE, NEEDS)
NEED_WORDS = {ELDERLY_ALONE: "独居老人", DISABLED: "残疾"}
_NEED_KEYWORDS = ((ELDERLY_ALONE, ("独居", "空巢")), (DISABLED, ("残疾", "残障", "残")))
_NO_NEEDS = {"无", "否", "没有", "-", "/"}

# The signature block under a roster: who made it, who checked it, when, the totals.
FOOTER_WORDS = (
    "制表人",
    "制表",
    "填表人",
    "填表日期",
    "填报人",
    "填报日期",
    "审核人",
    "审核",
    "审批人",
    "复核人",
    "统计人",
    "负责人",
    "经办人",
    "登记人",
    "合计",
    "总计",
    "小计",
    "共计",
    "盖章",
    "村委会盖章",
    "日期",
)
_FOOTER_RE = re.compile(
    r"^(?:" + "|".join(sorted(FOOTER_WORDS, key=len, reverse=True)) + r")(?:$|[\s:：(（])"
)


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a trailing .0, everything NFKC-normalised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    return normalise_text(value)


def header_field(text: Any) -> str | None:
    """The column field a header cell names, or None."""
    key = _HEADER_JUNK.sub("", cell_text(text))
    if not key or "身份证" in key or "证件" in key or key.startswith("是否"):
        return None  # ID numbers are never read in; "是否户主" is a yes/no column
    if key in _HEADER_INDEX:
        return _HEADER_INDEX[key]
    for word, name in _HEADER_WORDS:
        if word in key:
            return name
    if key.endswith("组") and "户" not in key:
        return GROUP
    return None


def find_header(
    rows: list[tuple[int, list[Any]]],
) -> tuple[int, dict[str, int], list[str]] | None:
    """(index of the header row, field → column, ignored header texts) or None."""
    for index, (_line, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        found: dict[str, int] = {}
        ignored: list[str] = []
        texts = [cell_text(c) for c in cells]
        if len({t for t in texts if t}) < 2:
            continue  # a title, or one merged banner
        for col, text in enumerate(texts):
            name = header_field(text)
            if name and name not in found:
                found[name] = col
            elif text:
                ignored.append(text)
        if len(found) >= 2 and (NAME in found or HEAD_NAME in found):
            return index, found, ignored
    return None


def parse_needs(value: Any) -> tuple[str | None, bool]:
    """Special needs from a 特殊情况 cell: (flags or None for blank, understood?)."""
    text = cell_text(value).replace(" ", "")
    if not text:
        return None, True
    if text in _NO_NEEDS:
        return "", True
    flags = [flag for flag, words in _NEED_KEYWORDS if any(w in text for w in words)]
    return ",".join(flags), bool(flags)


def union_needs(a: str | None, b: str) -> str:
    """Two sets of special-needs flags as one, in the stored order."""
    flags = set(filter(None, (a or "").split(","))) | set(filter(None, b.split(",")))
    return ",".join(n for n in (ELDERLY_ALONE, DISABLED) if n in flags)


def needs_words(flags: str) -> str:
    """Special needs as the words a roster uses: 独居老人、残疾."""
    return "、".join(NEED_WORDS[f] for f in flags.split(",") if f in NEED_WORDS)


def is_footer(filled: list[str]) -> bool:
    """A line of the signature block (制表人：…, 审核人：…, 填表日期：…, 合计 …), not a person."""
    if not filled:
        return False
    if _FOOTER_RE.match(filled[0].replace(" ", "")):
        return True
    # 序号 left in column A, then 制表人：张三 further right.
    return any(_FOOTER_RE.match(t.replace(" ", "")) and (":" in t or "：" in t) for t in filled[1:])
