"""Roster pages: list and search, forms refusing bad input, import by upload, export, scope, CLI."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from conftest import VillageWorld, login
from flask import Flask, g
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.roster import household_links
from credits.models import AuditEvent, Group, Household, Member

GOOD = "\n".join(
    [
        "桃源村花名册",
        "组别,户主姓名,成员姓名,与户主关系,性别,出生年份,联系电话,门牌号",
        "第2组,王德胜,王德胜,户主,男,1958,13900000001,８号",
        "2组,王德胜,李桂英,配偶,女,1960年2月,,8号",
        "",
        "一组,张建华,张小红,女,女,2001,,1号",
    ]
)
BAD = GOOD + "\n三组,钱多多,钱小多,子,男,1850,123,\n"


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            m.__name__: int(db.session.scalar(select(func.count()).select_from(m)) or 0)
            for m in (Household, Member, Group, AuditEvent)
        }


def text(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined]


@pytest.fixture
def admin(client: FlaskClient, web_world: VillageWorld) -> FlaskClient:
    login(client, web_world.users["admin"])
    return client


# ---- list and search ----


def test_the_roster_lists_households_and_searches_without_javascript(
    admin: FlaskClient, web_world: VillageWorld
) -> None:
    page = text(admin.get("/v/VA/roster"))
    assert all(name in page for name in ("张建华", "李秀兰", "欧阳明华"))
    assert "导入花名册" in page and "新增户" in page and 'action="/v/VA/roster/export"' in page
    assert 'aria-current="page">户籍' in page

    found = text(admin.get("/v/VA/roster?q=oymh"))
    assert "欧阳明华" in found and "张建华" not in found
    assert "没有" in text(admin.get("/v/VA/roster?q=nobody"))


def test_the_inactive_filter_shows_deactivated_households(
    app: Flask, admin: FlaskClient, web_world: VillageWorld
) -> None:
    with app.app_context():
        db.session.get(Household, web_world.households[1].id).active = False  # type: ignore[union-attr]
        db.session.commit()
    assert "李秀兰" not in text(admin.get("/v/VA/roster"))
    inactive = text(admin.get("/v/VA/roster?status=inactive"))
    assert "李秀兰" in inactive and "张建华" not in inactive and "已停用" in inactive
    assert "李秀兰" in text(admin.get("/v/VA/roster?status=all"))


def test_search_json_answers_with_household_cards(
    admin: FlaskClient, web_world: VillageWorld
) -> None:
    response = admin.get("/v/VA/roster/search?q=zjh")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert [h["head_name"] for h in data["households"]] == ["张建华"]
    card = data["households"][0]
    assert card["id"] == web_world.households[0].id
    assert (card["group"], card["house_number"], card["month_points"]) == ("一组", "1号", 0)
    assert [m["name"] for m in card["members"]] == ["张建华", "张小明"]
    assert admin.get("/v/VA/roster/search?q=").get_json() == {"households": []}


def test_roster_pages_keep_to_the_users_village(
    client: FlaskClient, web_world: VillageWorld, web_other_world: VillageWorld
) -> None:
    assert client.get("/v/VA/roster").status_code == 302  # to the login page
    login(client, web_world.users["cashier"])
    assert client.get("/v/VA/roster").status_code == 200
    assert client.get("/v/VB/roster").status_code == 403
    assert client.get("/v/VB/roster/search?q=zjh").status_code == 403
    other_home = web_other_world.households[0].id
    assert client.get(f"/v/VA/roster/{other_home}").status_code == 404
    assert client.get("/v/VA/roster/search?q=zjh").get_json()["households"][0]["id"] == (
        web_world.households[0].id
    )
    # A cashier sees the roster but changes nothing in it.
    assert client.get("/v/VA/roster/new").status_code == 403
    assert client.get("/v/VA/roster/import").status_code == 403
    assert client.post("/v/VA/roster/export").status_code == 403


def test_the_household_page_shows_members_points_and_card_links(
    app: Flask, admin: FlaskClient, web_world: VillageWorld
) -> None:
    page = text(admin.get(f"/v/VA/roster/{web_world.households[0].id}"))
    assert "张小明" in page and "一组" in page and "功德银行" in page
    # Card and passbook pages are linked exactly when their area is installed.
    with app.test_request_context():
        g.village = web_world.village
        links = household_links(web_world.households[0])
    installed = [e for e in ("cards.household", "cards.passbook_pdf") if e in app.view_functions]
    assert len(links) == len(installed)
    assert all(url in page for _label, url in links)


# ---- forms ----


def test_adding_a_household_with_bad_input_says_why_in_chinese_and_changes_nothing(
    app: Flask, admin: FlaskClient
) -> None:
    before = counts(app)
    response = admin.post(
        "/v/VA/roster/new",
        data={"head_name": "王德胜", "group": "一组", "phone": "12345", "key": "a" * 32},
    )
    assert response.status_code == 400
    assert "不是电话号码" in text(response)
    assert counts(app) == before

    both = admin.post(
        "/v/VA/roster/new",
        data={"head_name": "王德胜", "phone": "12345", "head_birth_year": "1850", "key": "e" * 32},
    )
    assert both.status_code == 400
    assert "不是电话号码" in text(both) and "出生年份 1850 不在 1900 到" in text(both)
    assert text(both).count('aria-invalid="true"') == 2
    assert counts(app) == before

    response = admin.post("/v/VA/roster/new", data={"head_name": "", "key": "b" * 32})
    assert response.status_code == 400 and "有几项需要改正" in text(response)
    assert counts(app) == before


def test_adding_a_household_twice_with_one_key_creates_it_once(
    app: Flask, admin: FlaskClient
) -> None:
    form = {
        "head_name": "王德胜",
        "group": "",
        "new_group": "第2组",
        "house_number": "８号",
        "phone": "13900000001",
        "head_gender": "男",
        "head_birth_year": "1958.06",
        "disabled": "y",
        "key": "c" * 32,
    }
    first = admin.post("/v/VA/roster/new", data=form)
    second = admin.post("/v/VA/roster/new", data=form)
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    with app.app_context():
        homes = db.session.scalars(select(Household).where(Household.head_name == "王德胜")).all()
        assert len(homes) == 1
        home = homes[0]
        assert (home.group.name, home.house_number, home.special_needs) == (
            "二组",
            "8号",
            "disabled",
        )
    assert "送货上门" in text(admin.get(first.location))


def test_editing_a_household_with_a_bad_phone_is_refused(
    app: Flask, admin: FlaskClient, web_world: VillageWorld
) -> None:
    home_id = web_world.households[0].id
    before = counts(app)
    response = admin.post(
        f"/v/VA/roster/{home_id}/edit", data={"head_name": "张建国", "phone": "010-1"}
    )
    assert response.status_code == 400 and "010-1" in text(response)
    assert counts(app) == before
    with app.app_context():
        assert db.session.get(Household, home_id).head_name == "张建华"  # type: ignore[union-attr]

    ok = admin.post(
        f"/v/VA/roster/{home_id}/edit",
        data={"head_name": "张建国", "phone": "010-62345678", "elderly_alone": "y"},
    )
    assert ok.status_code == 302
    assert "张建国" in text(admin.get(ok.location))


def test_members_are_added_and_bad_birth_years_refused(
    app: Flask, admin: FlaskClient, web_world: VillageWorld
) -> None:
    home_id = web_world.households[0].id
    before = counts(app)
    bad = admin.post(
        f"/v/VA/roster/{home_id}/members/new",
        data={"name": "张小红", "relation": "女", "birth_year": "1850", "key": "d" * 32},
    )
    assert bad.status_code == 400 and "出生年份 1850 不在 1900 到" in text(bad)
    assert counts(app) == before

    ok = admin.post(
        f"/v/VA/roster/{home_id}/members/new",
        data={
            "name": "张小红",
            "relation": "女",
            "gender": "女",
            "birth_year": "2001.05",
            "key": "d" * 32,
        },
    )
    assert ok.status_code == 302
    assert "张小红" in text(admin.get(ok.location))
    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.name == "张小红"))
        assert member is not None and member.birth_year == 2001
        member_id = member.id
    assert admin.post(f"/v/VA/roster/{home_id}/members/{member_id}/deactivate").status_code == 302
    assert "已不在本户" in text(admin.get(f"/v/VA/roster/{home_id}"))


def test_moving_and_deactivating_a_household(
    app: Flask, admin: FlaskClient, web_world: VillageWorld
) -> None:
    home_id = web_world.households[2].id
    moved = admin.post(f"/v/VA/roster/{home_id}/move", data={"group": "", "new_group": "3组"})
    assert moved.status_code == 302
    assert "三组" in text(admin.get(moved.location))
    gone = admin.post(f"/v/VA/roster/{home_id}/deactivate", data={"reason": "迁出"})
    assert gone.status_code == 302
    with app.app_context():
        home = db.session.get(Household, home_id)
        assert home is not None and not home.active and home.group.name == "三组"  # type: ignore[union-attr]


def test_clerks_may_not_change_households(client: FlaskClient, web_world: VillageWorld) -> None:
    login(client, web_world.users["clerk"])
    home_id = web_world.households[0].id
    assert client.get("/v/VA/roster/new").status_code == 403
    assert client.post(f"/v/VA/roster/{home_id}/deactivate").status_code == 403
    assert client.get("/v/VA/roster/import").status_code == 200


# ---- import and export ----


def upload(client: FlaskClient, data: bytes, name: str = "花名册.csv") -> object:
    return client.post(
        "/v/VA/roster/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_an_uploaded_roster_is_previewed_then_imported_once(
    app: Flask, client: FlaskClient, web_world: VillageWorld
) -> None:
    login(client, web_world.users["clerk"])
    before = counts(app)
    preview = upload(client, GOOD.encode("gbk"))
    page = text(preview)
    assert preview.status_code == 200  # type: ignore[attr-defined]
    assert "导入预览" in page and "王德胜" in page and "张小红" in page
    assert counts(app) == before
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page)
    assert token is not None

    done = client.post("/v/VA/roster/import/confirm", data={"token": token.group(1)})
    assert done.status_code == 302
    after = counts(app)
    assert after["Household"] == before["Household"] + 1
    assert after["Member"] == before["Member"] + 3
    assert "导入完成" in text(client.get(done.location))

    again = client.post("/v/VA/roster/import/confirm", data={"token": token.group(1)})
    assert again.status_code == 302 and again.location.endswith("/v/VA/roster/import")
    assert "已过期或已经导入过" in text(client.get(again.location))
    assert counts(app) == after


def test_an_uploaded_roster_with_errors_lists_them_by_line_and_cannot_be_imported(
    app: Flask, client: FlaskClient, web_world: VillageWorld
) -> None:
    login(client, web_world.users["clerk"])
    before = counts(app)
    page = text(upload(client, BAD.encode("utf-8-sig")))
    assert "第 7 行" in page
    assert "钱小多 的户主 钱多多 在花名册中找不到" in page
    assert "出生年份 1850 不在 1900 到" in page and "“123”不是电话号码" in page
    assert "改正错误之前，无法导入" in page and "import/confirm" not in page
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page)
    assert token is None
    assert counts(app) == before


def test_a_token_from_another_user_is_refused(
    app: Flask, client: FlaskClient, web_world: VillageWorld
) -> None:
    login(client, web_world.users["clerk"])
    page = text(upload(client, GOOD.encode()))
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    client.post("/logout")
    login(client, web_world.users["clerk2"])
    before = counts(app)
    refused = client.post("/v/VA/roster/import/confirm", data={"token": token.group(1)})
    assert refused.status_code == 302 and counts(app) == before


def test_an_unreadable_upload_is_refused_in_chinese(
    client: FlaskClient, web_world: VillageWorld
) -> None:
    login(client, web_world.users["clerk"])
    response = upload(client, b"\xd0\xcf\x11\xe0" + b"\0" * 64, "old.xls")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "旧版 Excel 文件" in text(response)
    missing = client.post("/v/VA/roster/import", data={}, content_type="multipart/form-data")
    assert missing.status_code == 400


def test_the_export_downloads_the_roster_as_a_workbook(
    app: Flask, client: FlaskClient, web_world: VillageWorld
) -> None:
    login(client, web_world.users["clerk"])
    response = client.post("/v/VA/roster/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert [r[2] for r in rows] == ["张建华", "张小明", "李秀兰", "李小明", "欧阳明华", "欧小明"]
    with app.app_context():
        # The export is a POST, so who took the village's personal data is audited.
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster.export"))
        assert event is not None and event.actor_id == web_world.users["clerk"].id
    # The downloaded file imports back with nothing to change.
    page = text(upload(client, response.data, "export.xlsx"))
    assert "导入不会有任何改动" in page


# ---- command line ----


def roster_file(tmp_path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["桃源村花名册"])
    ws.merge_cells("A1:E1")
    ws.append(["组别", "户主姓名", "成员姓名", "与户主关系", "联系电话"])
    for row in rows:
        ws.append(row)
    path = tmp_path / "花名册.xlsx"
    wb.save(path)
    return path


def test_the_cli_previews_with_dry_run_and_then_imports(
    app: Flask, web_world: VillageWorld, tmp_path: Path
) -> None:
    path = roster_file(
        tmp_path,
        [
            ["三组", "王德胜", "王德胜", "户主", "13900000001"],
            ["三组", "王德胜", "王小虎", "子", ""],
        ],
    )
    runner = app.test_cli_runner()
    before = counts(app)

    dry = runner.invoke(args=["import-roster", "--village", "VA", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "新增 1 户" in dry.output and "试运行" in dry.output
    assert counts(app) == before

    real = runner.invoke(args=["import-roster", "--village", "VA", str(path)])
    assert real.exit_code == 0, real.output
    assert "已导入：新增或更新 1 户" in real.output
    assert counts(app)["Member"] == before["Member"] + 2

    again = runner.invoke(args=["import-roster", "--village", "VA", str(path)])
    assert again.exit_code == 0 and "没有任何改动" in again.output


def test_the_cli_refuses_a_roster_with_errors(
    app: Flask, web_world: VillageWorld, tmp_path: Path
) -> None:
    path = roster_file(tmp_path, [["三组", "王德胜", "王小虎", "子", "123"]])
    before = counts(app)
    result = app.test_cli_runner().invoke(args=["import-roster", "--village", "VA", str(path)])
    assert result.exit_code == 2
    assert "3: error [联系电话]" in result.output
    assert "王小虎 的户主 王德胜 在花名册中找不到" in result.output
    assert counts(app) == before
    unknown = app.test_cli_runner().invoke(args=["import-roster", "--village", "NOPE", str(path)])
    assert unknown.exit_code == 2
