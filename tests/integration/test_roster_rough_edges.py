"""Roster rough edges: footer lines skipped, control characters refused, stored text exported."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from conftest import VillageWorld
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits import clock
from credits.models import AuditEvent, Household, Member
from credits.roster import (
    FieldError,
    HouseholdData,
    MemberData,
    add_member,
    create_household,
    set_household_active,
    update_household,
)
from credits.roster_import import (
    ERROR,
    WARNING,
    RosterHasErrors,
    export_filename,
    export_roster,
    import_roster,
    is_footer,
    preview,
)
from credits.villages import add_household, ensure_group

HEADER = ["序号", "组别", "户主姓名", "成员姓名", "与户主关系", "性别", "出生年份", "门牌号"]
FOOTER_NOTE = "Skipped as the form's footer, not a person: “%(text)s”."


def roster_csv(*rows: list[object]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def total(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


# ---- footer lines ----


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["制表人：张会计"], True),
        (["制表人:张会计 审核人:李主任 填表日期:2026年3月1日"], True),
        (["审核人", "李主任"], True),
        (["填表日期：2026.03.01"], True),
        (["合计", "35户"], True),
        (["总计：128人"], True),
        (["12", "制表人:张会计"], True),
        (["村委会盖章"], True),
        (["1", "一组", "张建华", "张建华", "户主"], False),
        (["一组", "合计明", "合计明", "户主"], False),  # a person may be called 合计明
        (["审核明", "子"], False),
        ([], False),
    ],
)
def test_footer_lines_are_told_from_people(cells: list[str], expected: bool) -> None:
    assert is_footer(cells) is expected


def test_a_rosters_signature_block_is_skipped_with_a_note_and_the_import_goes_ahead(
    session: Session, world: VillageWorld
) -> None:
    data = roster_csv(
        [1, "五组", "钱进", "钱进", "户主", "男", 1970, "5号"],
        [2, "五组", "钱进", "钱多多", "子", "男", 1998, "5号"],
        ["合计", "", "", "", "", "", "", "2人"],
        ["制表人：", "张会计", "", "审核人：", "李主任", "", "填表日期：", "2026年3月1日"],
        ["", "制表人:张会计"],
    )
    plan = preview(session, world.village, data)
    assert plan.errors == []
    footers = [(p.line, p.severity, p.message) for p in plan.problems if p.message == FOOTER_NOTE]
    assert footers == [
        (4, WARNING, FOOTER_NOTE),
        (5, WARNING, FOOTER_NOTE),
        (6, WARNING, FOOTER_NOTE),
    ]
    shown = plan.problems[1].params["text"]
    assert "张会计" in shown and "审核人" in shown and "2026年3月1日" in shown
    assert plan.rows == 2 and plan.count("create") == 1 and plan.member_count("create") == 2
    done = import_roster(session, None, world.village, data)
    assert done.count("create") == 1
    assert session.scalar(select(Household).where(Household.head_name == "钱进")) is not None


# ---- control characters ----


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ([1, "五组", "钱进", "钱进", "户主", "男", 1970, "5\x01号"], "门牌号"),
        ([1, "五组", "钱进", "钱\x07进", "户主", "男", 1970, "5号"], "成员姓名"),
        ([1, "五\x1b组", "钱进", "钱进", "户主", "男", 1970, "5号"], "组别"),
        ([1, "五组", "钱进", "钱进", "户\x02主", "男", 1970, "5号"], "与户主关系"),
    ],
)
def test_a_roster_cell_with_a_control_character_is_refused_by_line_and_column(
    session: Session, world: VillageWorld, row: list[object], column: str
) -> None:
    data = roster_csv(row)
    before = total(session, Household)
    plan = preview(session, world.village, data)
    errors = [(p.line, p.severity, p.column) for p in plan.errors]
    assert errors == [(2, ERROR, column)]
    assert "control character" in plan.errors[0].message
    assert "控制字符" in plan.errors[0].text()
    with pytest.raises(RosterHasErrors):
        import_roster(session, None, world.village, data)
    assert total(session, Household) == before


def test_the_forms_refuse_control_characters_in_house_numbers_names_and_reasons(
    session: Session, world: VillageWorld
) -> None:
    admin = world.users["admin"]
    home = world.households[0]
    before = (total(session, Household), total(session, Member), total(session, AuditEvent))
    with pytest.raises(FieldError) as info:
        create_household(
            session,
            actor=admin,
            village_id=world.village.id,
            data=HouseholdData(head_name="钱进", house_number="5\x01号"),
        )
    assert info.value.field == "house_number" and info.value.params == {"code": "U+0001"}
    session.rollback()
    with pytest.raises(FieldError) as info:
        update_household(
            session,
            actor=admin,
            household_id=home.id,
            data=HouseholdData(head_name=home.head_name, house_number="1\x7f号"),
        )
    assert info.value.field == "house_number"
    session.rollback()
    with pytest.raises(FieldError) as info:
        add_member(session, actor=admin, household_id=home.id, data=MemberData(name="张\x00三"))
    assert info.value.field == "name"
    session.rollback()
    with pytest.raises(FieldError) as info:
        set_household_active(
            session, actor=admin, household_id=home.id, active=False, reason="搬走\x08了"
        )
    assert info.value.field == "reason"
    session.rollback()
    after = (total(session, Household), total(session, Member), total(session, AuditEvent))
    assert after == before
    session.refresh(home)
    assert home.active and home.house_number == "1号"


def test_the_export_writes_control_characters_already_stored_and_never_a_formula(
    session: Session, world: VillageWorld
) -> None:
    group = ensure_group(session, world.village, "一组")
    add_household(
        session,
        world.village,
        head_name="钱\x01进",
        group=group,
        house_number='=HYPERLINK("x")\x1b',
        members=[{"name": "钱\x02多多", "relation": "子"}],
    )
    session.commit()
    data = export_roster(session, world.village)
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    rows = [[c for c in row] for row in sheet.iter_rows(min_row=3)]
    values = [[c.value for c in row] for row in rows]
    ours = [v for v in values if v[1] == "钱进"]
    assert [v[2] for v in ours] == ["钱进", "钱多多"]
    assert ours[0][7] == '=HYPERLINK("x")'
    cell = next(row[7] for row in rows if row[1].value == "钱进")
    assert cell.data_type == "s"  # text, not a formula Excel would run


# ---- the village clock ----


def test_the_export_and_the_import_use_the_village_day(
    session: Session, world: VillageWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "today", lambda: date(2031, 1, 1))
    data = export_roster(session, world.village)
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert "2031-01-01导出" in str(sheet["A1"].value)
    assert export_filename(world.village) == "桃源村花名册-20310101.xlsx"
    # A birth year of the village's current year is no error; the next year is.
    plan = preview(
        session, world.village, roster_csv([1, "五组", "钱进", "钱进", "户主", "男", 2031, ""])
    )
    assert plan.errors == []
    late = preview(
        session, world.village, roster_csv([1, "五组", "钱进", "钱进", "户主", "男", 2032, ""])
    )
    assert [p.params.get("high") for p in late.errors] == [2031]
