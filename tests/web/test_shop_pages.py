"""The shop's pages through the test client: the counter as a plain form, hostile input,
scope, the public catalogue, settings, exports and the shop-report command."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from conftest import login
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from credits.cards import card_number
from credits.models import Household, Redemption, ShopItem

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))
from shop_support import give_points, stocked_item  # noqa: E402


@pytest.fixture
def soap(app, web_world) -> int:
    with app.app_context():
        give_points(
            db.session, db.session.get(Household, web_world.households[0].id), web_world.scheme, 50
        )
        return stocked_item(db.session, web_world.users["cashier"], web_world.village.id).id


def stock(app, item_id: int) -> int:
    with app.app_context():
        return db.session.get(ShopItem, item_id).stock


def redemptions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Redemption.id)))


def test_the_counter_works_as_a_plain_form_and_a_retry_redeems_once(client, app, web_world, soap):
    login(client, web_world.users["cashier"])
    home = web_world.households[0]
    with app.app_context():
        number = card_number(db.session.get(Household, home.id))
    page = client.get(f"/v/VA/shop?u={number}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "张建华" in text and "各方案积分分别使用" in text and "1 分折合 1 元" in text
    form = {"household": home.id, f"qty-{soap}": "3", "key": "tap-1"}
    first = client.post("/v/VA/shop/redeem", data=form)
    second = client.post("/v/VA/shop/redeem", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert redemptions(app) == 1 and stock(app, soap) == 7
    receipt = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "兑换后可用积分" in receipt and ">35<" in receipt


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("qty", "\x00"),
        ("qty", "1" * 20),
        ("qty", "-3"),
        ("household", "9" * 20),
        ("household", "\x00"),
        ("key", ""),
        ("scheme", "9" * 20),
    ],
)
def test_hostile_counter_input_gets_a_clear_message_and_changes_nothing(
    client, app, web_world, soap, field, value
):
    login(client, web_world.users["cashier"])
    form = {"household": str(web_world.households[0].id), f"qty-{soap}": "1", "key": "k-hostile"}
    if field == "qty":
        form[f"qty-{soap}"] = value
    else:
        form[field] = value
    response = client.post("/v/VA/shop/redeem", data=form)
    if field == "scheme":
        # An unknown scheme pays nothing: a clear refusal, not a server error.
        assert response.status_code in (303, 400, 409)
    else:
        assert 400 <= response.status_code < 500
        # A control character is refused by the input gate before the counter reads the form.
        shown = "控制字符" if "\x00" in value else 'class="flash flash-error"'
        assert shown in response.get_data(as_text=True)
        assert redemptions(app) == 0 and stock(app, soap) == 10


def test_another_villages_household_and_receipt_are_not_found(
    client, app, web_world, web_other_world, soap
):
    login(client, web_world.users["cashier"])
    stranger = web_other_world.households[0].id
    assert client.get(f"/v/VA/shop?household={stranger}").status_code == 404
    posted = client.post(
        "/v/VA/shop/redeem", data={"household": stranger, f"qty-{soap}": "1", "key": "x"}
    )
    assert posted.status_code == 404
    assert client.get("/v/VA/shop/r/999999").status_code == 404
    assert client.get("/v/VB/shop").status_code == 403


def test_only_shop_roles_open_the_counter_and_the_tab_shows_for_them(client, web_world):
    login(client, web_world.users["clerk"])
    assert client.get("/v/VA/shop").status_code == 403
    assert "超市" not in client.get("/v/VA/").get_data(as_text=True).split("tabbar")[-1]
    client.post("/logout")
    login(client, web_world.users["cashier"])
    assert ">超市<" in client.get("/v/VA/").get_data(as_text=True)


def test_the_public_catalogue_needs_no_login_and_hides_anonymous_donors(client, app, web_world):
    from credits.shop.stock import StockIn, stock_in

    with app.app_context():
        item = stocked_item(
            db.session, web_world.users["cashier"], web_world.village.id, quantity=0
        )
        for name, anonymous in [("青山爱心超市", False), ("不愿具名的乡贤", True)]:
            stock_in(
                db.session,
                actor=web_world.users["cashier"],
                village_id=web_world.village.id,
                data=StockIn(item.id, 5, "donor", donor_name=name, anonymous=anonymous),
            )
    page = client.get("/p/VA/shop").get_data(as_text=True)
    assert "香皂" in page and "有货：10" in page
    assert "青山爱心超市" in page and "不愿具名的乡贤" not in page and "爱心人士（匿名）" in page
    assert client.get("/p/NOPE/shop").status_code == 404
    assert client.get("/p/VA/shop/items/999/photo").status_code == 404


def test_settings_are_shown_to_the_cashier_and_changed_by_an_admin(client, web_world):
    login(client, web_world.users["cashier"])
    assert "各方案积分分别使用" in client.get("/v/VA/shop/settings").get_data(as_text=True)
    assert client.post("/v/VA/shop/settings", data={"balance_mode": "shared"}).status_code == 403
    client.post("/logout")
    login(client, web_world.users["admin"])
    bad = client.post(
        "/v/VA/shop/settings", data={"balance_mode": "shared", "yuan_per_point": "1" * 20}
    )
    assert bad.status_code == 400
    ok = client.post(
        "/v/VA/shop/settings",
        data={"balance_mode": "shared", "yuan_per_point": "0.5", "donors_public": "1"},
    )
    assert ok.status_code == 303
    assert "1 分折合 0.5 元" in client.get("/v/VA/shop").get_data(as_text=True)


def test_hostile_stock_and_catalogue_forms_are_refused(client, app, web_world, soap):
    login(client, web_world.users["cashier"])
    for data in [
        {"action": "in", "item": soap, "quantity": "9" * 20, "source": "township"},
        {"action": "in", "item": soap, "quantity": "5", "source": "donor", "donor": "\x00"},
        {"action": "adjust", "item": soap, "quantity": "99", "reason": "丢失", "direction": "out"},
        {"action": "adjust", "item": "9" * 20, "quantity": "1", "reason": "x"},
    ]:
        response = client.post("/v/VA/shop/stock", data=data)
        assert 400 <= response.status_code < 500, data
    assert stock(app, soap) == 10
    response = client.post(
        "/v/VA/shop/items", data={"name": "\x00", "unit": "块", "price": "1" * 20}
    )
    assert response.status_code == 400
    assert client.get("/v/VA/shop/report?month=2026-13").status_code == 200  # flashed, this month
    assert client.get("/v/VA/shop/report.doc").status_code == 404


def test_exports_and_the_shop_report_command(client, app, web_world, soap, tmp_path):
    login(client, web_world.users["cashier"])
    xlsx = client.get("/v/VA/shop/report.xlsx?month=2026-11")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert any(row[0] == "香皂" for row in sheet.iter_rows(values_only=True))
    assert client.get("/v/VA/shop/report.pdf").data[:5] == b"%PDF-"
    assert client.get("/v/VA/shop/labels.pdf").data[:5] == b"%PDF-"
    assert client.get("/v/VA/shop/delivery.pdf").data[:5] == b"%PDF-"
    runner = app.test_cli_runner()
    out = tmp_path / "report.xlsx"
    result = runner.invoke(
        args=["shop-report", "--village", "VA", "--month", "2026-11", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "未兑积分" in result.output and out.stat().st_size > 1000
    bad = runner.invoke(
        args=["shop-report", "--village", "VA", "--month", "11/2026", "--out", str(out)]
    )
    assert bad.exit_code == 2


def test_a_later_cancel_on_the_receipt_page_asks_for_the_second_person(
    client, app, web_world, soap
):
    from datetime import timedelta

    from conftest import PASSWORD

    from credits.db import utcnow
    from credits.shop.redemption import redeem

    with app.app_context():
        r = redeem(
            db.session,
            actor=web_world.users["cashier"],
            household_id=web_world.households[0].id,
            lines=[(soap, 2)],
            idempotency_key="old",
            now=utcnow() - timedelta(days=3),
        )
        rid = r.id
    login(client, web_world.users["cashier"])
    page = client.get(f"/v/VA/shop/r/{rid}").get_data(as_text=True)
    assert "第二人账号" in page
    alone = client.post(
        f"/v/VA/shop/r/{rid}/cancel", data={"reason": "退货"}, follow_redirects=True
    )
    assert "须由第二人" in alone.get_data(as_text=True) and stock(app, soap) == 8
    wrong = {
        "reason": "退货",
        "second_username": web_world.users["clerk"].username,
        "second_password": PASSWORD,
    }
    assert "无权确认撤销" in client.post(
        f"/v/VA/shop/r/{rid}/cancel", data=wrong, follow_redirects=True
    ).get_data(as_text=True)
    right = {**wrong, "second_username": web_world.users["reviewer"].username}
    done = client.post(f"/v/VA/shop/r/{rid}/cancel", data=right, follow_redirects=True)
    assert "兑换已撤销" in done.get_data(as_text=True) and stock(app, soap) == 10
