"""Importing a messy 花名册: line-numbered problems, all-or-nothing, idempotent, round trip."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from conftest import VillageWorld
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits.errors import PermissionDenied, ValidationError
from credits.models import AuditEvent, Group, Household, Member
from credits.roster_import import (
    ERROR,
    WARNING,
    RosterHasErrors,
    export_roster,
    import_roster,
    preview,
)
from credits.search import search_households

HEADER = [
    "序号",
    "组别",
    "户主姓名",
    "成员姓名",
    "与户主关系",
    "性别",
    "出生年月",
    "联系电话",
    "门牌号",
    "身份证号",
]
# Lines 4.. of the sheet; None marks a blank line. Lines 5–6 take group and head from
# cells merged over lines 4–6, as village rosters do.
GOOD_ROWS: list[list[Any] | None] = [
    [
        1,
        "第1组",
        "王德胜",
        "王德胜",
        "户主",
        "男",
        "1958.06",
        "１３９０００００００１",
        "８号",
        "330100195806010011",
    ],
    [2, None, None, "李桂英", "配偶", "女", "1960年2月", None, "8号", None],
    [3, None, None, "王小虎", "子", "男", 1985, "13900000002", "8号", None],
    None,
    [4, "１组", "赵金山", "赵金山", "本人", "男", 1949, "0571-88001234", "9号", None],
    None,
    [5, "第二组", "孙立新  ", "孙立新", "户主", "男", "1970", "13700000003", "二组1号", None],
    [6, "2组", "孙立新", "周玉兰", "妻", "女", 1972.11, None, "二组1号", None],
    [7, "第2组", "孙立新", "孙立新", "户主", "男", "1970", "13700000003", "二组1号", None],
    [8, "2组", "孙立新", "孙浩然", "子", "男", "1998", None, None, None],
    [9, "2组", "孙立新", "孙浩然", "子", "男", "1998", None, None, None],
    [10, "三组", "王𰻞", "王𰻞", "户主", "男", "1980", None, "三组5号", None],
    [11, "一组", "张建华", "张建华", "户主", "男", "1965", "13812345678", "1号", None],
    [12, "一组", "张建华", "张小明", "子", None, None, None, "1号", None],
    [13, "一组", "张建华", "张小红", "女", "女", "2001", None, "1号", None],
]
BAD_ROWS: list[list[Any] | None] = [
    [14, "三组", None, None, "子", "男", "1990", None, None, None],
    [15, "三组", "钱多多", "钱小多", "子", "男", "2000", None, None, None],
    [16, "二组", "孙立新", "周玉兰", "女", "女", "1972.11", None, None, None],
    [17, "三组", "王𰻞", "王小𰻞", "子", "男", "1965.13", "1380000", None, None],
    [18, "三组", "王𰻞", "王大𰻞", "子", "男", 1850, None, None, None],
    [19, "一组", "孙立新", "孙小妹", "女", None, None, None, None, None],
]
FOOTER = "制表人：村会计    审核：村主任"
FOOTER_SHOWN = "制表人:村会计 审核:村主任"  # as normalised (NFKC, spaces collapsed)
FOOTER_NOTE = "Skipped as the form's footer, not a person: “%(text)s”."


def messy_xlsx(rows: list[list[Any] | None]) -> bytes:
    """A roster as villages keep it: two merged title rows, merged family cells, a footer."""
    wb = Workbook()
    ws = wb.active
    ws.title = "花名册"
    ws.append(["桃源村2026年花名册"])
    ws.merge_cells("A1:J1")
    ws.append(["填报单位：桃源村村委会"])
    ws.merge_cells("A2:J2")
    ws.append(HEADER)
    for row in rows:
        ws.append(row if row is not None else [None] * len(HEADER))
    ws.merge_cells("B4:B6")
    ws.merge_cells("C4:C6")
    ws.append([FOOTER])
    ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=10)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def messy_csv(rows: list[list[Any] | None], encoding: str) -> bytes:
    """The same roster saved as CSV: merged cells come out blank, as Excel writes them."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["桃源村2026年花名册"])
    writer.writerow(["填报单位：桃源村村委会"])
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row] if row is not None else [])
    writer.writerow([FOOTER])
    return out.getvalue().encode(encoding)


def counts(session: Session) -> dict[str, int]:
    return {
        model.__name__: int(session.scalar(select(func.count()).select_from(model)) or 0)
        for model in (Household, Member, Group, AuditEvent)
    }


def roster_of(session: Session, village_id: int) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The village's roster as plain data, to compare whole rosters."""
    session.expire_all()
    homes = session.scalars(select(Household).where(Household.village_id == village_id)).all()
    return {
        (h.group.name if h.group else "", h.head_name, h.house_number): {
            "phone": h.phone,
            "needs": h.special_needs,
            "active": h.active,
            "members": sorted(
                (m.name, m.relation, m.gender, m.birth_year, m.phone) for m in h.members
            ),
        }
        for h in homes
    }


def problems(plan: Any) -> list[tuple[int, str, str, dict[str, Any]]]:
    return [(p.line, p.severity, p.message, p.params) for p in plan.problems]


GOOD_PROBLEMS = [
    (
        12,
        WARNING,
        "%(head)s is listed again (first on line %(first)s): taken as one household.",
        {"head": "孙立新", "first": 10},
    ),
    (
        14,
        WARNING,
        "%(name)s is listed twice in the household of %(head)s (first on line "
        "%(first)s): counted once.",
        {"name": "孙浩然", "head": "孙立新", "first": 13},
    ),
    (
        15,
        WARNING,
        "%(name)s has %(chars)s, which the print font lacks: cards and notices will "
        "show a box with its code instead.",
        {"name": "王𰻞", "chars": "𰻞"},
    ),
    (19, WARNING, FOOTER_NOTE, {"text": FOOTER_SHOWN}),
]


def test_preview_of_a_messy_roster_names_each_warning_by_line(
    session: Session, world: VillageWorld
) -> None:
    plan = preview(session, world.village, messy_xlsx(GOOD_ROWS), filename="花名册.xlsx")

    assert problems(plan) == GOOD_PROBLEMS
    assert plan.ok
    assert plan.columns["birth_year"] == "出生年月"
    assert plan.ignored_columns == ["序号", "身份证号"]
    assert plan.new_groups == ["二组", "三组"]
    actions = {(h.group, h.head_name): h.action for h in plan.households}
    assert actions == {
        ("一组", "王德胜"): "create",
        ("一组", "赵金山"): "create",
        ("二组", "孙立新"): "create",
        ("三组", "王𰻞"): "create",
        ("一组", "张建华"): "update",
    }
    zhang = next(h for h in plan.households if h.head_name == "张建华")
    assert zhang.changes == {"phone": ("", "13812345678")}
    assert [(m.name, m.action) for m in zhang.members] == [
        ("张建华", "update"),
        ("张小明", "unchanged"),
        ("张小红", "create"),
    ]
    assert plan.summary()["members_created"] == 9


def test_preview_names_every_error_with_its_line(session: Session, world: VillageWorld) -> None:
    plan = preview(session, world.village, messy_xlsx(GOOD_ROWS + BAD_ROWS))

    assert problems(plan) == GOOD_PROBLEMS[:3] + [
        (19, ERROR, "The name is missing.", {}),
        (
            20,
            ERROR,
            "The head %(head)s of %(name)s is nowhere in the file.",
            {"head": "钱多多", "name": "钱小多"},
        ),
        (
            21,
            ERROR,
            "%(name)s is listed twice in the household of %(head)s with different "
            "details (lines %(first)s and %(second)s).",
            {"name": "周玉兰", "head": "孙立新", "first": 11, "second": 21},
        ),
        (
            22,
            ERROR,
            "“%(value)s” is not a birth year: write it like 1965 or 1965.03.",
            {"value": "1965.13"},
        ),
        (
            22,
            ERROR,
            "“%(value)s” is not a phone number: write an 11-digit mobile number or a "
            "landline such as 0571-88001234.",
            {"value": "1380000"},
        ),
        (22, WARNING, GOOD_PROBLEMS[2][2], {"name": "王小𰻞", "chars": "𰻞"}),
        (
            23,
            ERROR,
            "The birth year %(year)s is not between %(low)s and %(high)s.",
            {"year": 1850, "low": 1900, "high": 2026},
        ),
        (23, WARNING, GOOD_PROBLEMS[2][2], {"name": "王大𰻞", "chars": "𰻞"}),
        (
            24,
            ERROR,
            "The head %(head)s of %(name)s is in %(group)s (line %(first)s), not in %(here)s.",
            {"head": "孙立新", "name": "孙小妹", "group": "二组", "first": 10, "here": "一组"},
        ),
        (25, WARNING, FOOTER_NOTE, {"text": FOOTER_SHOWN}),
    ]
    assert {p.column for p in plan.problems if p.line == 22 and p.severity == ERROR} == {
        "出生年月",
        "联系电话",
    }
    assert not plan.ok


def test_problems_read_in_chinese(session: Session, world: VillageWorld) -> None:
    plan = preview(session, world.village, messy_xlsx(GOOD_ROWS + BAD_ROWS))
    texts = {p.line: p.text() for p in plan.problems if p.severity == ERROR}
    assert "钱多多" in texts[20] and "花名册" in texts[20]
    assert texts[19] == "姓名缺失。"


def test_a_roster_with_errors_writes_nothing(session: Session, world: VillageWorld) -> None:
    before = counts(session)
    with pytest.raises(RosterHasErrors) as info:
        import_roster(
            session, world.users["clerk"], world.village, messy_xlsx(GOOD_ROWS + BAD_ROWS)
        )
    assert info.value.params == {"n": 7}
    assert counts(session) == before


def test_a_good_messy_roster_imports_households_members_and_groups(
    session: Session, world: VillageWorld
) -> None:
    before = counts(session)
    plan = import_roster(session, world.users["clerk"], world.village, messy_xlsx(GOOD_ROWS))

    assert plan.summary()["households_created"] == 4
    roster = roster_of(session, world.village.id)
    assert roster[("一组", "王德胜", "8号")] == {
        "phone": "13900000001",
        "needs": "",
        "active": True,
        "members": sorted(
            [
                ("王德胜", "户主", "男", 1958, ""),
                ("李桂英", "配偶", "女", 1960, ""),
                ("王小虎", "子", "男", 1985, "13900000002"),
            ]
        ),
    }
    assert roster[("一组", "赵金山", "9号")]["members"] == [("赵金山", "户主", "男", 1949, "")]
    assert roster[("一组", "赵金山", "9号")]["phone"] == "0571-88001234"
    assert roster[("二组", "孙立新", "二组1号")]["members"] == sorted(
        [
            ("孙立新", "户主", "男", 1970, ""),
            ("周玉兰", "妻", "女", 1972, ""),
            ("孙浩然", "子", "男", 1998, ""),
        ]
    )
    assert roster[("三组", "王𰻞", "三组5号")]["members"] == [("王𰻞", "户主", "男", 1980, "")]
    assert roster[("一组", "张建华", "1号")] == {
        "phone": "13812345678",
        "needs": "",
        "active": True,
        "members": sorted(
            [
                ("张建华", "户主", "男", 1965, ""),
                ("张小明", "子", "", None, ""),
                ("张小红", "女", "女", 2001, ""),
            ]
        ),
    }
    groups = session.scalars(
        select(Group.name).where(Group.village_id == world.village.id).order_by(Group.position)
    ).all()
    assert groups == ["一组", "二组", "三组"]
    after = counts(session)
    assert after["Household"] - before["Household"] == 4
    assert after["Member"] - before["Member"] == 9
    # One audit event per household written, and one for the import as a whole.
    assert after["AuditEvent"] - before["AuditEvent"] == 6
    summary = session.scalar(select(AuditEvent).where(AuditEvent.action == "roster.import"))
    assert summary is not None and summary.actor_id == world.users["clerk"].id
    # The imported households are searchable at once.
    assert [h.head_name for h in search_households(session, world.village.id, "wds")] == ["王德胜"]
    assert [h.head_name for h in search_households(session, world.village.id, "zxh")] == ["张建华"]


def test_importing_the_same_file_twice_changes_nothing(
    session: Session, world: VillageWorld
) -> None:
    data = messy_xlsx(GOOD_ROWS)
    import_roster(session, world.users["clerk"], world.village, data)
    roster, before = roster_of(session, world.village.id), counts(session)

    again = import_roster(session, world.users["clerk"], world.village, data)

    assert {h.action for h in again.households} == {"unchanged"}
    assert again.member_count("create") == again.member_count("update") == 0
    assert counts(session) == before
    assert roster_of(session, world.village.id) == roster


def test_export_round_trips_through_import(session: Session, world: VillageWorld) -> None:
    import_roster(session, world.users["clerk"], world.village, messy_xlsx(GOOD_ROWS))
    zhang = session.scalar(select(Household).where(Household.head_name == "张建华"))
    assert zhang is not None
    zhang.special_needs = "elderly_alone,disabled"
    session.commit()
    roster, before = roster_of(session, world.village.id), counts(session)

    data = export_roster(session, world.village)
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert [c.value for c in sheet[2]] == [
        "组别",
        "户主姓名",
        "成员姓名",
        "与户主关系",
        "性别",
        "出生年份",
        "联系电话",
        "门牌号",
        "特殊情况",
    ]
    first = [c.value for c in sheet[3]]
    assert first == [
        "一组",
        "张建华",
        "张建华",
        "户主",
        "男",
        1965,
        "13812345678",
        "1号",
        "独居老人、残疾",
    ]
    assert sheet.cell(3, 7).number_format == "@"

    plan = preview(session, world.village, data)
    assert [p.message for p in plan.problems] == [GOOD_PROBLEMS[2][2]]
    assert {h.action for h in plan.households} == {"unchanged"}
    assert len(plan.households) == 7
    import_roster(session, world.users["clerk"], world.village, data)
    assert counts(session) == before
    assert roster_of(session, world.village.id) == roster


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8", "gb18030"])
def test_csv_rosters_in_gbk_and_utf8_import_like_the_workbook(
    session: Session, world: VillageWorld, other_world: VillageWorld, encoding: str
) -> None:
    # GBK has no 𰻞: Excel in China could not have written it, so the CSV names him 王堃.
    rows = [
        [v.replace("𰻞", "堃") if isinstance(v, str) else v for v in row] if row else row
        for row in GOOD_ROWS
    ]
    data = messy_csv(rows, encoding)
    plan = preview(session, world.village, data)
    assert problems(plan) == [GOOD_PROBLEMS[0], GOOD_PROBLEMS[1], GOOD_PROBLEMS[3]]

    import_roster(session, world.users["clerk"], world.village, data)
    import_roster(session, other_world.users["clerk"], other_world.village, messy_xlsx(rows))
    assert roster_of(session, world.village.id) == roster_of(session, other_world.village.id)
    assert ("三组", "王堃", "三组5号") in roster_of(session, world.village.id)


def test_a_roster_without_a_head_column_groups_people_under_each_head(
    session: Session, world: VillageWorld
) -> None:
    data = "\n".join(
        [
            "姓名,关系,性别,出生年份,电话,住址,小组",
            "钱大江,户主,男,1960,13500000001,6号,4组",
            "孙美丽,妻子,女,1962,,6号,4组",
            "",
            "周强,本人,男,1975,,7号,第四组",
            "周小强,儿子,男,2003,,7号,第四组",
        ]
    ).encode()
    plan = import_roster(session, world.users["clerk"], world.village, data)

    assert plan.problems == []
    roster = roster_of(session, world.village.id)
    assert roster[("四组", "钱大江", "6号")]["members"] == sorted(
        [("钱大江", "户主", "男", 1960, ""), ("孙美丽", "妻子", "女", 1962, "")]
    )
    assert roster[("四组", "周强", "7号")]["members"] == sorted(
        [("周强", "户主", "男", 1975, ""), ("周小强", "儿子", "男", 2003, "")]
    )


def test_a_member_line_before_any_head_is_an_error(session: Session, world: VillageWorld) -> None:
    data = "姓名,与户主关系\n周小强,子\n周强,户主\n".encode()
    plan = preview(session, world.village, data)
    assert problems(plan) == [
        (
            2,
            ERROR,
            "%(name)s comes before any 户主 line: their household is unknown.",
            {"name": "周小强"},
        )
    ]


def test_one_sheet_per_group_takes_the_group_from_the_sheet_name(
    session: Session, world: VillageWorld
) -> None:
    wb = Workbook()
    first = wb.active
    assert first is not None
    first.title = "第五组"
    first.append(["户主", "姓名", "关系", "电话"])
    first.append(["吴春生", "吴春生", "户主", "13600000001"])
    first.append(["吴春生", "吴浩", "子", "１３６"])
    second = wb.create_sheet("6组")
    second.append(["户主", "姓名", "关系"])
    second.append(["郑立新", "郑立新", "户主"])
    out = io.BytesIO()
    wb.save(out)

    plan = preview(session, world.village, out.getvalue())

    assert [(p.sheet, p.line, p.params) for p in plan.problems] == [("第五组", 3, {"value": "136"})]
    assert {(h.group, h.head_name) for h in plan.households} == {
        ("五组", "吴春生"),
        ("六组", "郑立新"),
    }


def test_a_member_of_a_household_already_in_the_roster_joins_it(
    session: Session, world: VillageWorld
) -> None:
    data = "组别,户主姓名,成员姓名,与户主关系\n第一组,李秀兰,李小红,孙女\n".encode()
    plan = import_roster(session, world.users["clerk"], world.village, data)

    assert plan.problems == []
    assert plan.count("update") == 1
    assert ("李小红", "孙女", "", None, "") in roster_of(session, world.village.id)[
        ("一组", "李秀兰", "2号")
    ]["members"]


def test_blank_cells_never_clear_what_the_roster_knows(
    session: Session, world: VillageWorld
) -> None:
    home = world.households[0]
    home.phone = "13812345678"
    home.special_needs = "disabled"
    session.commit()
    data = "\n".join(
        ["组别,户主姓名,成员姓名,与户主关系,联系电话,门牌号,特殊情况", "一组,张建华,张建华,户主,,,"]
    ).encode()

    plan = import_roster(session, world.users["clerk"], world.village, data)

    assert plan.count("unchanged") == 1 and not plan.changes_anything
    row = roster_of(session, world.village.id)[("一组", "张建华", "1号")]
    assert (row["phone"], row["needs"]) == ("13812345678", "disabled")


def test_namesakes_in_one_household_are_two_people(session: Session, world: VillageWorld) -> None:
    data = "\n".join(
        [
            "组别,户主姓名,成员姓名,与户主关系,出生年份",
            "五组,刘卫东,刘卫东,户主,1952",
            "五组,刘卫东,刘卫东,子,1982",
        ]
    ).encode()
    plan = import_roster(session, world.users["clerk"], world.village, data)

    assert [p.severity for p in plan.problems] == [WARNING]
    assert roster_of(session, world.village.id)[("五组", "刘卫东", "")]["members"] == [
        ("刘卫东", "子", "", 1982, ""),
        ("刘卫东", "户主", "", 1952, ""),
    ]
    again = preview(session, world.village, data)
    assert {h.action for h in again.households} == {"unchanged"}


def test_a_household_that_moved_group_is_matched_by_head_and_house_number(
    session: Session, world: VillageWorld
) -> None:
    data = "组别,户主姓名,成员姓名,与户主关系,门牌号\n第二组,欧阳明华,欧阳明华,户主,3号\n".encode()
    plan = preview(session, world.village, data)
    home = plan.households[0]
    assert (home.action, home.household_id, home.changes) == (
        "update",
        world.households[2].id,
        {"group": ("一组", "二组")},
    )
    assert plan.new_groups == ["二组"]


def test_deactivated_households_are_left_alone(session: Session, world: VillageWorld) -> None:
    world.households[1].active = False
    session.commit()
    data = "\n".join(
        [
            "组别,户主姓名,成员姓名,与户主关系,联系电话,门牌号",
            "一组,李秀兰,李秀兰,户主,13811112222,2号",
        ]
    ).encode()
    plan = import_roster(session, world.users["clerk"], world.village, data)
    assert [p.message for p in plan.problems] == [
        "The household of %(head)s is deactivated in the roster; the import leaves it as it is."
    ]
    assert roster_of(session, world.village.id)[("一组", "李秀兰", "2号")]["phone"] == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (
            b"\xd0\xcf\x11\xe0" + b"\0" * 100,
            "This is an old Excel file (.xls); open it in Excel or WPS and save it as .xlsx.",
        ),
        (b"PK\x03\x04broken", "The file could not be read as an Excel workbook (.xlsx)."),
        (
            b"abc,def\n\xff\xff",
            "The file is neither UTF-8 nor GBK text; save it as .xlsx or as CSV (UTF-8).",
        ),
    ],
)
def test_unreadable_files_are_refused(
    session: Session, world: VillageWorld, data: bytes, message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        preview(session, world.village, data)
    assert info.value.message == message


def test_a_file_without_a_header_says_so(session: Session, world: VillageWorld) -> None:
    plan = preview(session, world.village, "张三,李四\n王五,赵六\n".encode())
    assert [(p.line, p.severity) for p in plan.problems] == [(0, ERROR)]
    assert plan.households == []


def test_clerks_import_and_cashiers_may_not(
    session: Session, world: VillageWorld, other_world: VillageWorld
) -> None:
    data = messy_xlsx(GOOD_ROWS)
    before = counts(session)
    for actor in (world.users["cashier"], world.users["reviewer"], other_world.users["admin"]):
        with pytest.raises(PermissionDenied):
            import_roster(session, actor, world.village, data)
    assert counts(session) == before
    import_roster(session, world.users["admin"], world.village, data)
    assert counts(session)["Household"] == before["Household"] + 4
