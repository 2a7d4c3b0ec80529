"""Load and validate the preset rule catalogues shipped as TOML files.

A preset file describes one scheme (功德银行, 家风银行 …): a ``[scheme]`` table and a list
of ``[[categories]]``, each with its ``[[categories.rules]]``. This module only reads and
checks the files; it knows nothing about the database or the web app.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

PRESET_DIR: Path = Path(__file__).resolve().parent / "presets"

MAX_NOTICE_DAYS = 60
MAX_TITLE_LENGTH = 40

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_CODE_RE = re.compile(r"^[A-Za-z]+[0-9]+$")
_RULE_HEADER_RE = re.compile(r"^\s*\[\[\s*categories\s*\.\s*rules\s*\]\]")
_CATEGORY_HEADER_RE = re.compile(r"^\s*\[\[\s*categories\s*\]\]")

_SCHEME_FIELDS = {"key", "name", "unit", "notice_days", "description"}
_CATEGORY_FIELDS = {"name", "rules"}
_RULE_FIELDS = {
    "code",
    "title",
    "points",
    "cap_month",
    "cap_year",
    "evidence_required",
    "red_line",
}


class PresetError(ValueError):
    """A preset file is missing, unreadable or breaks a catalogue rule."""


@dataclass(frozen=True)
class PresetRule:
    code: str
    title: str
    points: int
    category: str
    cap_month: int | None
    cap_year: int | None
    evidence_required: bool
    red_line: bool


@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    unit: str
    notice_days: int
    description: str
    rules: tuple[PresetRule, ...]

    @property
    def categories(self) -> tuple[str, ...]:
        """Category names in file order, each once."""
        return tuple(dict.fromkeys(rule.category for rule in self.rules))


def available_presets() -> list[str]:
    """Keys (file stems) of the presets shipped in PRESET_DIR, sorted."""
    return sorted(path.stem for path in PRESET_DIR.glob("*.toml"))


def load_preset(key_or_path: str | Path) -> Preset:
    """Read and validate a preset, given a shipped key ("merit_bank") or a file path."""
    path = _resolve(key_or_path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PresetError(f"{path}: cannot read preset file ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise PresetError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(f"{path}: invalid TOML: {exc}") from exc
    return _Checker(path, text).preset(data)


def _resolve(key_or_path: str | Path) -> Path:
    if isinstance(key_or_path, Path):
        return key_or_path
    if _KEY_RE.match(key_or_path):
        path = PRESET_DIR / f"{key_or_path}.toml"
        if not path.is_file():
            known = ", ".join(available_presets()) or "none"
            raise PresetError(f"unknown preset {key_or_path!r} (available: {known})")
        return path
    return Path(key_or_path)


class _Checker:
    """Turns parsed TOML into a Preset, raising PresetError that names file, rule and line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        lines = text.splitlines()
        self._rule_lines = [i for i, line in enumerate(lines, 1) if _RULE_HEADER_RE.match(line)]
        self._category_lines = [
            i for i, line in enumerate(lines, 1) if _CATEGORY_HEADER_RE.match(line)
        ]
        self._rule_count = 0

    # -- error helpers ---------------------------------------------------------------

    def fail(self, where: str, message: str) -> PresetError:
        return PresetError(f"{self.path}: {where}: {message}")

    def _line(self, lines: list[int], index: int, total: int) -> str:
        # Line numbers are only trustworthy when every item was written as a table header.
        if len(lines) == total and index < total:
            return f" (line {lines[index]})"
        return ""

    # -- sections --------------------------------------------------------------------

    def preset(self, data: dict[str, Any]) -> Preset:
        extra = set(data) - {"scheme", "categories"}
        if extra:
            raise self.fail("top level", f"unknown keys {sorted(extra)}")
        scheme = data.get("scheme")
        if not isinstance(scheme, dict):
            raise self.fail("[scheme]", "missing table")
        self._unknown(scheme, _SCHEME_FIELDS, "[scheme]")
        key = self._text(scheme, "key", "[scheme]")
        if not _KEY_RE.match(key):
            raise self.fail("[scheme]", f"key {key!r} must be lower-case letters, digits, _")
        if key != self.path.stem:
            raise self.fail("[scheme]", f"key {key!r} must match the file name {self.path.stem!r}")
        notice_days = scheme.get("notice_days")
        if not _is_int(notice_days):
            raise self.fail("[scheme]", "notice_days must be an integer")
        if not 0 <= notice_days <= MAX_NOTICE_DAYS:
            raise self.fail("[scheme]", f"notice_days must be 0..{MAX_NOTICE_DAYS}")

        categories = data.get("categories")
        if not isinstance(categories, list) or not categories:
            raise self.fail("[[categories]]", "at least one category is required")
        total_rules = sum(
            len(c["rules"])
            for c in categories
            if isinstance(c, dict) and isinstance(c.get("rules"), list)
        )
        rules: list[PresetRule] = []
        seen_categories: set[str] = set()
        seen_codes: dict[str, str] = {}
        for index, category in enumerate(categories):
            rules.extend(
                self._category(
                    category, index, len(categories), total_rules, seen_categories, seen_codes
                )
            )
        return Preset(
            key=key,
            name=self._text(scheme, "name", "[scheme]"),
            unit=self._text(scheme, "unit", "[scheme]"),
            notice_days=notice_days,
            description=self._text(scheme, "description", "[scheme]"),
            rules=tuple(rules),
        )

    def _category(
        self,
        category: Any,
        index: int,
        count: int,
        total_rules: int,
        seen_categories: set[str],
        seen_codes: dict[str, str],
    ) -> list[PresetRule]:
        where = f"category #{index + 1}{self._line(self._category_lines, index, count)}"
        if not isinstance(category, dict):
            raise self.fail(where, "must be a table")
        self._unknown(category, _CATEGORY_FIELDS, where)
        name = self._text(category, "name", where)
        where = f"category {name!r}{self._line(self._category_lines, index, count)}"
        if name in seen_categories:
            raise self.fail(where, "duplicate category name")
        seen_categories.add(name)
        raw_rules = category.get("rules")
        if not isinstance(raw_rules, list) or not raw_rules:
            raise self.fail(where, "at least one rule is required")
        out = []
        for raw in raw_rules:
            line = self._line(self._rule_lines, self._rule_count, total_rules)
            self._rule_count += 1
            out.append(self._rule(raw, name, line, seen_codes))
        return out

    def _rule(self, raw: Any, category: str, line: str, seen_codes: dict[str, str]) -> PresetRule:
        where = f"rule #{self._rule_count} in {category!r}{line}"
        if not isinstance(raw, dict):
            raise self.fail(where, "must be a table")
        code = raw.get("code")
        if not isinstance(code, str) or not _CODE_RE.match(code):
            raise self.fail(where, "code must be letters followed by digits, e.g. 'XL01'")
        where = f"rule {code}{line}"
        if code in seen_codes:
            raise self.fail(where, f"duplicate code (first used at {seen_codes[code]})")
        seen_codes[code] = line.strip(" ()") or f"in {category!r}"
        self._unknown(raw, _RULE_FIELDS, where)
        title = self._text(raw, "title", where)
        if len(title) > MAX_TITLE_LENGTH:
            raise self.fail(where, f"title longer than {MAX_TITLE_LENGTH} characters")

        points = raw.get("points")
        if not _is_int(points) or points == 0:
            raise self.fail(where, "points must be a non-zero integer")
        caps: dict[str, int | None] = {}
        for field in ("cap_month", "cap_year"):
            cap = raw.get(field)
            if cap is not None:
                if not _is_int(cap) or cap <= 0:
                    raise self.fail(where, f"{field} must be a positive integer")
                if cap < abs(points):
                    raise self.fail(
                        where, f"{field} {cap} is below the rule's {abs(points)} points"
                    )
            caps[field] = cap
        cap_month, cap_year = caps["cap_month"], caps["cap_year"]
        if cap_month is not None and cap_year is not None and cap_year < cap_month:
            raise self.fail(where, f"cap_year {cap_year} is below cap_month {cap_month}")

        evidence_required = self._flag(raw, "evidence_required", where)
        red_line = self._flag(raw, "red_line", where)
        if red_line and points > 0:
            raise self.fail(where, "red_line is only allowed on deductions (negative points)")
        return PresetRule(
            code=code,
            title=title,
            points=points,
            category=category,
            cap_month=cap_month,
            cap_year=cap_year,
            evidence_required=evidence_required,
            red_line=red_line,
        )

    # -- field helpers ---------------------------------------------------------------

    def _unknown(self, table: dict[str, Any], allowed: set[str], where: str) -> None:
        extra = set(table) - allowed
        if extra:
            raise self.fail(where, f"unknown keys {sorted(extra)}")

    def _text(self, table: dict[str, Any], field: str, where: str) -> str:
        value = table.get(field)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"{field} is required and must be non-empty text")
        return value.strip()

    def _flag(self, table: dict[str, Any], field: str, where: str) -> bool:
        value = table.get(field, False)
        if not isinstance(value, bool):
            raise self.fail(where, f"{field} must be true or false")
        return value


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
