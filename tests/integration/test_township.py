"""The township table against a hand-computed scenario, its scope, and the aggregates."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from conftest import build_township
from sqlalchemy import func, select

from credits.errors import PermissionDenied, ValidationError
from credits.ledger import append_entry
from credits.models import (
    Role,
    Village,
    VillagePeriod,
    VillagePeriodHousehold,
    VillagePeriodStat,
)
from credits.oversight import aggregates, exports
from credits.oversight.charts import category_months
from credits.oversight.periods import parse_period
from credits.oversight.township import township_table
from credits.users import create_user
from credits.villages import create_village
from credits.workflow import ensure_account


@pytest.fixture
def town(session):
    return build_township(session)


def _rows(table):
    return {r.code: r for r in table.all_rows}


def test_township_month_matches_the_hand_computed_numbers(session, town):
    table = township_table(session, town.admin, parse_period("2026-11"))
    rows = _rows(table)
    assert set(rows) == {"VA", "VC"}
    va, vc = rows["VA"], rows["VC"]
    assert (va.households, va.active) == (3, 2)
    assert va.points_awarded == 15  # 10 + 5 + 5, minus the reversed 5
    assert round(va.per_household, 1) == 5.0
    assert (va.deductions, va.points_deducted) == (1, 5)
    assert (va.redemptions, va.points_redeemed) == (1, 3)
    assert va.outstanding == 27  # h0 30, h1 2, h2 −5
    assert va.open_objections == 0
    assert (vc.households, vc.active, vc.points_awarded, vc.outstanding) == (3, 1, 10, 10)
    assert vc.open_objections == 1
    assert (va.rank, vc.rank) == (1, 2)
    total = table.total
    assert (total.households, total.active, total.points_awarded) == (6, 3, 25)
    assert (total.outstanding, total.open_objections, total.points_redeemed) == (37, 1, 3)
    assert exports.pct(total.participation) == 50.0


def test_quarter_and_year_count_a_household_once(session, town):
    for key in ("2026-Q4", "2026"):
        va = _rows(township_table(session, town.admin, parse_period(key)))["VA"]
        assert (va.active, va.points_awarded) == (2, 35)
    va = _rows(township_table(session, town.admin, parse_period("2026-10")))["VA"]
    assert (va.active, va.points_awarded, va.deductions) == (1, 20, 0)


def test_a_township_admin_never_sees_another_townships_villages(session, town):
    table = township_table(session, town.other_admin, parse_period("2026-11"))
    assert [r.code for r in table.all_rows] == ["VB"]
    assert table.total.points_awarded == 50
    months = category_months(session, town.admin, 2026)
    assert sum(months.points.values()) == 20 + 10 + 5 + 10  # VA and VC only


@pytest.mark.parametrize("role", ["clerk", "reviewer", "admin"])
def test_village_staff_are_refused_the_township_table(session, town, role):
    with pytest.raises(PermissionDenied):
        township_table(session, town.a.users[role], parse_period("2026-11"))


@pytest.mark.parametrize(
    ("sort", "first"),
    [
        ("-points_awarded", "VA"),
        ("points_awarded", "VC"),
        ("-open_objections", "VC"),
        ("name", "VA"),
        ("-outstanding", "VA"),
        ("rank", "VA"),
        ("-last_activity", "VA"),
        ("last_activity", "VC"),
    ],
)
def test_the_table_sorts_by_any_column(session, town, sort, first):
    table = township_table(session, town.admin, parse_period("2026-11"), sort=sort)
    assert table.page.items[0].code == first


def test_an_unknown_sort_column_is_refused(session, town):
    with pytest.raises(ValidationError):
        township_table(session, town.admin, parse_period("2026-11"), sort="hash; drop")


def test_paging_keeps_the_total_of_every_village(session, town):
    table = township_table(session, town.admin, parse_period("2026-11"), per_page=1, page=2)
    assert [r.code for r in table.page.items] == ["VC"]
    assert table.page.pages == 2 and table.total.points_awarded == 25


def _snapshot(session):
    return (
        sorted(
            (
                r.village_id,
                r.period,
                r.households_active,
                r.points_awarded,
                r.balance_net,
                r.redemptions,
                r.reversals,
            )
            for r in session.scalars(select(VillagePeriod))
        ),
        sorted(
            (r.village_id, r.scheme_id, r.period, r.category, r.points_awarded, r.deductions)
            for r in session.scalars(select(VillagePeriodStat))
        ),
        sorted(
            (r.village_id, r.period, r.household_id)
            for r in session.scalars(select(VillagePeriodHousehold))
        ),
    )


def test_rebuilding_from_the_ledger_gives_the_aggregates_kept_at_posting(session, town):
    kept = _snapshot(session)
    assert kept[0]
    count = aggregates.rebuild(session.connection())
    session.commit()
    assert count == 9
    assert _snapshot(session) == kept


def test_the_export_reads_back_with_the_numbers_of_the_page(session, town):
    table = township_table(session, town.admin, parse_period("2026-11"), per_page=1)
    headers, rows = exports.township_sheet(table, "zh_CN")
    book = exports.read_xlsx(exports.to_xlsx([("2026-11", headers, rows)]))
    sheet = book["2026-11"]
    assert sheet[0] == headers
    assert sheet[1][4:8] == [6, 3, 50.0, 25]  # the total row first
    by_code = {row[3]: row for row in sheet[2:]}
    assert by_code["VA"] == exports.village_cells(_rows(table)["VA"])
    assert by_code["VA"][-1] == "2026-11-18"  # last activity, ISO
    text = exports.to_csv([("2026-11", headers, rows)])
    assert text.startswith("\ufeff") and "2026-11-18" in text


def test_a_county_admin_sees_every_township_below(session, town):
    create_village(session, township="河口镇", name="河口村", code="VK", county="青山县")
    county = session.get(Village, session.scalar(select(Village.id).where(Village.code == "VK")))
    county_id = county.region.parent_id
    qingxi = town.a.village.region  # move 清溪镇 under 青山县 too
    qingxi.parent_id = county_id
    qingxi.path = f"{county.region.parent.path}{qingxi.id}/"
    admin = create_user(
        session,
        username="qs-admin",
        password="secret-pass-1",
        role=Role.COUNTY_ADMIN,
        display_name="青山县",
        region_id=county_id,
    )
    session.commit()
    table = township_table(session, admin, parse_period("2026-11"))
    assert sorted(r.code for r in table.all_rows) == ["VA", "VC", "VK"]  # not 白水镇's VB


def test_a_posting_rolled_back_leaves_the_aggregates_as_they_were(session, world):
    account = ensure_account(session, world.households[0], world.scheme.id)
    session.commit()
    append_entry(
        session,
        account,
        kind="award",
        points=10,
        score_delta=10,
        balance_delta=10,
        deed_date=date(2026, 11, 3),
        now=datetime(2026, 11, 3, 2),
        category="孝老爱亲",
    )
    assert session.scalar(select(func.count()).select_from(VillagePeriod)) == 4  # seen in-flight
    session.rollback()
    assert session.scalar(select(func.count()).select_from(VillagePeriod)) == 0
    assert session.scalar(select(func.count()).select_from(VillagePeriodHousehold)) == 0


def test_the_table_sets_points_outstanding_against_the_shelf(session, town):
    """VA's shelf holds two bars of soap at 5 yuan (10 points at 1 yuan a point), VC none."""
    from shop_support import stocked_item

    stocked_item(
        session, town.a.users["cashier"], town.a.village.id, quantity=2, unit_value_fen=500
    )
    rows = _rows(township_table(session, town.admin, parse_period("2026-11")))
    va, vc = rows["VA"], rows["VC"]
    assert (va.has_shop, va.shelf_points, va.outstanding) == (True, 10, 27)
    assert va.outruns  # 27 points outstanding, 10 on the shelf
    assert (vc.has_shop, vc.outruns) == (False, False)  # no shop, nothing to warn about
    headers, cells = exports.township_sheet(
        township_table(session, town.admin, parse_period("2026-11")), "zh_CN"
    )
    column = headers.index("货架可兑积分")
    by_code = {row[3]: row for row in cells[1:]}
    assert by_code["VA"][column] == 10 and by_code["VC"][column] is None
