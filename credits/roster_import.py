"""Reading a village's 花名册 (XLSX or CSV), previewing it line by line, importing it, exporting it.

Real rosters are messy: title rows above the header, merged cells, blank lines, full-width
digits, the same head listed twice, one sheet per group. The preview names every problem
with the line of the original file; the import writes everything in one transaction or
nothing, and importing the same file again changes nothing.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from credits import audit
from credits.access import Permission, require
from credits.db import lock_row, utcnow
from credits.documents.fonts import FontMissingError, missing_glyphs
from credits.errors import ValidationError
from credits.i18n import N_, gettext
from credits.models import Group, Household, Member, User, Village
from credits.roster import (
    DISABLED,
    ELDERLY_ALONE,
    HEAD,
    FieldError,
    clean_birth_year,
    clean_gender,
    clean_group_name,
    clean_house_number,
    clean_name,
    clean_phone,
    clean_relation,
    find_or_create_group,
    groups_by_canonical,
)
from credits.search import canonical_group, normalise_text, set_keys

RosterSource = bytes | str | os.PathLike[str] | IO[bytes]

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
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
EXPORT_COLUMNS = (GROUP, HEAD_NAME, NAME, RELATION, GENDER, BIRTH, PHONE, HOUSE, NEEDS)
NEED_WORDS = {ELDERLY_ALONE: "独居老人", DISABLED: "残疾"}
_NEED_KEYWORDS = ((ELDERLY_ALONE, ("独居", "空巢")), (DISABLED, ("残疾", "残障", "残")))
_NO_NEEDS = {"无", "否", "没有", "-", "/"}

ERROR, WARNING = "error", "warning"


# ---- what the preview reports ----


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


# ---- reading the file into tables of cells ----


@dataclass
class Table:
    sheet: str
    rows: list[tuple[int, list[Any]]]  # (line in the file, cells)
    merged_banners: set[int] = field(default_factory=set)  # lines that are one wide merged cell


def _read_bytes(source: RosterSource) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, ""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        return path.read_bytes(), path.name
    return source.read(), getattr(source, "name", "") or ""


def _xlsx_tables(data: bytes) -> list[Table]:
    try:
        workbook = load_workbook(io.BytesIO(data), data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationError(
            N_("The file could not be read as an Excel workbook (.xlsx).")
        ) from exc
    tables = []
    for sheet in workbook.worksheets:
        width = sheet.max_column
        grid = [
            [cell.value for cell in row]
            for row in sheet.iter_rows(min_row=1, max_row=min(sheet.max_row, MAX_ROWS + 50))
        ]
        banners: set[int] = set()
        # A merged cell keeps its value in the top-left corner; give it to every cell it
        # covers (a 户主姓名 merged over a family's rows belongs to each of them).
        for merged in sheet.merged_cells.ranges:
            value = sheet.cell(merged.min_row, merged.min_col).value
            if merged.max_col - merged.min_col + 1 >= max(3, width // 2):
                banners.update(range(merged.min_row, merged.max_row + 1))
            for r in range(merged.min_row, min(merged.max_row, len(grid)) + 1):
                for c in range(merged.min_col, merged.max_col + 1):
                    grid[r - 1][c - 1] = value
        tables.append(Table(sheet.title, [(i + 1, row) for i, row in enumerate(grid)], banners))
    return tables


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # Excel in China saves CSV in GBK; GB18030 is its superset.
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            N_("The file is neither UTF-8 nor GBK text; save it as .xlsx or as CSV (UTF-8).")
        ) from exc


def _csv_table(data: bytes) -> Table:
    text = _decode(data)
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows: list[tuple[int, list[Any]]] = []
    last = 0
    for cells in reader:
        rows.append((last + 1, list(cells)))  # a quoted cell may span lines: report the first
        last = reader.line_num
        if len(rows) > MAX_ROWS + 50:
            break
    return Table("", rows)


def read_tables(data: bytes) -> list[Table]:
    """Cells of every sheet of an XLSX, or of a CSV file in UTF-8, GBK or UTF-16."""
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(
            N_("The file is larger than %(mb)s MB."), mb=MAX_FILE_BYTES // (1024 * 1024)
        )
    if not data.strip():
        raise ValidationError(N_("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_tables(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValidationError(
            N_("This is an old Excel file (.xls); open it in Excel or WPS and save it as .xlsx.")
        )
    return [_csv_table(data)]


# ---- cells to values ----


def _text(value: Any) -> str:
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
    key = _HEADER_JUNK.sub("", _text(text))
    if not key or "身份证" in key or "证件" in key or key.startswith("是否"):
        return None  # ID numbers are never read in; "是否户主" is a yes/no column
    if key in _HEADER_INDEX:
        return _HEADER_INDEX[key]
    for word, name in (
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
    ):
        if word in key:
            return name
    if key.endswith("组") and "户" not in key:
        return GROUP
    return None


def _find_header(table: Table) -> tuple[int, dict[str, int], list[str]] | None:
    """(index of the header row, field → column, ignored header texts) or None."""
    for index, (_line, cells) in enumerate(table.rows[:HEADER_SCAN_ROWS]):
        found: dict[str, int] = {}
        ignored: list[str] = []
        texts = [_text(c) for c in cells]
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
    text = _text(value).replace(" ", "")
    if not text:
        return None, True
    if text in _NO_NEEDS:
        return "", True
    flags = [flag for flag, words in _NEED_KEYWORDS if any(w in text for w in words)]
    return ",".join(flags), bool(flags)


@dataclass
class Row:
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


# ---- building the preview ----


class _Builder:
    """Turns tables into planned households and a list of problems."""

    def __init__(self, session: Session, village: Village, today: date) -> None:
        self.session = session
        self.village = village
        self.today = today
        self.preview = Preview()
        self.rows: list[Row] = []
        self.header_seen = False
        self._households: list[Household] | None = None

    def problem(
        self,
        line: int,
        severity: str,
        message: str,
        *,
        column: str = "",
        sheet: str = "",
        **params: Any,
    ) -> None:
        self.preview.problems.append(Problem(line, severity, message, params, column, sheet))

    # -- rows --

    def read(self, tables: list[Table]) -> None:
        for table in tables:
            header = _find_header(table)
            if header is None:
                continue
            self.header_seen = True
            index, columns, ignored = header
            header_cells = table.rows[index][1]
            self.preview.sheets.append(table.sheet)
            for name, col in columns.items():
                self.preview.columns.setdefault(name, _text(header_cells[col]))
            for text in ignored:
                if text not in self.preview.ignored_columns:
                    self.preview.ignored_columns.append(text)
            header_texts = {name: _text(header_cells[col]) for name, col in columns.items()}
            self._read_rows(table, index, columns, header_texts)
        if not self.header_seen:
            self.problem(
                0,
                ERROR,
                N_(
                    "No header row was found: the file needs columns such as 户主姓名 or "
                    "成员姓名, with 组别, 与户主关系, 联系电话 or 门牌号."
                ),
            )

    def _read_rows(
        self, table: Table, index: int, columns: dict[str, int], header_texts: dict[str, str]
    ) -> None:
        sheet = table.sheet
        has_head = HEAD_NAME in columns
        if not has_head and RELATION not in columns:
            self.problem(
                table.rows[index][0],
                ERROR,
                N_(
                    "The file has a 姓名 column but neither 户主姓名 nor 与户主关系: "
                    "it cannot tell which people belong to which household."
                ),
                sheet=sheet,
            )
            return
        sheet_group = ""
        if GROUP not in columns and canonical_group(table.sheet).endswith("组"):
            sheet_group = canonical_group(table.sheet)  # one sheet per group
        previous: Row | None = None
        current_head: Row | None = None  # layout without 户主姓名: the last 户主 row
        for line, cells in table.rows[index + 1 :]:

            def cell(name: str, cells: list[Any] = cells) -> Any:
                col = columns.get(name)
                return cells[col] if col is not None and col < len(cells) else None

            texts = [_text(c) for c in cells]
            filled = [t for t in texts if t]
            if not filled:
                previous = None  # a blank line ends a family's run of merged cells
                continue
            named = [_text(cell(n)) for n in (NAME, HEAD_NAME, RELATION)]
            if line in table.merged_banners or (not any(named) and len(filled) <= 1):
                if filled[0].isdigit() and line not in table.merged_banners:
                    continue  # a left-over 序号 of an empty template line: nothing to say
                self.problem(
                    line, WARNING, N_("Skipped as a note: “%(text)s”."), sheet=sheet, text=filled[0]
                )
                continue
            self.preview.rows += 1
            if self.preview.rows > MAX_ROWS:
                self.problem(line, ERROR, N_("A roster may have at most %(n)s rows."), n=MAX_ROWS)
                return
            row = self._row(line, sheet, cell, header_texts, sheet_group)
            if row is None:
                previous = None
                continue
            if has_head:
                row = self._with_head(row, previous, header_texts)
            else:
                row = self._with_current_head(row, current_head, header_texts)
            if row is None:
                previous = None
                continue
            if row.is_head:
                current_head = row
            previous = row
            self.rows.append(row)

    def _row(
        self,
        line: int,
        sheet: str,
        cell: Callable[[str], Any],
        header: dict[str, str],
        sheet_group: str,
    ) -> Row | None:
        """Check one line's cells; None when it cannot be used at all."""
        values: dict[str, Any] = {}
        checks: tuple[tuple[str, Callable[[Any], Any]], ...] = (
            (GROUP, lambda v: clean_group_name(_text(v))),
            (RELATION, lambda v: clean_relation(_text(v))),
            (GENDER, lambda v: clean_gender(_text(v))),
            (BIRTH, lambda v: clean_birth_year(v, self.today)),
            (PHONE, lambda v: clean_phone(_text(v))),
            (HOUSE, lambda v: clean_house_number(_text(v))),
        )
        for name, check in checks:
            try:
                values[name] = check(cell(name))
            except FieldError as exc:
                self.problem(
                    line, ERROR, exc.message, column=header.get(name, ""), sheet=sheet, **exc.params
                )
                values[name] = None if name == BIRTH else ""
        needs, understood = parse_needs(cell(NEEDS))
        if not understood:
            self.problem(
                line,
                WARNING,
                N_("“%(value)s” is not a special need the app knows (独居老人, 残疾); ignored."),
                column=header.get(NEEDS, ""),
                sheet=sheet,
                value=_text(cell(NEEDS)),
            )
            needs = None
        names: dict[str, str] = {}
        for name in (NAME, HEAD_NAME):
            raw = _text(cell(name))
            if not raw:
                names[name] = ""
                continue
            try:
                names[name] = clean_name(raw)
            except FieldError as exc:
                self.problem(
                    line, ERROR, exc.message, column=header.get(name, ""), sheet=sheet, **exc.params
                )
                return None
        return Row(
            line=line,
            sheet=sheet,
            group=values[GROUP] or sheet_group,
            head=names[HEAD_NAME],
            name=names[NAME],
            relation=values[RELATION],
            gender=values[GENDER],
            birth_year=values[BIRTH],
            phone=values[PHONE],
            house=values[HOUSE],
            needs=needs,
        )

    def _with_head(self, row: Row, previous: Row | None, header: dict[str, str]) -> Row | None:
        """Layout with a 户主姓名 column: decide the row's head and whether it is the head."""
        if not row.head:
            if row.relation == HEAD and row.name:
                row.head = row.name
            elif previous is not None and row.name:
                # A head merged (or left blank) over the family's rows.
                row.head = previous.head
                row.group = row.group or previous.group
                row.house = row.house or previous.house
            else:
                self.problem(
                    row.line,
                    ERROR,
                    N_("The name is missing.")
                    if not row.name
                    else N_("The head's name is missing."),
                    column=header.get(NAME if not row.name else HEAD_NAME, ""),
                    sheet=row.sheet,
                )
                return None
        if not row.name:
            if row.relation and row.relation != HEAD:
                self.problem(
                    row.line,
                    ERROR,
                    N_("The name is missing."),
                    column=header.get(NAME, ""),
                    sheet=row.sheet,
                )
                return None
            row.name = row.head  # a line with only the head: the head's own line
        if previous is not None and previous.head == row.head and not row.group:
            row.group = previous.group
        if row.relation == HEAD and row.name != row.head:
            self.problem(
                row.line,
                ERROR,
                N_("%(name)s is marked 户主 but the head of this line is %(head)s."),
                column=header.get(RELATION, ""),
                sheet=row.sheet,
                name=row.name,
                head=row.head,
            )
            return None
        # A line with the head's name is the head's, unless it names another relation
        # (a son may carry his father's name).
        row.is_head = row.name == row.head and row.relation in ("", HEAD)
        if row.is_head:
            row.relation = HEAD
        return row

    def _with_current_head(
        self, row: Row, current: Row | None, header: dict[str, str]
    ) -> Row | None:
        """Layout without 户主姓名: a 户主 line starts a household, the lines below join it."""
        if not row.name:
            self.problem(
                row.line,
                ERROR,
                N_("The name is missing."),
                column=header.get(NAME, ""),
                sheet=row.sheet,
            )
            return None
        if row.relation == HEAD:
            row.head, row.is_head = row.name, True
            return row
        if current is None:
            self.problem(
                row.line,
                ERROR,
                N_("%(name)s comes before any 户主 line: their household is unknown."),
                sheet=row.sheet,
                name=row.name,
            )
            return None
        row.head = current.name
        row.group = row.group or current.group
        return row

    # -- households --

    def assemble(self) -> None:
        planned = self.preview.households
        by_head: dict[str, list[PlannedHousehold]] = {}
        for row in (r for r in self.rows if r.is_head):
            same = [
                h
                for h in by_head.get(row.head, [])
                if (h.group == row.group or not h.group or not row.group)
                and (not h.house_number or not row.house or h.house_number == row.house)
            ]
            if same:
                household = same[0]
                self.problem(
                    row.line,
                    WARNING,
                    N_(
                        "%(head)s is listed again (first on line %(first)s): "
                        "taken as one household."
                    ),
                    sheet=row.sheet,
                    head=row.head,
                    first=household.line,
                )
                self._merge_head(household, row)
                continue
            household = PlannedHousehold(
                group=row.group,
                head_name=row.head,
                house_number=row.house,
                phone=row.phone,
                special_needs=row.needs,
                lines=[row.line],
                sheet=row.sheet,
            )
            household.members.append(
                PlannedMember(row.name, HEAD, row.gender, row.birth_year, "", row.line)
            )
            by_head.setdefault(row.head, []).append(household)
            planned.append(household)
        existing = self._existing_by_head()
        for row in (r for r in self.rows if not r.is_head):
            found = self._household_for(row, by_head, existing)
            if found is None:
                continue
            household = found
            household.lines.append(row.line)
            if row.needs:
                household.special_needs = _union(household.special_needs, row.needs)
            self._add_member(household, row)

    def _merge_head(self, household: PlannedHousehold, row: Row) -> None:
        household.lines.append(row.line)
        household.house_number = household.house_number or row.house
        household.group = household.group or row.group
        if row.phone and household.phone and row.phone != household.phone:
            self.problem(
                row.line,
                ERROR,
                N_("Line %(first)s gives %(head)s the phone %(a)s, this line %(b)s."),
                sheet=row.sheet,
                first=household.line,
                head=row.head,
                a=household.phone,
                b=row.phone,
            )
        household.phone = household.phone or row.phone
        if row.needs is not None:
            household.special_needs = _union(household.special_needs, row.needs)
        head = household.members[0]
        self._merge_person(head, row, household)

    def _merge_person(self, member: PlannedMember, row: Row, household: PlannedHousehold) -> bool:
        """Fold a repeated line of one person in; report details that disagree."""
        conflicts = [
            label
            for label, mine, theirs in (
                ("gender", member.gender, row.gender),
                ("birth_year", member.birth_year, row.birth_year),
                ("relation", member.relation, row.relation if member.relation != HEAD else HEAD),
                ("phone", member.phone, row.phone if member.relation != HEAD else ""),
            )
            if mine and theirs and mine != theirs
        ]
        if conflicts:
            self.problem(
                row.line,
                ERROR,
                N_(
                    "%(name)s is listed twice in the household of %(head)s with different "
                    "details (lines %(first)s and %(second)s)."
                ),
                sheet=row.sheet,
                name=row.name,
                head=household.head_name,
                first=member.line,
                second=row.line,
            )
            return False
        member.gender = member.gender or row.gender
        member.birth_year = member.birth_year or row.birth_year
        if member.relation != HEAD:
            member.relation = member.relation or row.relation
            member.phone = member.phone or row.phone
        return True

    def _existing_by_head(self) -> dict[tuple[str, str], list[Household]]:
        found: dict[tuple[str, str], list[Household]] = {}
        for household in self._village_households():
            group = canonical_group(household.group.name) if household.group else ""
            found.setdefault((group, household.head_name), []).append(household)
        return found

    def _village_households(self) -> list[Household]:
        if self._households is None:
            self._households = list(
                self.session.scalars(
                    select(Household)
                    .where(Household.village_id == self.village.id)
                    .options(selectinload(Household.members), selectinload(Household.group))
                    .order_by(Household.id)
                )
            )
        return self._households

    def _household_for(
        self,
        row: Row,
        by_head: dict[str, list[PlannedHousehold]],
        existing: dict[tuple[str, str], list[Household]],
    ) -> PlannedHousehold | None:
        """The planned household a member line belongs to, or None with a problem noted."""
        candidates = by_head.get(row.head, [])
        in_group = [h for h in candidates if not row.group or h.group == row.group]
        if len(in_group) > 1 and row.house:
            in_group = [h for h in in_group if h.house_number == row.house] or in_group
        if len(in_group) == 1:
            household = in_group[0]
            row.group = row.group or household.group
            return household
        if len(in_group) > 1:
            self.problem(
                row.line,
                ERROR,
                N_(
                    "More than one household has the head %(head)s; give this line the "
                    "house number of the right one."
                ),
                sheet=row.sheet,
                head=row.head,
            )
            return None
        # A head already in the roster may gain members from a short file.
        known = [
            h
            for (group, head), homes in existing.items()
            if head == row.head and (not row.group or group == row.group)
            for h in homes
            if h.active
        ]
        if len(known) == 1:
            home = known[0]
            household = PlannedHousehold(
                group=canonical_group(home.group.name) if home.group else "",
                head_name=home.head_name,
                house_number=home.house_number,
                phone="",
                special_needs=None,
                lines=[],
                sheet=row.sheet,
                has_head_row=False,
            )
            by_head.setdefault(row.head, []).append(household)
            self.preview.households.append(household)
            return household
        if candidates:
            self.problem(
                row.line,
                ERROR,
                N_(
                    "The head %(head)s of %(name)s is in %(group)s (line %(first)s), "
                    "not in %(here)s."
                ),
                sheet=row.sheet,
                head=row.head,
                name=row.name,
                group=candidates[0].group or "—",
                first=candidates[0].line,
                here=row.group,
            )
            return None
        self.problem(
            row.line,
            ERROR,
            N_("The head %(head)s of %(name)s is nowhere in the file."),
            sheet=row.sheet,
            head=row.head,
            name=row.name,
        )
        return None

    def _add_member(self, household: PlannedHousehold, row: Row) -> None:
        namesake: PlannedMember | None = None
        for member in household.members:
            if member.name == row.name:
                if member.birth_year and row.birth_year and member.birth_year != row.birth_year:
                    namesake = member  # born in another year: another person of that name
                    continue
                if self._merge_person(member, row, household):
                    self.problem(
                        row.line,
                        WARNING,
                        N_(
                            "%(name)s is listed twice in the household of %(head)s (first on "
                            "line %(first)s): counted once."
                        ),
                        sheet=row.sheet,
                        name=row.name,
                        head=household.head_name,
                        first=member.line,
                    )
                return
        if namesake is not None:
            self.problem(
                row.line,
                WARNING,
                N_(
                    "Two people named %(name)s in the household of %(head)s (lines %(first)s "
                    "and %(second)s), born in %(a)s and %(b)s: taken as two people."
                ),
                sheet=row.sheet,
                name=row.name,
                head=household.head_name,
                first=namesake.line,
                second=row.line,
                a=namesake.birth_year,
                b=row.birth_year,
            )
        household.members.append(
            PlannedMember(row.name, row.relation, row.gender, row.birth_year, row.phone, row.line)
        )

    # -- rare characters --

    def check_glyphs(self) -> None:
        checked: dict[str, list[str]] = {}
        for household in self.preview.households:
            for member in household.members:
                name = member.name
                if name not in checked:
                    try:
                        checked[name] = missing_glyphs(name)
                    except FontMissingError:
                        return  # no fonts installed: the printing pages say so themselves
                if checked[name]:
                    self.problem(
                        member.line,
                        WARNING,
                        N_(
                            "%(name)s has %(chars)s, which the print font lacks: cards and "
                            "notices will show a box with its code instead."
                        ),
                        sheet=household.sheet,
                        name=name,
                        chars="".join(checked[name]),
                    )

    # -- comparing with the roster --

    def compare(self) -> None:
        existing = self._existing_by_head()
        by_house: dict[tuple[str, str], list[Household]] = {}
        for known in self._village_households():
            if known.house_number:
                by_house.setdefault((known.head_name, known.house_number), []).append(known)
        used: set[int] = set()
        for planned in self.preview.households:
            home = _match(planned, existing, by_house, used)
            if home is None:
                planned.action = "create"
                for member in planned.members:
                    member.action = "create"
                continue
            used.add(home.id)
            planned.household_id = home.id
            if not home.active:
                self.problem(
                    planned.line,
                    WARNING,
                    N_(
                        "The household of %(head)s is deactivated in the roster; the import "
                        "leaves it as it is."
                    ),
                    sheet=planned.sheet,
                    head=planned.head_name,
                )
                planned.action = "unchanged"
                for member in planned.members:
                    member.action = "unchanged"
                continue
            self._diff(planned, home)
        # A group is new when a household will land in it and the village has no such group.
        groups = groups_by_canonical(self.session, self.village.id)
        for planned in self.preview.households:
            landing = planned.action == "create" or "group" in planned.changes
            name = planned.group
            if landing and name and name not in groups and name not in self.preview.new_groups:
                self.preview.new_groups.append(name)

    def _diff(self, planned: PlannedHousehold, home: Household) -> None:
        changes: dict[str, tuple[Any, Any]] = {}
        group = canonical_group(home.group.name) if home.group else ""
        if planned.has_head_row and planned.group and planned.group != group:
            changes["group"] = (group, planned.group)
        # A blank cell never clears what the roster knows; 无 in 特殊情况 does.
        for name, new in (("house_number", planned.house_number), ("phone", planned.phone)):
            if new and new != home_value(home, name):
                changes[name] = (home_value(home, name), new)
        needs = planned.special_needs
        if needs is not None and needs != home_value(home, "special_needs"):
            changes["special_needs"] = (home_value(home, "special_needs"), needs)
        planned.changes = changes
        taken: set[int] = set()
        for member in planned.members:
            current = _same_person(member, home.members, taken)
            if current is None:
                member.action = "create"
                continue
            member.member_id = current.id
            taken.add(current.id)
            member_changes: dict[str, tuple[Any, Any]] = {}
            if current.active:
                for name in ("relation", "gender", "birth_year", "phone"):
                    new = getattr(member, name)
                    old = getattr(current, name)
                    if new not in (None, "") and new != old:
                        member_changes[name] = (old, new)
            member.changes = member_changes
            member.action = "update" if member_changes else "unchanged"
        touched = changes or any(m.action != "unchanged" for m in planned.members)
        planned.action = "update" if touched else "unchanged"


def _same_person(
    member: PlannedMember, members: Iterable[Member], taken: set[int]
) -> Member | None:
    """The roster's member a planned one is: same name, then same birth year and relation."""
    named = [m for m in members if m.name == member.name and m.id not in taken]
    if len(named) <= 1:
        return named[0] if named else None
    return sorted(
        named,
        key=lambda m: (
            m.birth_year != member.birth_year,
            m.relation != member.relation,
            not m.active,
            m.id,
        ),
    )[0]


def home_value(home: Household, name: str) -> str:
    return str(getattr(home, name) or "")


def _union(a: str | None, b: str) -> str:
    flags = set(filter(None, (a or "").split(","))) | set(filter(None, b.split(",")))
    return ",".join(n for n in (ELDERLY_ALONE, DISABLED) if n in flags)


def _match(
    planned: PlannedHousehold,
    existing: dict[tuple[str, str], list[Household]],
    by_house: dict[tuple[str, str], list[Household]],
    used: set[int],
) -> Household | None:
    """The roster's household for a planned one: group + head + house number, leniently."""
    candidates = [
        h for h in existing.get((planned.group, planned.head_name), []) if h.id not in used
    ]
    exact = [h for h in candidates if h.house_number == planned.house_number]
    if exact:
        return sorted(exact, key=lambda h: not h.active)[0]
    loose = [h for h in candidates if not h.house_number or not planned.house_number]
    if len(loose) == 1:
        return loose[0]
    if planned.house_number and planned.has_head_row:
        moved = [
            h
            for h in by_house.get((planned.head_name, planned.house_number), [])
            if h.id not in used
        ]
        if len(moved) == 1:
            return moved[0]  # the same family, moved to another group since
    return None


def preview(
    session: Session,
    village: Village,
    file: RosterSource,
    *,
    filename: str = "",
    actor: User | None = None,
    today: date | None = None,
) -> Preview:
    """Read a roster file and say, line by line, what is wrong and what an import would do."""
    if actor is not None:
        require(session, actor, Permission.RECORD, village.id)
    data, name = _read_bytes(file)
    tables = read_tables(data)
    builder = _Builder(session, village, today or utcnow().date())
    builder.preview.filename = filename or name
    builder.preview.digest = hashlib.sha256(data).hexdigest()
    builder.read(tables)
    builder.assemble()
    builder.check_glyphs()
    builder.compare()
    result = builder.preview
    if len(result.sheets) <= 1:
        # One sheet: a line number says it all.
        for problem in result.problems:
            problem.sheet = ""
        for household in result.households:
            household.sheet = ""
    sheet_order = {name: i for i, name in enumerate(result.sheets)}
    result.problems.sort(key=lambda p: (sheet_order.get(p.sheet, -1), p.line, p.severity != ERROR))
    return result


# ---- writing ----


def import_roster(
    session: Session,
    actor: User | None,
    village: Village,
    file: RosterSource,
    *,
    filename: str = "",
    ip: str | None = None,
    progress: Callable[[int], None] | None = None,
    today: date | None = None,
) -> Preview:
    """Import a roster file in one transaction; refuse the whole file if it has errors.

    actor None means an operator at the command line. Returns the preview that was applied.
    """
    if actor is not None:
        require(session, actor, Permission.RECORD, village.id)
    data, name = _read_bytes(file)
    # Serialise imports of one village: a second identical import then changes nothing.
    lock_row(session, "village", "id", village.id)
    plan = preview(session, village, data, filename=filename or name, today=today)
    if plan.errors:
        session.rollback()
        raise RosterHasErrors(n=len(plan.errors))
    if not plan.changes_anything:
        session.rollback()
        return plan
    try:
        _apply(session, actor, village, plan, ip, progress)
    except Exception:
        session.rollback()
        raise
    session.commit()
    return plan


def _apply(
    session: Session,
    actor: User | None,
    village: Village,
    plan: Preview,
    ip: str | None,
    progress: Callable[[int], None] | None,
) -> None:
    groups: dict[str, Group | None] = {}

    def group_for(name: str) -> Group | None:
        if name not in groups:
            groups[name] = find_or_create_group(session, village.id, name)
        return groups[name]

    actor_name = None if actor is not None else "import-roster"
    for planned in plan.households:
        if planned.action == "create":
            _create(session, actor, actor_name, village, planned, group_for(planned.group), ip)
        elif planned.action == "update":
            _update(session, actor, actor_name, planned, group_for, ip)
        if progress is not None:
            progress(1)
    audit.log(
        session,
        "roster.import",
        actor=actor,
        actor_name=actor_name,
        village_id=village.id,
        ip=ip,
        after={"file": plan.filename, "sha256": plan.digest, **plan.summary()},
    )


def _create(
    session: Session,
    actor: User | None,
    actor_name: str | None,
    village: Village,
    planned: PlannedHousehold,
    group: Group | None,
    ip: str | None,
) -> None:
    household = Household(
        village_id=village.id,
        group_id=group.id if group else None,
        head_name=planned.head_name,
        house_number=planned.house_number,
        phone=planned.phone,
        special_needs=planned.special_needs or "",
    )
    session.add(household)
    session.flush()
    for member in planned.members:
        session.add(
            Member(
                village_id=village.id,
                household_id=household.id,
                name=member.name,
                relation=member.relation,
                gender=member.gender,
                birth_year=member.birth_year,
                phone=member.phone,
            )
        )
    set_keys(household, [m.name for m in planned.members])
    audit.log(
        session,
        "household.import",
        actor=actor,
        actor_name=actor_name,
        village_id=village.id,
        obj=household,
        ip=ip,
        after={
            "head_name": household.head_name,
            "group": group.name if group else "",
            "house_number": household.house_number,
            "phone": household.phone,
            "special_needs": household.special_needs,
            "members": [m.name for m in planned.members],
            "lines": planned.lines,
        },
    )


def _update(
    session: Session,
    actor: User | None,
    actor_name: str | None,
    planned: PlannedHousehold,
    group_for: Callable[[str], Group | None],
    ip: str | None,
) -> None:
    household = session.get(Household, planned.household_id)
    assert household is not None
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, (old, new) in planned.changes.items():
        before[name], after[name] = old, new
        if name == "group":
            group = group_for(new)
            household.group_id = group.id if group else None
            household.group = group
        else:
            setattr(household, name, new)
    created, updated = [], []
    for member in planned.members:
        if member.action == "create":
            session.add(
                Member(
                    village_id=household.village_id,
                    household_id=household.id,
                    name=member.name,
                    relation=member.relation,
                    gender=member.gender,
                    birth_year=member.birth_year,
                    phone=member.phone,
                )
            )
            created.append(member.name)
        elif member.action == "update":
            current = session.get(Member, member.member_id)
            assert current is not None
            for name, (_old, new) in member.changes.items():
                setattr(current, name, new)
            updated.append({"name": member.name, **{k: v for k, v in member.changes.items()}})
    session.flush()
    names = session.scalars(
        select(Member.name)
        .where(Member.household_id == household.id, Member.active.is_(True))
        .order_by(Member.id)
    ).all()
    set_keys(household, names)
    if created:
        after["members_added"] = created
    if updated:
        after["members_changed"] = updated
    after["lines"] = planned.lines
    audit.log(
        session,
        "household.import_update",
        actor=actor,
        actor_name=actor_name,
        village_id=household.village_id,
        obj=household,
        ip=ip,
        before=before,
        after=after,
    )


# ---- export ----

EXPORT_HEADERS = {
    GROUP: "组别",
    HEAD_NAME: "户主姓名",
    NAME: "成员姓名",
    RELATION: "与户主关系",
    GENDER: "性别",
    BIRTH: "出生年份",
    PHONE: "联系电话",
    HOUSE: "门牌号",
    NEEDS: "特殊情况",
}


def needs_words(flags: str) -> str:
    """Special needs as the words a roster uses: 独居老人、残疾."""
    return "、".join(NEED_WORDS[f] for f in flags.split(",") if f in NEED_WORDS)


def export_rows(session: Session, village: Village) -> Iterable[list[Any]]:
    """One row per active member (the head first) of every active household."""
    households = session.scalars(
        select(Household)
        .outerjoin(Group, Group.id == Household.group_id)
        .where(Household.village_id == village.id, Household.active.is_(True))
        .options(selectinload(Household.members), selectinload(Household.group))
        .order_by(Group.position, Group.id, Household.id)
    )
    for home in households:
        group = home.group.name if home.group else ""
        members = [m for m in home.members if m.active]
        head = next((m for m in members if m.relation == HEAD), None)
        if head is None:
            head = next((m for m in members if m.name == home.head_name), None)
        rest = [m for m in members if m is not head]
        yield [
            group,
            home.head_name,
            home.head_name,
            HEAD,
            head.gender if head else "",
            head.birth_year if head else None,
            home.phone,
            home.house_number,
            needs_words(home.special_needs or ""),
        ]
        for m in rest:
            yield [
                group,
                home.head_name,
                m.name,
                m.relation,
                m.gender,
                m.birth_year,
                m.phone,
                home.house_number,
                "",
            ]


def export_roster(
    session: Session,
    village: Village,
    *,
    actor: User | None = None,
    ip: str | None = None,
    today: date | None = None,
) -> bytes:
    """The village's roster as an XLSX 花名册 that imports back with no changes.

    With an actor (a web user), the export of personal data is checked and audited.
    """
    if actor is not None:
        require(session, actor, Permission.RECORD, village.id)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "花名册"
    day = today or utcnow().date()
    title = f"{village.name}花名册（{day.isoformat()}导出）"
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(EXPORT_COLUMNS))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([EXPORT_HEADERS[c] for c in EXPORT_COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    text_columns = {EXPORT_COLUMNS.index(PHONE), EXPORT_COLUMNS.index(HOUSE)}
    for values in export_rows(session, village):
        sheet.append(values)
        # Phone numbers and house numbers are text: keep Excel from making 1.38E+10 of them.
        for index in text_columns:
            sheet.cell(sheet.max_row, index + 1).number_format = "@"
    for letter, width in zip("ABCDEFGHI", (10, 12, 12, 12, 6, 10, 16, 24, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    workbook.save(out)
    if actor is not None:
        audit.log(
            session,
            "roster.export",
            actor=actor,
            village_id=village.id,
            ip=ip,
            after={"rows": sheet.max_row - 2},
        )
        session.commit()
    return out.getvalue()
