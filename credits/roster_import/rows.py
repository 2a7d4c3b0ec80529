"""From tables of cells to checked rows: one person per line, with the line's head found."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from credits.i18n import N_
from credits.roster import (
    HEAD,
    FieldError,
    clean_birth_year,
    clean_gender,
    clean_group_name,
    clean_house_number,
    clean_name,
    clean_phone,
    clean_relation,
)
from credits.roster_import.cells import (
    BIRTH,
    GENDER,
    GROUP,
    HEAD_NAME,
    HOUSE,
    NAME,
    NEEDS,
    PHONE,
    RELATION,
    cell_text,
    find_header,
    is_footer,
    parse_needs,
)
from credits.roster_import.plan import ERROR, WARNING, Preview, Row
from credits.roster_import.read import MAX_ROWS, Table
from credits.search import canonical_group

Cell = Callable[[str], Any]


@dataclass
class _Sheet:
    """One sheet being read: where its columns are, and what their headers say."""

    preview: Preview
    today: date
    name: str
    columns: dict[str, int]
    header: dict[str, str]  # field → header text, to name a problem's column
    group: str  # the sheet's group when the sheet is named after one (一组, 二组 …)

    def note(self, line: int, severity: str, message: str, column: str = "", **params: Any) -> None:
        self.preview.note(
            line, severity, message, column=self.header.get(column, ""), sheet=self.name, **params
        )


def read_rows(tables: list[Table], preview: Preview, today: date) -> list[Row]:
    """Every person's line of every sheet that has a header row; problems go to the preview."""
    rows: list[Row] = []
    header_seen = False
    for table in tables:
        header = find_header(table.rows)
        if header is None:
            continue
        header_seen = True
        index, columns, ignored = header
        header_cells = table.rows[index][1]
        preview.sheets.append(table.sheet)
        for name, col in columns.items():
            preview.columns.setdefault(name, cell_text(header_cells[col]))
        for text in ignored:
            if text not in preview.ignored_columns:
                preview.ignored_columns.append(text)
        sheet_group = ""
        if GROUP not in columns and canonical_group(table.sheet).endswith("组"):
            sheet_group = canonical_group(table.sheet)  # one sheet per group
        sheet = _Sheet(
            preview,
            today,
            table.sheet,
            columns,
            {name: cell_text(header_cells[col]) for name, col in columns.items()},
            sheet_group,
        )
        rows.extend(_read_sheet(sheet, table, index))
    if not header_seen:
        preview.note(
            0,
            ERROR,
            N_(
                "No header row was found: the file needs columns such as 户主姓名 or "
                "成员姓名, with 组别, 与户主关系, 联系电话 or 门牌号."
            ),
        )
    return rows


def _read_sheet(sheet: _Sheet, table: Table, index: int) -> list[Row]:
    """The rows below a sheet's header, each joined to its head."""
    has_head = HEAD_NAME in sheet.columns
    if not has_head and RELATION not in sheet.columns:
        sheet.note(
            table.rows[index][0],
            ERROR,
            N_(
                "The file has a 姓名 column but neither 户主姓名 nor 与户主关系: "
                "it cannot tell which people belong to which household."
            ),
        )
        return []
    rows: list[Row] = []
    previous: Row | None = None
    current_head: Row | None = None  # layout without 户主姓名: the last 户主 row
    for line, cells in table.rows[index + 1 :]:
        cell = _cells(sheet.columns, cells)
        filled = [t for t in (cell_text(c) for c in cells) if t]
        if not filled:
            previous = None  # a blank line ends a family's run of merged cells
            continue
        if _skipped(sheet, table, line, cell, filled):
            continue
        sheet.preview.rows += 1
        if sheet.preview.rows > MAX_ROWS:
            sheet.note(line, ERROR, N_("A roster may have at most %(n)s rows."), n=MAX_ROWS)
            return rows
        row = _row(sheet, line, cell)
        if row is not None:
            if has_head:
                row = _with_head(sheet, row, previous)
            else:
                row = _with_current_head(sheet, row, current_head)
        if row is None:
            previous = None
            continue
        if row.is_head:
            current_head = row
        previous = row
        rows.append(row)
    return rows


def _cells(columns: dict[str, int], cells: list[Any]) -> Cell:
    """A line's cell by field name (None when the file has no such column)."""

    def cell(name: str) -> Any:
        col = columns.get(name)
        return cells[col] if col is not None and col < len(cells) else None

    return cell


def _skipped(sheet: _Sheet, table: Table, line: int, cell: Cell, filled: list[str]) -> bool:
    """A line that is no person (a note, a banner, the signature block): say so and skip it."""
    if is_footer(filled):
        sheet.note(
            line,
            WARNING,
            N_("Skipped as the form's footer, not a person: “%(text)s”."),
            text=" ".join(dict.fromkeys(filled))[:80],  # a merged banner repeats itself
        )
        return True
    named = [cell_text(cell(n)) for n in (NAME, HEAD_NAME, RELATION)]
    if line in table.merged_banners or (not any(named) and len(filled) <= 1):
        if filled[0].isdigit() and line not in table.merged_banners:
            return True  # a left-over 序号 of an empty template line: nothing to say
        sheet.note(line, WARNING, N_("Skipped as a note: “%(text)s”."), text=filled[0])
        return True
    return False


def _row(sheet: _Sheet, line: int, cell: Cell) -> Row | None:
    """Check one line's cells; None when it cannot be used at all."""
    values: dict[str, Any] = {}
    checks: tuple[tuple[str, Callable[[Any], Any]], ...] = (
        (GROUP, lambda v: clean_group_name(cell_text(v))),
        (RELATION, lambda v: clean_relation(cell_text(v))),
        (GENDER, lambda v: clean_gender(cell_text(v))),
        (BIRTH, lambda v: clean_birth_year(v, sheet.today)),
        (PHONE, lambda v: clean_phone(cell_text(v))),
        (HOUSE, lambda v: clean_house_number(cell_text(v))),
    )
    for name, check in checks:
        try:
            values[name] = check(cell(name))
        except FieldError as exc:
            sheet.note(line, ERROR, exc.message, name, **exc.params)
            values[name] = None if name == BIRTH else ""
    needs, understood = parse_needs(cell(NEEDS))
    if not understood:
        sheet.note(
            line,
            WARNING,
            N_("“%(value)s” is not a special need the app knows (独居老人, 残疾); ignored."),
            NEEDS,
            value=cell_text(cell(NEEDS)),
        )
        needs = None
    names: dict[str, str] = {}
    for name in (NAME, HEAD_NAME):
        raw = cell_text(cell(name))
        if not raw:
            names[name] = ""
            continue
        try:
            names[name] = clean_name(raw)
        except FieldError as exc:
            sheet.note(line, ERROR, exc.message, name, **exc.params)
            return None
    return Row(
        line=line,
        sheet=sheet.name,
        group=values[GROUP] or sheet.group,
        head=names[HEAD_NAME],
        name=names[NAME],
        relation=values[RELATION],
        gender=values[GENDER],
        birth_year=values[BIRTH],
        phone=values[PHONE],
        house=values[HOUSE],
        needs=needs,
    )


def _with_head(sheet: _Sheet, row: Row, previous: Row | None) -> Row | None:
    """Layout with a 户主姓名 column: decide the row's head and whether it is the head."""
    if not row.head:
        if row.relation == HEAD and row.name:
            row.head = row.name
        elif previous is not None and row.name:
            # A head merged (or left blank) over the family's rows.
            row.head = previous.head
            row.group = row.group or previous.group
            row.house = row.house or previous.house
        elif not row.name:
            sheet.note(row.line, ERROR, N_("The name is missing."), NAME)
            return None
        else:
            sheet.note(row.line, ERROR, N_("The head's name is missing."), HEAD_NAME)
            return None
    if not row.name:
        if row.relation and row.relation != HEAD:
            sheet.note(row.line, ERROR, N_("The name is missing."), NAME)
            return None
        row.name = row.head  # a line with only the head: the head's own line
    if previous is not None and previous.head == row.head and not row.group:
        row.group = previous.group
    if row.relation == HEAD and row.name != row.head:
        sheet.note(
            row.line,
            ERROR,
            N_("%(name)s is marked 户主 but the head of this line is %(head)s."),
            RELATION,
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


def _with_current_head(sheet: _Sheet, row: Row, current: Row | None) -> Row | None:
    """Layout without 户主姓名: a 户主 line starts a household, the lines below join it."""
    if not row.name:
        sheet.note(row.line, ERROR, N_("The name is missing."), NAME)
        return None
    if row.relation == HEAD:
        row.head, row.is_head = row.name, True
        return row
    if current is None:
        sheet.note(
            row.line,
            ERROR,
            N_("%(name)s comes before any 户主 line: their household is unknown."),
            name=row.name,
        )
        return None
    row.head = current.name
    row.group = row.group or current.group
    return row
