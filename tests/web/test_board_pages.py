"""The board pages over HTTP: staff boards, exports, close, policy, kiosk, public pages."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from boards_support import post
from conftest import login
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from credits import cards
from credits.boards.kiosk import create_link, token_for
from credits.boards.policies import Policy, save_policy
from credits.models import AuditEvent, ClosedPeriod, KioskLink, SchemePolicy, Village

DAY = date(2026, 11, 10)


@pytest.fixture
def scored(app, web_world):
    """张建华 25, 李秀兰 20 with a red-line-free deduction, 欧阳明华 10, in Nov 2026."""
    with app.app_context():
        post(db.session, web_world, 0, "XL01", times=2)
        post(db.session, web_world, 0, "LL01", member=1)
        post(db.session, web_world, 1, "JY02", times=2)
        post(db.session, web_world, 1, "LL01")
        post(db.session, web_world, 1, "KF01")
        post(db.session, web_world, 2, "YF01")
    return web_world


def _board(client, **params):  # noqa: ANN001, ANN003, ANN202
    params.setdefault("period", "2026-11")
    return client.get("/v/VA/boards", query_string=params)


def test_staff_board_ranks_households_by_points_earned(client, scored) -> None:
    login(client, scored.users["clerk"])
    page = _board(client).get_data(as_text=True)
    names = [page.index(n) for n in ("张建华", "李秀兰", "欧阳明华")]
    assert names == sorted(names)
    assert "1 次扣分" in page or "1 deductions" in page


def test_member_board_lists_the_member_who_did_the_deed(client, scored) -> None:
    login(client, scored.users["clerk"])
    page = _board(client, who="members").get_data(as_text=True)
    assert "张小明" in page


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_carry_the_same_numbers_as_the_page(client, scored, fmt: str) -> None:
    login(client, scored.users["clerk"])
    response = client.get(f"/v/VA/boards.{fmt}", query_string={"period": "2026-11"})
    assert response.status_code == 200
    if fmt == "csv":
        raw = response.data
        assert raw.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(response.data)).active
        rows = [
            [c if not hasattr(c, "isoformat") else c.date().isoformat() for c in r]
            for r in sheet.iter_rows(values_only=True)
        ]
    body = [(str(r[0]), r[1], str(r[4])) for r in rows[1:]]
    assert body == [("1", "张建华", "25"), ("2", "李秀兰", "20"), ("3", "欧阳明华", "10")]
    assert str(rows[1][9]) == "2026-11-01" and str(rows[1][10]) == "2026-11-30"


@pytest.mark.parametrize(
    "params",
    [
        {"period": "2026-11\x00"},
        {"group": "1" * 20},
        {"group": "abc"},
        {"scheme": "nope"},
        {"category": "x\x00"},
        {"kind": "decade"},
        {"who": "\x00"},
        {"period": "9" * 20},
        {"category": "不存在"},
    ],
)
def test_hostile_filters_get_a_4xx_never_a_500(client, scored, params) -> None:  # noqa: ANN001
    login(client, scored.users["clerk"])
    assert _board(client, **params).status_code in (400, 404)
    public = client.get("/p/VA/boards", query_string=params)
    assert public.status_code in (400, 404)


def test_public_board_shows_full_names_and_no_black_board_by_default(client, scored) -> None:
    page = client.get("/p/VA/boards", query_string={"period": "2026-11"}).get_data(as_text=True)
    assert "张建华" in page and "<script" not in page
    assert "焚烧秸秆" not in page
    assert client.get("/p/VA/boards", query_string={"who": "members"}).status_code == 400
    assert client.get("/p/NOPE/boards").status_code == 404


def test_black_board_when_switched_on_names_masked_and_the_rule_only(app, client, scored) -> None:
    login(client, scored.users["admin"])
    response = client.post(
        f"/v/VA/schemes/{scored.scheme.id}/policy",
        data={
            "base_score": "100",
            "reset": "carry",
            "star_kind": "none",
            "black_board": "y",
            "mask_red_names": "y",
            "adopted_on": "2026-03-15",
            "groups": "整洁: HJ01, HJ02",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get("/p/VA/boards", query_string={"period": "2026-11"}).get_data(as_text=True)
    assert "焚烧秸秆" in page and "李*兰" in page and "李秀兰" not in page
    assert "张*华" in page
    with app.app_context():
        assert db.session.scalar(select(SchemePolicy.base_score)) == 100
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "scheme.policy"))
    rules = client.get("/p/VA/rules").get_data(as_text=True)
    assert "2026年3月15日" in rules and "照顾年迈父母" in rules


def test_policy_page_refuses_bad_values_and_clerks(client, scored) -> None:
    login(client, scored.users["admin"])
    url = f"/v/VA/schemes/{scored.scheme.id}/policy"
    bad = client.post(
        url,
        data={"base_score": "0", "reset": "carry", "star_kind": "score", "star_levels": "100, 50"},
    )
    assert bad.status_code == 400
    bad = client.post(
        url,
        data={
            "base_score": "0",
            "reset": "carry",
            "star_kind": "none",
            "groups": "一组: NOPE1, NOPE2",
        },
    )
    assert bad.status_code == 400
    client.post("/logout")
    login(client, scored.users["clerk"])
    assert client.get(url).status_code == 403


def test_admin_closes_a_period_and_downloads_both_honour_rolls(app, client, scored) -> None:
    login(client, scored.users["admin"])
    assert client.post("/v/VA/boards/close", data={"period": "2026-13"}).status_code == 400
    response = client.post("/v/VA/boards/close", data={"period": "2026-10"})
    assert response.status_code == 302
    with app.app_context():
        closed = db.session.scalar(select(ClosedPeriod))
    for size in ("a3", "a4"):
        pdf = client.get(f"/v/VA/boards/closed/{closed.id}/honour-roll.pdf?size={size}")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"/v/VA/boards/closed/{closed.id}/honour-roll.pdf?size=a0").status_code == 404
    assert client.get("/v/VA/boards/closed/99999999999999999999/honour-roll.pdf").status_code == 404
    assert "2026-10" in client.get("/v/VA/boards/close").get_data(as_text=True)


def test_certificate_for_a_household_of_the_village_only(client, scored, web_other_world) -> None:
    login(client, scored.users["clerk"])
    home = scored.households[0].id
    ok = client.get(f"/v/VA/boards/certificate.pdf?household={home}&title=most_beautiful")
    assert ok.status_code == 200 and ok.data.startswith(b"%PDF")
    huge = "9" * 20
    assert client.get(f"/v/VA/boards/certificate.pdf?household={huge}&title=x").status_code == 404
    assert "最美家庭" in client.get("/v/VA/boards?period=2026-11").get_data(as_text=True)
    other = web_other_world.households[0].id
    assert (
        client.get(
            f"/v/VA/boards/certificate.pdf?household={other}&title=most_beautiful"
        ).status_code
        == 404
    )
    assert client.get(f"/v/VA/boards/certificate.pdf?household={home}&title=x").status_code == 400


def test_kiosk_link_opens_the_tv_page_until_revoked(app, client, scored) -> None:
    login(client, scored.users["admin"])
    assert client.post("/v/VA/kiosk-links", data={"label": ""}).status_code == 400
    assert client.post("/v/VA/kiosk-links", data={"label": "大会堂电视"}).status_code == 302
    page = client.get("/v/VA/kiosk-links").get_data(as_text=True)
    url = re.search(r'href="(/p/VA/kiosk/[^"]+)"', page)[1]
    client.post("/logout")
    tv = client.get(url)
    assert tv.status_code == 200 and "桃源村" in tv.get_data(as_text=True)
    assert 'http-equiv="refresh"' in tv.get_data(as_text=True)
    assert client.get(url + "?slide=" + "9" * 20).status_code == 200
    assert client.get(url[:-3] + "000").status_code == 404
    assert client.get("/p/VA/kiosk/1.\x00").status_code == 404
    with app.app_context():
        link = db.session.scalar(select(KioskLink))
        other = Village(name="x", code="VX", card_secret="ab" * 32)
        assert token_for(other, link) != url.rsplit("/", 1)[1]  # the key is the village's
    login(client, scored.users["admin"])
    client.post(f"/v/VA/kiosk-links/{link.id}/revoke")
    client.post("/logout")
    assert client.get(url).status_code == 404


def test_public_pages_are_linked_from_the_passbook_and_the_notice(client, scored) -> None:
    notice = client.get("/p/VA/notice").get_data(as_text=True)
    assert "/p/VA/boards" in notice and "/p/VA/rules" in notice


def test_passbook_shows_stars_badges_standing_and_links(app, client, scored) -> None:
    with app.app_context():
        save_policy(
            db.session,
            actor=db.session.get(type(scored.users["admin"]), scored.users["admin"].id),
            scheme_id=scored.scheme.id,
            policy=Policy(base_score=100, threshold=120, star_kind="score", star_levels=(10, 20)),
        )
        home = db.session.get(type(scored.households[0]), scored.households[0].id)
        token = cards.token_for(home)
    page = client.get(f"/c/{token}").get_data(as_text=True)
    assert "/p/VA/boards" in page and "/p/VA/rules" in page
    assert "★★" in page  # 25 points in 2026: two star levels reached
    assert "首次获分" in page


def test_honour_roll_command_prints_a_closed_period(app, client, scored, tmp_path) -> None:
    login(client, scored.users["admin"])
    client.post("/v/VA/boards/close", data={"period": "2026-10"})
    runner = app.test_cli_runner()
    out = tmp_path / "roll.pdf"
    args = ["honour-roll", "--village", "VA", "--scheme", "merit_bank", "--out", str(out)]
    result = runner.invoke(args=[*args, "--period", "2026-10", "--size", "a4"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    refused = runner.invoke(args=[*args, "--period", "2026-09"])
    assert refused.exit_code == 2 and "尚未结账" in refused.output
    cert = tmp_path / "cert.pdf"
    home = str(scored.households[0].id)
    result = runner.invoke(
        args=[
            "certificate",
            "--village",
            "VA",
            "--household",
            home,
            "--title",
            "good_tradition",
            "--out",
            str(cert),
        ]
    )
    assert result.exit_code == 0 and cert.read_bytes().startswith(b"%PDF")


def test_the_kiosk_shows_the_shops_new_stock(app, client, scored) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))
    from shop_support import stocked_item

    with app.app_context():
        stocked_item(
            db.session, scored.users["cashier"], scored.village.id, name="菜籽油", price=85
        )
        link = create_link(
            db.session, actor=scored.users["admin"], village_id=scored.village.id, label="大厅"
        )
        db.session.commit()
        url = f"/p/VA/kiosk/{token_for(scored.village, link)}"
    tv = client.get(url).get_data(as_text=True)
    assert "超市新到" in tv and "菜籽油" in tv and "85分" in tv
