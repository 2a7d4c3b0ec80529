"""The recording forms as submitted (single claim and batch award), read from the request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import request

from credits.clock import today
from credits.errors import ValidationError
from credits.i18n import N_


@dataclass
class RecordForm:
    """What the recording form holds, to show it again after a refusal."""

    key: str
    household_id: int | None = None
    rule_id: int | None = None
    member_id: int | None = None
    deed_date: str = ""
    note: str = ""
    evidence_ids: list[int] = field(default_factory=list)

    @classmethod
    def from_request(cls) -> RecordForm:
        form = request.form
        return cls(
            key=form.get("key", "")[:64],
            household_id=parse_int(form.get("household")),
            rule_id=parse_int(form.get("rule")),
            member_id=parse_int(form.get("member")),
            deed_date=form.get("deed_date", "")[:10],
            note=form.get("note", "")[:2000],
            evidence_ids=parse_ints(form.getlist("evidence")),
        )


def parse_int(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def parse_ints(values: list[str]) -> list[int]:
    return list(dict.fromkeys(n for n in (parse_int(v) for v in values) if n is not None))


def parse_date(value: str) -> date:
    """Read the date of the deed; an empty field means today."""
    if not value.strip():
        return today()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(N_("Enter the date of the deed as a date.")) from None


@dataclass
class BatchForm:
    key: str
    rule_id: int | None = None
    deed_date: str = ""
    note: str = ""
    households: list[int] = field(default_factory=list)
    members: dict[int, list[int]] = field(default_factory=dict)
    evidence_ids: list[int] = field(default_factory=list)

    @classmethod
    def from_request(cls) -> BatchForm:
        form = request.form
        members: dict[int, list[int]] = {}
        for value in form.getlist("m"):
            household_id, _sep, member_id = value.partition("-")
            h, m = parse_int(household_id), parse_int(member_id)
            if h is not None and m is not None and m not in members.setdefault(h, []):
                members[h].append(m)
        return cls(
            key=form.get("key", "")[:64],
            rule_id=parse_int(form.get("rule")),
            deed_date=form.get("deed_date", "")[:10],
            note=form.get("note", "")[:2000],
            households=parse_ints(form.getlist("h")),
            members=members,
            evidence_ids=parse_ints(form.getlist("evidence")),
        )

    def targets(self) -> list[tuple[int, int | None]]:
        """A ticked member counts for their household; a household alone counts once."""
        result: list[tuple[int, int | None]] = []
        for household_id in dict.fromkeys(self.households + list(self.members)):
            member_ids = self.members.get(household_id)
            if member_ids:
                result.extend((household_id, m) for m in member_ids)
            else:
                result.append((household_id, None))
        return result
