"""Checking roster values (pure functions): names, phones, birth years, relations, groups."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from credits import clock
from credits.errors import ValidationError
from credits.i18n import N_
from credits.models import Household
from credits.search import canonical_group, normalise_name, normalise_text

HEAD = "户主"
HEAD_RELATIONS = frozenset({"户主", "本人", "户主本人"})
RELATIONS = ("配偶", "子", "女", "儿媳", "女婿", "孙子", "孙女", "父亲", "母亲", "兄弟姐妹", "其他")
GENDERS = {"男": "男", "女": "女", "男性": "男", "女性": "女", "m": "男", "f": "女"}
ELDERLY_ALONE = "elderly_alone"
DISABLED = "disabled"
SPECIAL_NEEDS = (ELDERLY_ALONE, DISABLED)
SPECIAL_NEED_LABELS = {ELDERLY_ALONE: N_("Elderly living alone"), DISABLED: N_("Disabled")}
MAX_NAME = 50
MAX_RELATION = 20
MAX_HOUSE = 50
MIN_BIRTH_YEAR = 1900
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_NAME_DOTS = str.maketrans({"•": "·", "・": "·", "‧": "·", "∙": "·"})
_PHONE_JUNK = re.compile(r"[\s\-()（）.]")
_BIRTH_RE = re.compile(r"^(\d{4})(?:[年./\-](\d{1,2})(?:[月./\-](\d{1,2})日?)?月?)?(?:[年])?$")
_BIRTH_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")


class FieldError(ValidationError):
    """Bad input in one field of a form; `field` names it so the page can mark it."""

    def __init__(self, field: str, message: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field


class FieldErrors(FieldError):
    """Several fields wrong at once: `errors` holds each; the message is the first one's."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors[0].field, errors[0].message, **errors[0].params)
        self.errors = errors


def clean_all(checks: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run every field's check; refuse with all the bad fields at once, so a form shows them."""
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, check in checks.items():
        try:
            values[name] = check()
        except FieldError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise FieldErrors(errors)
    return values


# ---- checking values (pure functions) ----


def refuse_control(text: str, field: str) -> str:
    """Refuse text holding an invisible control character (they break exports and prints)."""
    for ch in text:
        if unicodedata.category(ch) == "Cc":
            raise FieldError(
                field,
                N_(
                    "The text contains an invisible control character (%(code)s); "
                    "retype it without that character."
                ),
                code=f"U+{ord(ch):04X}",
            )
    return text


def clean_text(value: object, field: str) -> str:
    """Free text (a note, a reason): normalised, no control characters."""
    return refuse_control(normalise_text(value), field)


def clean_name(value: object, field: str = "name") -> str:
    """A required person's name: normalised, at most 50 characters, letters and · only."""
    name = refuse_control(normalise_name(value).translate(_NAME_DOTS), field)
    if not name:
        raise FieldError(field, N_("The name is missing."))
    if len(name) > MAX_NAME:
        raise FieldError(field, N_("A name may have at most %(n)s characters."), n=MAX_NAME)
    for ch in name:
        if ch not in "· " and not unicodedata.category(ch).startswith(("L", "M")):
            raise FieldError(
                field,
                N_("The name %(name)s contains “%(char)s”, which is not part of a name."),
                name=name,
                char=ch,
            )
    return name


def clean_phone(value: object, field: str = "phone") -> str:
    """An 11-digit mainland mobile or a landline (0571-88001234, or 7–8 local digits)."""
    text = normalise_text(value)
    if not text:
        return ""
    digits = _PHONE_JUNK.sub("", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if re.fullmatch(r"1[3-9]\d{9}", digits):
        return digits
    if re.fullmatch(r"0\d{9,11}", digits):
        area = 3 if digits[1] in "12" else 4
        local = digits[area:]
        if 7 <= len(local) <= 8 and local[0] not in "01":
            return f"{digits[:area]}-{local}"
    if re.fullmatch(r"[2-9]\d{6,7}", digits):
        return digits
    raise FieldError(
        field,
        N_(
            "“%(value)s” is not a phone number: write an 11-digit mobile number "
            "or a landline such as 0571-88001234."
        ),
        value=text,
    )


def _year_of(value: object) -> int | None:
    """The year in a birth cell, or None when the cell is not a birth date."""
    if isinstance(value, datetime | date):
        return value.year
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        # Excel keeps 1965.03 as a number: the whole part is the year, the rest the month.
        if not 1000 <= value < 10000:
            return None
        month = round((value - int(value)) * 100)
        return int(value) if 0 <= month <= 12 else None
    text = normalise_text(value).replace(" ", "")
    match = _BIRTH_RE.match(text) or _BIRTH_DIGITS.match(text)
    if not match:
        return None
    month = int(match.group(2) or 1)
    day = int(match.group(3) or 1)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return int(match.group(1))


def clean_birth_year(
    value: object, today: date | None = None, field: str = "birth_year"
) -> int | None:
    """A birth year from 1965, 1965.03, 1965年3月, 1965-03-12, 19650312 or a date cell."""
    if value is None or (isinstance(value, str) and not normalise_text(value)):
        return None
    year = _year_of(value)
    if year is None:
        raise FieldError(
            field,
            N_("“%(value)s” is not a birth year: write it like 1965 or 1965.03."),
            value=normalise_text(value),
        )
    this_year = (today or clock.today()).year
    if not MIN_BIRTH_YEAR <= year <= this_year:
        raise FieldError(
            field,
            N_("The birth year %(year)s is not between %(low)s and %(high)s."),
            year=year,
            low=MIN_BIRTH_YEAR,
            high=this_year,
        )
    return year


def clean_gender(value: object, field: str = "gender") -> str:
    """男, 女 or empty."""
    text = normalise_text(value).replace(" ", "").lower()
    if not text:
        return ""
    if text not in GENDERS:
        raise FieldError(field, N_("“%(value)s” is not a gender: write 男 or 女."), value=text)
    return GENDERS[text]


def clean_relation(value: object, field: str = "relation") -> str:
    """A relation to the head (本人 and 户主本人 count as 户主)."""
    text = refuse_control(normalise_text(value).replace(" ", ""), field)
    if text in HEAD_RELATIONS:
        return HEAD
    if len(text) > MAX_RELATION:
        raise FieldError(field, N_("A relation may have at most %(n)s characters."), n=MAX_RELATION)
    return text


def clean_house_number(value: object, field: str = "house_number") -> str:
    """A house number or address as written, normalised, at most 50 characters."""
    text = refuse_control(normalise_text(value), field)
    if len(text) > MAX_HOUSE:
        raise FieldError(
            field, N_("A house number may have at most %(n)s characters."), n=MAX_HOUSE
        )
    return text


def clean_group_name(value: object, field: str = "group") -> str:
    """A group name in its canonical spelling (一组 for 1组, 第一组 …); may be empty."""
    name = refuse_control(canonical_group(value), field)
    if len(name) > 50:
        raise FieldError(field, N_("A group name may have at most %(n)s characters."), n=50)
    return name


def clean_special_needs(values: Iterable[str]) -> str:
    """The stored form of special needs: known flags, sorted, comma-joined."""
    chosen = {normalise_text(v) for v in values if normalise_text(v)}
    unknown = chosen - set(SPECIAL_NEEDS)
    if unknown:
        raise FieldError(
            "special_needs",
            N_("Unknown special need: %(value)s."),
            value=", ".join(sorted(unknown)),
        )
    return ",".join(n for n in SPECIAL_NEEDS if n in chosen)


def special_needs_of(household: Household) -> list[str]:
    """A household's special needs as a list of flags."""
    return [n for n in (household.special_needs or "").split(",") if n]


def needs_delivery(household: Household) -> bool:
    """Elderly living alone or disabled: the shop delivers to this household."""
    return bool(special_needs_of(household))


def clean_key(key: str | None) -> str | None:
    """An idempotency key from a form, or None when absent; refuse a malformed one."""
    if not key:
        return None
    if not KEY_RE.match(key):
        raise ValidationError(N_("The form is damaged; reload the page and try again."))
    return key
