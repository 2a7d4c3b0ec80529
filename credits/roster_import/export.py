"""Exporting a village's roster as an XLSX 花名册 that imports back with no changes."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from credits import audit, clock
from credits.access import Permission, require
from credits.models import Group, Household, User, Village
from credits.roster import HEAD
from credits.roster_import.cells import (
    BIRTH,
    EXPORT_COLUMNS,
    GENDER,
    GROUP,
    HEAD_NAME,
    HOUSE,
    NAME,
    NEEDS,
    PHONE,
    RELATION,
    needs_words,
)

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
_WIDTHS = (10, 12, 12, 12, 6, 10, 16, 24, 14)


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


def writable(value: Any) -> Any:
    """A value openpyxl can write: text without the control characters XLSX cannot hold."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _append(sheet: Worksheet, values: list[Any], text_columns: set[int]) -> None:
    sheet.append([writable(v) for v in values])
    row = sheet.max_row
    for index, value in enumerate(values):
        cell = sheet.cell(row, index + 1)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # stored text, never a formula Excel would run
        if index in text_columns:
            # Phone numbers and house numbers are text: keep Excel from making 1.38E+10 of them.
            cell.number_format = "@"


def export_roster(
    session: Session,
    village: Village,
    *,
    actor: User | None = None,
    ip: str | None = None,
    today: date | None = None,
) -> bytes:
    """The village's roster as an XLSX 花名册 that imports back with no changes.

    With an actor (a web user), the export of personal data is checked and audited (the
    web page asks for it with a POST, so the audit event is no GET's write).
    """
    if actor is not None:
        require(session, actor, Permission.RECORD, village.id)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "花名册"
    day = today or clock.today()
    sheet.append([writable(f"{village.name}花名册（{day.isoformat()}导出）")])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(EXPORT_COLUMNS))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([EXPORT_HEADERS[c] for c in EXPORT_COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    text_columns = {EXPORT_COLUMNS.index(PHONE), EXPORT_COLUMNS.index(HOUSE)}
    for values in export_rows(session, village):
        _append(sheet, values, text_columns)
    for letter, width in zip("ABCDEFGHI", _WIDTHS, strict=True):
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


def export_filename(village: Village, today: date | None = None) -> str:
    """The download name of a village's roster: 青山村花名册-20261201.xlsx (the village's day)."""
    day = today or clock.today()
    return f"{village.name}花名册-{day.strftime('%Y%m%d')}.xlsx"
