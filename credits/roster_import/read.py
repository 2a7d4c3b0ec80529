"""Reading a roster file into tables of cells: XLSX (every sheet) or CSV in UTF-8, GBK or UTF-16."""

from __future__ import annotations

import codecs
import csv
import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from credits.errors import ValidationError
from credits.i18n import N_

RosterSource = bytes | str | os.PathLike[str] | IO[bytes]

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000


@dataclass
class Table:
    sheet: str
    rows: list[tuple[int, list[Any]]]  # (line in the file, cells)
    merged_banners: set[int] = field(default_factory=set)  # lines that are one wide merged cell


def read_bytes(source: RosterSource) -> tuple[bytes, str]:
    """The file's bytes and its name (empty when it has none)."""
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
