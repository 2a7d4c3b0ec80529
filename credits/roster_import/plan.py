"""What a roster preview holds: the planned households and members, and each line's problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from credits.errors import ValidationError
from credits.i18n import N_, gettext

ERROR, WARNING = "error", "warning"


@dataclass
class Problem:
    """One thing wrong (error: blocks the import) or worth a look (warning) on a line."""

    line: int
    severity: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    column: str = ""
    sheet: str = ""

    def text(self, locale: str = "zh_CN") -> str:
        """The message in a locale."""
        return gettext(self.message, locale, **self.params)


@dataclass
class Row:
    """One person's line of the file, checked, before it joins a household."""

    line: int
    sheet: str
    group: str
    head: str
    name: str
    relation: str
    gender: str
    birth_year: int | None
    phone: str
    house: str
    needs: str | None
    is_head: bool = False


@dataclass
class PlannedMember:
    name: str
    relation: str
    gender: str
    birth_year: int | None
    phone: str
    line: int
    action: str = "create"  # create | update | unchanged
    member_id: int | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass
class PlannedHousehold:
    group: str
    head_name: str
    house_number: str
    phone: str
    special_needs: str | None  # None: the file says nothing about it
    lines: list[int]
    sheet: str = ""
    members: list[PlannedMember] = field(default_factory=list)
    action: str = "create"  # create | update | unchanged
    household_id: int | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    has_head_row: bool = True

    @property
    def line(self) -> int:
        return self.lines[0] if self.lines else 0


@dataclass
class Preview:
    """What an import of a file would do, and what is wrong with the file."""

    filename: str = ""
    digest: str = ""
    rows: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # field → header text as written
    ignored_columns: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    households: list[PlannedHousehold] = field(default_factory=list)
    new_groups: list[str] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)

    def note(
        self,
        line: int,
        severity: str,
        message: str,
        *,
        column: str = "",
        sheet: str = "",
        **params: Any,
    ) -> None:
        """Record a problem on a line of the file."""
        self.problems.append(Problem(line, severity, message, params, column, sheet))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        """Households with that action (create, update, unchanged)."""
        return sum(1 for h in self.households if h.action == action)

    def member_count(self, action: str) -> int:
        """Members with that action across all households."""
        return sum(1 for h in self.households for m in h.members if m.action == action)

    @property
    def changes_anything(self) -> bool:
        return any(h.action != "unchanged" for h in self.households)

    def summary(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "households_created": self.count("create"),
            "households_updated": self.count("update"),
            "households_unchanged": self.count("unchanged"),
            "members_created": self.member_count("create"),
            "members_updated": self.member_count("update"),
            "groups_created": len(self.new_groups),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
        }


class RosterHasErrors(ValidationError):
    code = "roster_errors"
    message = N_("The roster has %(n)s problems that must be fixed first; nothing was imported.")
