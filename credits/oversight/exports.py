"""The township table and the integrity report as cells: the page, XLSX and CSV share them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from credits.clock import local_date
from credits.i18n import N_, gettext
from credits.oversight.integrity import IntegrityReport, RecorderRow, ReviewerRow
from credits.oversight.township import TownshipTable, VillageRow

Cell = str | int | float | None

TOWNSHIP_HEADERS = (
    N_("Rank"),
    N_("Village"),
    N_("Township"),
    N_("Village code"),
    N_("Households"),
    N_("Active households"),
    N_("Participation %"),
    N_("Points issued"),
    N_("Points per household"),
    N_("Deductions"),
    N_("Points deducted"),
    N_("Redemptions"),
    N_("Points redeemed"),
    N_("Points outstanding"),
    N_("Shelf value in points"),
    N_("Open objections"),
    N_("Last activity"),
)
RECORDER_HEADERS = (
    N_("Recorder"),
    N_("Awards recorded"),
    N_("Points"),
    N_("Top 5 households %"),
    N_("Same surname and group"),
    N_("Same surname and group %"),
    N_("Outside working hours"),
    N_("Outside working hours %"),
    N_("Rejected"),
    N_("Reversed"),
    N_("Rejected or reversed %"),
    N_("Flags"),
)
REVIEWER_HEADERS = (
    N_("Reviewer"),
    N_("Reviewed"),
    N_("Approved"),
    N_("Rejected"),
    N_("Approval rate %"),
    N_("Approved for same surname and group"),
    N_("Flags"),
)
FLAG_LABELS = {
    "top5_share": N_("points concentrated on few households"),
    "kin_share": N_("many awards to own surname and group"),
    "off_hours_share": N_("many records outside working hours"),
    "undone_share": N_("many rejected or reversed"),
    "approval_rate": N_("approval rate unlike the others"),
}


def pct(value: float) -> float:
    """A share as a percentage with one decimal, as every page and export shows it."""
    return round(value * 100, 1)


def iso_day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return (local_date(value) if isinstance(value, datetime) else value).isoformat()


def village_cells(row: VillageRow) -> list[Cell]:
    return [
        row.rank or None,
        row.name,
        row.township,
        row.code,
        row.households,
        row.active,
        pct(row.participation),
        row.points_awarded,
        round(row.per_household, 1),
        row.deductions,
        row.points_deducted,
        row.redemptions,
        row.points_redeemed,
        row.outstanding,
        row.shelf_points if row.has_shop else None,
        row.open_objections,
        iso_day(row.last_activity),
    ]


def township_sheet(table: TownshipTable, locale: str) -> tuple[list[str], list[list[Cell]]]:
    """Headers and rows: the region's total first, then every village in table order."""
    headers = [gettext(h, locale) for h in TOWNSHIP_HEADERS]
    total = village_cells(table.total)
    total[0] = gettext(N_("Total"), locale)
    return headers, [total] + [village_cells(r) for r in table.all_rows]


def flags_text(flags: Iterable[str], locale: str) -> str:
    return "；".join(gettext(FLAG_LABELS[f], locale) for f in sorted(flags))


def recorder_cells(row: RecorderRow, locale: str) -> list[Cell]:
    return [
        row.name,
        row.awards,
        row.points,
        pct(row.top5_share),
        row.kin_awards,
        pct(row.kin_share),
        row.off_hours,
        pct(row.off_hours_share),
        row.rejected,
        row.reversed,
        pct(row.undone_share),
        flags_text(row.flags, locale),
    ]


def reviewer_cells(row: ReviewerRow, locale: str) -> list[Cell]:
    return [
        row.name,
        row.reviews,
        row.approved,
        row.rejected,
        pct(row.approval_rate),
        row.kin_approved,
        flags_text(row.flags, locale),
    ]


def integrity_sheets(
    report: IntegrityReport, locale: str
) -> list[tuple[str, list[str], list[list[Cell]]]]:
    return [
        (
            gettext(N_("Recorders"), locale),
            [gettext(h, locale) for h in RECORDER_HEADERS],
            [recorder_cells(r, locale) for r in report.recorders],
        ),
        (
            gettext(N_("Reviewers"), locale),
            [gettext(h, locale) for h in REVIEWER_HEADERS],
            [reviewer_cells(r, locale) for r in report.reviewers],
        ),
    ]


def _safe(value: Cell) -> Cell:
    """Keep a spreadsheet from running a name as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_xlsx(sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Cell]]]]) -> bytes:
    """A workbook with one sheet per (title, headers, rows)."""
    book = Workbook()
    book.remove(book.active)
    for title, headers, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append(list(headers))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_safe(v) for v in row])
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_csv(sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Cell]]]]) -> str:
    """CSV with a UTF-8 BOM (Excel reads Chinese); several sheets follow each other."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for i, (title, headers, rows) in enumerate(sheets):
        if len(sheets) > 1:
            if i:
                writer.writerow([])
            writer.writerow([title])
        writer.writerow(headers)
        for row in rows:
            writer.writerow(["" if v is None else _safe(v) for v in row])
    return "\ufeff" + buffer.getvalue()


def read_xlsx(data: bytes) -> dict[str, list[list[Cell]]]:
    """Read a workbook back (tests and operators checking an export)."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    return {s.title: [list(r) for r in s.iter_rows(values_only=True)] for s in book.worksheets}
