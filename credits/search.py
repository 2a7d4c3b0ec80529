"""Finding households as a clerk types: names, pinyin initials, house numbers, groups."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from pypinyin import lazy_pinyin
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from credits.clock import current_period
from credits.models import Group, Household, Member, PeriodTotal

MAX_QUERY = 50
HEAD_KEY_LEN = 200
SEARCH_KEY_LEN = 1000
# PostgreSQL refuses b-tree index rows above ~2,700 bytes; stay well below.
SEARCH_KEY_BYTES = 2400

# Surnames whose everyday reading differs from the character's most common one.
SURNAME_READINGS = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "区": "ou",
    "乐": "yue",
    "查": "zha",
    "盖": "ge",
    "缪": "miao",
    "翟": "zhai",
    "覃": "qin",
    "召": "shao",
    "种": "chong",
    "繁": "po",
    "秘": "bi",
    "折": "she",
    "员": "yun",
    "句": "gou",
    "隗": "wei",
    "尉": "yu",
    "长": "zhang",
    "万": "mo",  # 万俟
    "俟": "qi",
    "藏": "zang",
    "黑": "he",
    "宓": "fu",
}

_SPACES = re.compile(r"\s+")
_CJK_ONLY = re.compile(r"^[\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0003ffff·]+$")
_NUMERAL = "零一二三四五六七八九"
_NUMERAL_VALUE = {ch: i for i, ch in enumerate(_NUMERAL)} | {"〇": 0, "两": 2}
_GROUP_RE = re.compile(r"^第?([0-9]+|[零〇一二两三四五六七八九十百]+)(?:村民小组|村民组|小组|组)?$")


def normalise_text(value: object) -> str:
    """NFKC (full-width digits and letters become ASCII) and trimmed, inner spaces collapsed."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return _SPACES.sub(" ", text).strip()


def normalise_name(value: object) -> str:
    """A person's name as stored: normalised, and no spaces inside a Chinese name."""
    text = normalise_text(value)
    without = text.replace(" ", "")
    return without if _CJK_ONLY.match(without) else text


def chinese_number(n: int) -> str:
    """Write 1..999 in Chinese numerals: 1 一, 10 十, 12 十二, 20 二十, 105 一百零五."""
    if n < 10:
        return _NUMERAL[n]
    if n < 20:
        return "十" + (_NUMERAL[n % 10] if n % 10 else "")
    if n < 100:
        return _NUMERAL[n // 10] + "十" + (_NUMERAL[n % 10] if n % 10 else "")
    rest = n % 100
    tail = "" if rest == 0 else ("零" + _NUMERAL[rest] if rest < 10 else chinese_number(rest))
    if 10 <= rest < 20:
        tail = "一" + tail  # 一百一十五, not 一百十五
    return _NUMERAL[n // 100] + "百" + tail


def _parse_chinese_number(text: str) -> int | None:
    """Read 一 .. 九百九十九 (also 〇, 两); None when it is not such a number."""
    total, current = 0, 0
    for ch in text:
        if ch in _NUMERAL_VALUE:
            current = current * 10 + _NUMERAL_VALUE[ch] if current else _NUMERAL_VALUE[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def canonical_group(value: object) -> str:
    """One spelling per numbered group: 1组, 第1组, 第一组, １组 and 一组 all become 一组."""
    text = normalise_text(value).replace(" ", "")
    match = _GROUP_RE.match(text)
    if not match:
        return text
    digits = match.group(1)
    number = int(digits) if digits.isdigit() else _parse_chinese_number(digits)
    if number is None or not 1 <= number <= 999:
        return text
    return chinese_number(number) + "组"


def _readings(name: str) -> list[tuple[str, str]]:
    """(full pinyin, initials) of a name; a polyphonic surname adds its surname reading."""
    syllables = lazy_pinyin(name)
    variants = [syllables]
    first = name[:1]
    if first in SURNAME_READINGS and syllables and syllables[0] != SURNAME_READINGS[first]:
        variants.append([SURNAME_READINGS[first], *syllables[1:]])
    out: list[tuple[str, str]] = []
    for parts in variants:
        full = "".join(parts).lower()
        initials = "".join(p[:1] for p in parts).lower()
        out.append((full, initials))
        if "v" in full:  # pypinyin writes ü as v (lv); people also type lu
            out.append((full.replace("v", "u"), initials))
    return out


def name_tokens(name: str) -> list[str]:
    """The search tokens of one name: the name, its initials and its full pinyin."""
    name = normalise_name(name).lower()
    if not name:
        return []
    tokens = [name]
    if re.search(r"[\u2e80-\U0003ffff]", name):
        for full, initials in _readings(name):
            tokens += [initials, full]
    return list(dict.fromkeys(tokens))


def _key(names: Iterable[str], max_chars: int, max_bytes: int) -> str:
    tokens: list[str] = []
    for name in names:
        tokens += [t for t in name_tokens(name) if t not in tokens]
    key = " "
    for token in tokens:
        candidate = key + token + " "
        if len(candidate) > max_chars or len(candidate.encode()) > max_bytes:
            break
        key = candidate
    return key


def keys_for(head_name: str, member_names: Iterable[str]) -> tuple[str, str]:
    """Return (head_key, search_key) for a household: space-separated, space-wrapped."""
    head_key = _key([head_name], HEAD_KEY_LEN, HEAD_KEY_LEN * 3)
    search_key = _key([head_name, *member_names], SEARCH_KEY_LEN, SEARCH_KEY_BYTES)
    return head_key, search_key


def set_keys(household: Household, member_names: Iterable[str]) -> None:
    """Store a household's search keys from its head and the given member names."""
    household.head_key, household.search_key = keys_for(household.head_name, member_names)


def refresh_search_key(session: Session, household: Household) -> None:
    """Recompute a household's search keys from its active members (caller commits)."""
    session.flush()
    names = session.scalars(
        select(Member.name)
        .where(Member.household_id == household.id, Member.active.is_(True))
        .order_by(Member.id)
    ).all()
    set_keys(household, names)


def normalise_query(q: str) -> str:
    """What a search compares: NFKC, lower case, no spaces, at most 50 characters."""
    return normalise_text(q).replace(" ", "").lower()[:MAX_QUERY]


def household_query(
    village_id: int,
    q: str = "",
    *,
    group_id: int | None = None,
    status: str = "active",
) -> Select[Any]:
    """Select a village's households matching a search, best matches first.

    status is "active", "inactive" or "all". The order: exact head name or house number,
    then households whose head's name, initials or pinyin start with q, then a member's,
    then any other match; within each, active first, by group and id.
    """
    query = select(Household).where(Household.village_id == village_id)
    if status == "active":
        query = query.where(Household.active.is_(True))
    elif status == "inactive":
        query = query.where(Household.active.is_(False))
    if group_id:
        query = query.where(Household.group_id == group_id)
    text = normalise_query(q)
    rank: Any = None
    if text:
        # A group matches by its exact (canonical) name, or by two or more of its characters:
        # a bare "1" must find house number 1, not every household of 一组.
        group_names = {text, canonical_group(text)} if text.endswith("组") else {text}
        group_match: Any = Group.name.in_(group_names)
        if len(text) >= 2:
            group_match = or_(group_match, Group.name.contains(text, autoescape=True))
        groups = select(Group.id).where(Group.village_id == village_id, group_match)
        house = func.lower(Household.house_number)
        query = query.where(
            or_(
                Household.search_key.contains(text, autoescape=True),
                house.contains(text, autoescape=True),
                Household.group_id.in_(groups),
            )
        )
        rank = case(
            (or_(Household.head_name == text, house == text), 0),
            (Household.head_key.contains(" " + text, autoescape=True), 1),
            (Household.search_key.contains(" " + text, autoescape=True), 2),
            (house.startswith(text, autoescape=True), 3),
            else_=4,
        )
    position = select(Group.position).where(Group.id == Household.group_id).scalar_subquery()
    order = [Household.active.desc(), func.coalesce(position, 0), Household.id]
    if rank is not None:
        order.insert(0, rank)
    return query.order_by(*order).options(selectinload(Household.group))


def search_households(
    session: Session, village_id: int, q: str, limit: int = 10
) -> list[Household]:
    """Find a village's active households by name, initials, pinyin, house number or group."""
    if not normalise_query(q):
        return []
    query = household_query(village_id, q).options(selectinload(Household.members))
    return list(session.scalars(query.limit(max(1, min(limit, 50)))))


def month_points(
    session: Session,
    village_id: int,
    household_ids: Iterable[int],
    period: int | None = None,
    scheme_id: int | None = None,
) -> dict[int, int]:
    """Points each household earned in a month (all schemes, or one), by household id."""
    ids = list(household_ids)
    if not ids:
        return {}
    query = (
        select(PeriodTotal.household_id, func.sum(PeriodTotal.score))
        .where(
            PeriodTotal.village_id == village_id,
            PeriodTotal.period == (period or current_period()),
            PeriodTotal.household_id.in_(ids),
        )
        .group_by(PeriodTotal.household_id)
    )
    if scheme_id is not None:
        query = query.where(PeriodTotal.scheme_id == scheme_id)
    totals = {household_id: int(total or 0) for household_id, total in session.execute(query)}
    return {household_id: totals.get(household_id, 0) for household_id in ids}


def member_label(member: Member, namesakes: Iterable[Member]) -> str:
    """A member's name, with the birth year when another active member has the same name."""
    twin = any(o.id != member.id and o.active and o.name == member.name for o in namesakes)
    return f"{member.name}（{member.birth_year}）" if twin and member.birth_year else member.name


def matching_members(household: Household, q: str) -> list[Member]:
    """The active members other than the head whose name, initials or pinyin contain q."""
    text = normalise_query(q)
    if not text:
        return []
    return [
        m
        for m in household.members
        if m.active
        and m.name != household.head_name
        and any(text in token for token in name_tokens(m.name))
    ]


def household_json(household: Household, month_points: int = 0, q: str = "") -> dict[str, Any]:
    """The shape the recording page and the card scanner show for a household.

    Each member has a label that tells namesakes apart by birth year; `matched` lists the
    ids of the members (not the head) a search for q found.
    """
    active = [m for m in household.members if m.active]
    return {
        "id": household.id,
        "head_name": household.head_name,
        "house_number": household.house_number,
        "group": household.group.name if household.group else "",
        "month_points": month_points,
        "members": [
            {
                "id": m.id,
                "name": m.name,
                "relation": m.relation,
                "birth_year": m.birth_year,
                "label": member_label(m, active),
            }
            for m in active
        ],
        "matched": [m.id for m in matching_members(household, q)],
    }


def search_json(session: Session, village_id: int, q: str, limit: int = 10) -> dict[str, Any]:
    """The as-you-type answer: {"households": [household_json, ...]}."""
    found = search_households(session, village_id, q, limit)
    points = month_points(session, village_id, [h.id for h in found])
    return {"households": [household_json(h, points.get(h.id, 0), q) for h in found]}
