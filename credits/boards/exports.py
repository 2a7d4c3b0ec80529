"""Board exports: the same rows as the pages, as CSV (UTF-8 with BOM) and XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date

from openpyxl import Workbook

from credits.boards.ranking import Board
from credits.boards.stars import BADGES
from credits.i18n import N_, gettext

Cell = str | int | date
HEADERS = (
    N_("Rank"),
    N_("Name"),
    N_("House number"),
    N_("Group"),
    N_("Points"),
    N_("Deductions"),
    N_("Stars"),
    N_("Badges"),
    N_("Period"),
    N_("From"),
    N_("To"),
)


def board_rows(
    board: Board, first_day: date, last_day: date, locale: str = "zh_CN"
) -> list[list[Cell]]:
    """Header and one row per ranked line with activity (dates stay dates: ISO in CSV)."""
    rows: list[list[Cell]] = [[gettext(h, locale) for h in HEADERS]]
    for line in board.active:
        rows.append(
            [
                line.rank,
                line.name,
                line.house_number,
                line.group_name,
                line.points,
                line.deductions,
                line.stars,
                "、".join(gettext(BADGES[b], locale) for b in line.badges),
                board.spec.label,
                first_day,
                last_day,
            ]
        )
    return rows


def to_csv(rows: Sequence[Sequence[Cell]]) -> bytes:
    """CSV with a UTF-8 byte-order mark (Excel opens it as UTF-8) and ISO dates."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([v.isoformat() if isinstance(v, date) else v for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[Sequence[Cell]], title: str) -> bytes:
    """One worksheet with the rows; dates as real dates shown yyyy-mm-dd."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31] or "board"
    for row in rows:
        sheet.append(list(row))
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
