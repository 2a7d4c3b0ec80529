"""What `verify` finds: problems with a translatable message naming the entry or account."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from credits.i18n import gettext


@dataclass
class Problem:
    """One broken thing `verify` found."""

    village_code: str
    kind: str  # chain | head | reference | checkpoint | balance | period | stock
    msgid: str
    params: dict[str, Any] = field(default_factory=dict)
    entry_id: int | None = None
    account_id: int | None = None
    seq: int | None = None

    @property
    def message(self) -> str:
        """The problem in English (logs, test output)."""
        return self.msgid % self.params if self.params else self.msgid

    def text(self, locale: str = "zh_CN") -> str:
        """The problem in the operator's language."""
        return gettext(self.msgid, locale, **self.params)

    def __str__(self) -> str:
        return f"[{self.village_code}] {self.kind}: {self.message}"


@dataclass
class Report:
    villages: int = 0
    entries: int = 0
    accounts: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def structural(self) -> list[Problem]:
        """The problems a rebuild of balances cannot repair (the entries themselves)."""
        return [p for p in self.problems if p.kind not in ("balance", "period")]
