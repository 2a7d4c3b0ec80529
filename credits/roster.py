"""The roster (户籍): checking and changing households, members and their groups."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from credits import audit
from credits.access import Permission, require
from credits.db import lock_row, utcnow
from credits.errors import NotFound, ValidationError
from credits.i18n import N_
from credits.models import (
    Claim,
    ClaimState,
    Group,
    Household,
    LedgerEntry,
    Member,
    User,
)
from credits.search import canonical_group, normalise_name, normalise_text, refresh_search_key

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


def clean_name(value: object, field: str = "name") -> str:
    """A required person's name: normalised, at most 50 characters, letters and · only."""
    name = normalise_name(value).translate(_NAME_DOTS)
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
    this_year = (today or date.today()).year
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
    text = normalise_text(value).replace(" ", "")
    if text in HEAD_RELATIONS:
        return HEAD
    if len(text) > MAX_RELATION:
        raise FieldError(field, N_("A relation may have at most %(n)s characters."), n=MAX_RELATION)
    return text


def clean_house_number(value: object, field: str = "house_number") -> str:
    """A house number or address as written, normalised, at most 50 characters."""
    text = normalise_text(value)
    if len(text) > MAX_HOUSE:
        raise FieldError(
            field, N_("A house number may have at most %(n)s characters."), n=MAX_HOUSE
        )
    return text


def clean_group_name(value: object, field: str = "group") -> str:
    """A group name in its canonical spelling (一组 for 1组, 第一组 …); may be empty."""
    name = canonical_group(value)
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


# ---- the data a form or an import hands in ----


@dataclass(frozen=True)
class HouseholdData:
    """A household as typed in a form; group None leaves the group alone on an edit."""

    head_name: str
    house_number: str = ""
    phone: str = ""
    special_needs: tuple[str, ...] = ()
    group: str | None = None
    head_gender: str = ""
    head_birth_year: object = None


@dataclass(frozen=True)
class MemberData:
    """A member as typed in a form."""

    name: str
    relation: str = ""
    gender: str = ""
    birth_year: object = None
    phone: str = ""


HOUSEHOLD_FIELDS = ("head_name", "group_id", "house_number", "phone", "special_needs", "active")
MEMBER_FIELDS = ("household_id", "name", "relation", "gender", "birth_year", "phone", "active")


def _household_snapshot(household: Household) -> dict[str, Any]:
    data = audit.snapshot(household, *HOUSEHOLD_FIELDS)
    data["group"] = household.group.name if household.group else ""
    return data


# ---- loading with scope ----


def _household(
    session: Session, actor: User | None, household_id: int, perm: Permission
) -> Household:
    household = session.get(Household, household_id)
    if household is None:
        raise NotFound(N_("No such household."))
    if actor is not None:
        require(session, actor, perm, household.village_id)
    return household


def _member(session: Session, actor: User, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(N_("No such member."))
    require(session, actor, Permission.MANAGE, member.village_id)
    return member


def groups_by_canonical(session: Session, village_id: int) -> dict[str, Group]:
    """A village's groups by canonical name (an old 第一组 answers for 一组)."""
    groups = session.scalars(
        select(Group).where(Group.village_id == village_id).order_by(Group.position, Group.id)
    ).all()
    found: dict[str, Group] = {}
    for group in groups:
        found.setdefault(canonical_group(group.name), group)
    return found


def find_or_create_group(session: Session, village_id: int, name: str) -> Group | None:
    """Return the village's group of that (canonical) name, creating it; None for no name."""
    canonical = clean_group_name(name)
    if not canonical:
        return None
    existing = groups_by_canonical(session, village_id).get(canonical)
    if existing is not None:
        return existing
    last = session.scalar(select(func.max(Group.position)).where(Group.village_id == village_id))
    group = Group(village_id=village_id, name=canonical, position=(last or 0) + 1)
    session.add(group)
    session.flush()
    return group


def _check_unique(
    session: Session, village_id: int, group: Group | None, head: str, house: str, skip: int | None
) -> None:
    """Refuse a second active household with the same group, head and house number."""
    query = select(Household.id).where(
        Household.village_id == village_id,
        Household.active.is_(True),
        Household.head_name == head,
        Household.house_number == house,
        Household.group_id == group.id if group else Household.group_id.is_(None),
    )
    if skip is not None:
        query = query.where(Household.id != skip)
    if session.scalar(query.limit(1)) is not None:
        raise FieldError(
            "head_name",
            N_("The household of %(head)s (house number %(house)s) is already in the roster."),
            head=head,
            house=house or "—",
        )


def _head_member(household: Household) -> Member | None:
    return next((m for m in household.members if m.active and m.relation == HEAD), None)


# ---- services: each checks permission, writes audit and commits once ----


def create_household(
    session: Session,
    *,
    actor: User,
    village_id: int,
    data: HouseholdData,
    idempotency_key: str | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Household:
    """Add a household and its head as first member; the same key returns the first."""
    require(session, actor, Permission.MANAGE, village_id)
    key = clean_key(idempotency_key)
    if key:
        existing = session.scalar(
            select(Household).where(
                Household.village_id == village_id, Household.idempotency_key == key
            )
        )
        if existing is not None:
            return existing
    today = (now or utcnow()).date()
    values = clean_all(
        {
            "head": lambda: clean_name(data.head_name, "head_name"),
            "house": lambda: clean_house_number(data.house_number),
            "phone": lambda: clean_phone(data.phone),
            "needs": lambda: clean_special_needs(data.special_needs),
            "gender": lambda: clean_gender(data.head_gender, "head_gender"),
            "birth": lambda: clean_birth_year(data.head_birth_year, today, "head_birth_year"),
            "group": lambda: clean_group_name(data.group or ""),
        }
    )
    head, house, phone, needs = values["head"], values["house"], values["phone"], values["needs"]
    gender, birth = values["gender"], values["birth"]
    lock_row(session, "village", "id", village_id)
    group = find_or_create_group(session, village_id, data.group or "")
    _check_unique(session, village_id, group, head, house, None)
    household = Household(
        village_id=village_id,
        group_id=group.id if group else None,
        head_name=head,
        house_number=house,
        phone=phone,
        special_needs=needs,
        idempotency_key=key,
    )
    session.add(household)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        first = session.scalar(
            select(Household).where(
                Household.village_id == village_id, Household.idempotency_key == key
            )
        )
        if first is None:
            raise
        return first
    session.add(
        Member(
            village_id=village_id,
            household_id=household.id,
            name=head,
            relation=HEAD,
            gender=gender,
            birth_year=birth,
        )
    )
    refresh_search_key(session, household)
    audit.log(
        session,
        "household.create",
        actor=actor,
        village_id=village_id,
        obj=household,
        ip=ip,
        after=_household_snapshot(household),
    )
    session.commit()
    return household


def update_household(
    session: Session,
    *,
    actor: User,
    household_id: int,
    data: HouseholdData,
    ip: str | None = None,
) -> Household:
    """Change a household's head name, house number, phone and special needs."""
    household = _household(session, actor, household_id, Permission.MANAGE)
    before = _household_snapshot(household)
    values = clean_all(
        {
            "head": lambda: clean_name(data.head_name, "head_name"),
            "house": lambda: clean_house_number(data.house_number),
            "phone": lambda: clean_phone(data.phone),
            "needs": lambda: clean_special_needs(data.special_needs),
        }
    )
    head, house, phone, needs = values["head"], values["house"], values["phone"], values["needs"]
    group = household.group
    if data.group is not None:
        group = find_or_create_group(session, household.village_id, data.group)
    if household.active:
        _check_unique(session, household.village_id, group, head, house, household.id)
    head_member = _head_member(household)
    if head_member is not None and head_member.name == household.head_name:
        head_member.name = head
    household.head_name = head
    household.house_number = house
    household.phone = phone
    household.special_needs = needs
    household.group_id = group.id if group else None
    household.group = group
    refresh_search_key(session, household)
    after = _household_snapshot(household)
    if after != before:
        audit.log(
            session,
            "household.update",
            actor=actor,
            village_id=household.village_id,
            obj=household,
            ip=ip,
            before=before,
            after=after,
        )
    session.commit()
    return household


def move_household(
    session: Session, *, actor: User, household_id: int, group: str, ip: str | None = None
) -> Household:
    """Move a household to another group (created when new)."""
    household = _household(session, actor, household_id, Permission.MANAGE)
    if not clean_group_name(group):
        raise FieldError("group", N_("Choose the group to move the household to."))
    before = _household_snapshot(household)
    target = find_or_create_group(session, household.village_id, group)
    assert target is not None
    if household.active:
        _check_unique(
            session,
            household.village_id,
            target,
            household.head_name,
            household.house_number,
            household.id,
        )
    household.group_id = target.id
    household.group = target
    after = _household_snapshot(household)
    if after != before:
        audit.log(
            session,
            "household.move",
            actor=actor,
            village_id=household.village_id,
            obj=household,
            ip=ip,
            before=before,
            after=after,
        )
    session.commit()
    return household


def set_household_active(
    session: Session,
    *,
    actor: User,
    household_id: int,
    active: bool,
    reason: str = "",
    ip: str | None = None,
) -> Household:
    """Deactivate a household (moved away, merged) or bring it back; nothing is deleted."""
    household = _household(session, actor, household_id, Permission.MANAGE)
    if household.active == active:
        return household
    reason = normalise_text(reason)[:200]
    if not active:
        pending = session.scalar(
            select(func.count(Claim.id)).where(
                Claim.village_id == household.village_id,
                Claim.household_id == household.id,
                Claim.state.in_((ClaimState.RECORDED, ClaimState.NOTICED)),
            )
        )
        if pending:
            raise ValidationError(
                N_(
                    "This household has %(n)s claims in review or on notice; settle them "
                    "before deactivating it."
                ),
                n=pending,
            )
    else:
        _check_unique(
            session,
            household.village_id,
            household.group,
            household.head_name,
            household.house_number,
            household.id,
        )
    before = _household_snapshot(household)
    household.active = active
    after = _household_snapshot(household)
    if reason:
        after["reason"] = reason
    audit.log(
        session,
        "household.deactivate" if not active else "household.reactivate",
        actor=actor,
        village_id=household.village_id,
        obj=household,
        ip=ip,
        before=before,
        after=after,
    )
    session.commit()
    return household


def _clean_member(data: MemberData, today: date) -> dict[str, Any]:
    return clean_all(
        {
            "name": lambda: clean_name(data.name),
            "relation": lambda: clean_relation(data.relation),
            "gender": lambda: clean_gender(data.gender),
            "birth_year": lambda: clean_birth_year(data.birth_year, today),
            "phone": lambda: clean_phone(data.phone),
        }
    )


def _check_member_name(household: Household, name: str, skip: int | None) -> None:
    for other in household.members:
        if other.active and other.id != skip and other.name == name:
            raise FieldError(
                "name", N_("%(name)s is already a member of this household."), name=name
            )


def add_member(
    session: Session,
    *,
    actor: User,
    household_id: int,
    data: MemberData,
    idempotency_key: str | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Member:
    """Add a member to a household; the same key returns the first."""
    household = _household(session, actor, household_id, Permission.MANAGE)
    key = clean_key(idempotency_key)
    if key:
        existing = session.scalar(
            select(Member).where(
                Member.village_id == household.village_id, Member.idempotency_key == key
            )
        )
        if existing is not None:
            return existing
    values = _clean_member(data, (now or utcnow()).date())
    if values["relation"] == HEAD:
        raise FieldError(
            "relation",
            N_("A household has one head; change the head's name in the household form."),
        )
    _check_member_name(household, values["name"], None)
    member = Member(
        village_id=household.village_id, household_id=household.id, idempotency_key=key, **values
    )
    session.add(member)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        first = session.scalar(
            select(Member).where(
                Member.village_id == household.village_id, Member.idempotency_key == key
            )
        )
        if first is None:
            raise
        return first
    refresh_search_key(session, household)
    audit.log(
        session,
        "member.create",
        actor=actor,
        village_id=household.village_id,
        obj=member,
        ip=ip,
        after=audit.snapshot(member, *MEMBER_FIELDS),
    )
    session.commit()
    return member


def update_member(
    session: Session,
    *,
    actor: User,
    member_id: int,
    data: MemberData,
    ip: str | None = None,
    now: datetime | None = None,
) -> Member:
    """Change a member; renaming the head renames the household's head too."""
    member = _member(session, actor, member_id)
    household = member.household
    values = _clean_member(data, (now or utcnow()).date())
    is_head = member.relation == HEAD
    if values["relation"] == HEAD and not is_head:
        raise FieldError(
            "relation",
            N_("A household has one head; change the head's name in the household form."),
        )
    if is_head and values["relation"] != HEAD:
        raise FieldError("relation", N_("The head's relation stays 户主."))
    if member.active:
        _check_member_name(household, values["name"], member.id)
    before = audit.snapshot(member, *MEMBER_FIELDS)
    if is_head and household.head_name == member.name and values["name"] != member.name:
        if household.active:
            _check_unique(
                session,
                household.village_id,
                household.group,
                values["name"],
                household.house_number,
                household.id,
            )
        household.head_name = values["name"]
    for name, value in values.items():
        setattr(member, name, value)
    refresh_search_key(session, household)
    after = audit.snapshot(member, *MEMBER_FIELDS)
    if after != before:
        audit.log(
            session,
            "member.update",
            actor=actor,
            village_id=member.village_id,
            obj=member,
            ip=ip,
            before=before,
            after=after,
        )
    session.commit()
    return member


def set_member_active(
    session: Session, *, actor: User, member_id: int, active: bool, ip: str | None = None
) -> Member:
    """Mark a member as gone (moved out, deceased) or back; the head stays."""
    member = _member(session, actor, member_id)
    if member.active == active:
        return member
    if not active and member.relation == HEAD:
        raise ValidationError(
            N_("The head of a household cannot be removed; deactivate the household instead.")
        )
    if active:
        _check_member_name(member.household, member.name, member.id)
    before = audit.snapshot(member, *MEMBER_FIELDS)
    member.active = active
    refresh_search_key(session, member.household)
    audit.log(
        session,
        "member.deactivate" if not active else "member.reactivate",
        actor=actor,
        village_id=member.village_id,
        obj=member,
        ip=ip,
        before=before,
        after=audit.snapshot(member, *MEMBER_FIELDS),
    )
    session.commit()
    return member


# ---- read models for the household page ----


def recent_claims(session: Session, household: Household, limit: int = 10) -> list[Claim]:
    """The household's latest claims, newest first."""
    return list(
        session.scalars(
            select(Claim)
            .where(Claim.village_id == household.village_id, Claim.household_id == household.id)
            .options(
                selectinload(Claim.rule), selectinload(Claim.scheme), selectinload(Claim.member)
            )
            .order_by(Claim.recorded_at.desc(), Claim.id.desc())
            .limit(limit)
        )
    )


def recent_entries(session: Session, household: Household, limit: int = 10) -> list[LedgerEntry]:
    """The household's latest ledger entries, newest first."""
    return list(
        session.scalars(
            select(LedgerEntry)
            .where(
                LedgerEntry.village_id == household.village_id,
                LedgerEntry.household_id == household.id,
            )
            .options(selectinload(LedgerEntry.scheme))
            .order_by(LedgerEntry.seq.desc())
            .limit(limit)
        )
    )
