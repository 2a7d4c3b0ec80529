"""Staff card pages: sheets, a household's card, reissue, revoke, scanning, the CLI."""

from __future__ import annotations

import subprocess

import pytest
from conftest import login, new_claim
from sqlalchemy import select

from app.extensions import db
from credits import cards
from credits.models import AuditEvent, Household


def _household(app, household_id: int) -> Household:
    with app.app_context():
        household = db.session.get(Household, household_id)
        db.session.expunge(household)
        return household


def _card_url(app, household_id: int, base: str = "http://192.168.1.10:5000") -> str:
    with app.app_context():
        return cards.issue_url(base, db.session.get(Household, household_id))


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


# ---- scanning ---------------------------------------------------------------------------


def test_scanning_a_card_returns_the_household(app, client, web_world):
    login(client, web_world.users["clerk"])
    household = web_world.households[1]
    response = client.get("/v/VA/cards/resolve", query_string={"u": _card_url(app, household.id)})
    assert response.status_code == 200
    body = response.get_json()["household"]
    assert body["id"] == household.id and body["head_name"] == "李秀兰"
    assert body["house_number"] == "2号" and body["group"] == "一组"
    assert body["month_points"] == 0
    assert [m["name"] for m in body["members"]] == ["李秀兰", "李小明"]


def test_typing_the_card_number_finds_the_household(app, client, web_world):
    login(client, web_world.users["clerk"])
    household = _household(app, web_world.households[0].id)
    number = f"VA-{household.id:04d}-1"
    body = client.get("/v/VA/cards/resolve", query_string={"u": number}).get_json()
    assert body["household"]["id"] == household.id


def test_replaced_and_revoked_cards_get_a_clear_message(app, client, web_world):
    login(client, web_world.users["clerk"])
    first, second = web_world.households[0], web_world.households[1]
    old = _card_url(app, first.id)
    client.post(f"/v/VA/households/{first.id}/card/reissue", data={"expected_version": "1"})
    response = client.get("/v/VA/cards/resolve", query_string={"u": old})
    assert response.status_code == 410
    assert response.get_json()["error"] == "这张卡已被新卡取代，请使用该户的新卡。"
    url = _card_url(app, second.id)
    client.post(f"/v/VA/households/{second.id}/card/revoke", data={"reason": "丢失"})
    response = client.get("/v/VA/cards/resolve", query_string={"u": url})
    assert response.status_code == 410 and "作废" in response.get_json()["error"]


def test_another_villages_card_is_not_found(app, client, web_world, web_other_world):
    login(client, web_world.users["clerk"])
    url = _card_url(app, web_other_world.households[0].id)
    response = client.get("/v/VA/cards/resolve", query_string={"u": url})
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "本村没有这张卡，请核对后重试。",
        "status": "invalid",
    }


@pytest.mark.parametrize(("text", "status"), [("", 400), ("   ", 400), ("garbage", 404)])
def test_empty_or_garbled_scans_are_refused(client, web_world, text, status):
    login(client, web_world.users["clerk"])
    response = client.get("/v/VA/cards/resolve", query_string={"u": text})
    assert response.status_code == status and response.get_json()["error"]


def test_scanning_needs_a_login(app, client, web_world):
    url = _card_url(app, web_world.households[0].id)
    response = client.get("/v/VA/cards/resolve", query_string={"u": url})
    assert response.status_code == 302 and "/login" in response.location


def test_the_scan_page_works_without_javascript(app, client, web_world):
    login(client, web_world.users["cashier"])
    page = client.get("/v/VA/cards/scan")
    assert page.status_code == 200 and "data-scanner" in page.get_data(as_text=True)
    url = _card_url(app, web_world.households[2].id)
    html = client.get("/v/VA/cards/scan", query_string={"u": url}).get_data(as_text=True)
    assert "欧阳明华" in html and f"/v/VA/households/{web_world.households[2].id}/card" in html
    missing = client.get("/v/VA/cards/scan", query_string={"u": "nonsense"})
    assert missing.status_code == 404 and "本村没有这张卡" in missing.get_data(as_text=True)


# ---- a household's card ----------------------------------------------------------------


def test_the_card_page_shows_number_state_and_qr(app, client, web_world):
    login(client, web_world.users["clerk"])
    household = web_world.households[0]
    html = client.get(f"/v/VA/households/{household.id}/card").get_data(as_text=True)
    assert f"VA-{household.id:04d}-1" in html
    assert "卡有效" in html and "<svg" in html
    assert "补办新卡" in html and "作废这张卡" in html and "打印这张卡" in html


def test_another_villages_household_card_is_not_found(client, web_world, web_other_world):
    login(client, web_world.users["clerk"])
    household = web_other_world.households[0]
    assert client.get(f"/v/VA/households/{household.id}/card").status_code == 404
    response = client.post(f"/v/VA/households/{household.id}/card/revoke", data={})
    assert response.status_code == 404


def test_reissue_from_the_page_is_idempotent_and_audited(app, client, web_world):
    login(client, web_world.users["clerk"])
    household = web_world.households[0]
    for _ in range(2):  # a double tap
        response = client.post(
            f"/v/VA/households/{household.id}/card/reissue",
            data={"expected_version": "1", "reason": "卡片损坏"},
        )
        assert response.status_code == 302
    assert _household(app, household.id).card_version == 2
    page = client.get(response.location).get_data(as_text=True)
    assert f"VA-{household.id:04d}-2" in page
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "card.reissue")
        ).all()
        assert len(events) == 1 and events[0].after["reason"] == "卡片损坏"


def test_a_reviewer_may_not_reissue_or_revoke(app, client, web_world):
    login(client, web_world.users["reviewer"])
    household = web_world.households[0]
    page = client.get(f"/v/VA/households/{household.id}/card").get_data(as_text=True)
    assert "补办新卡" not in page
    response = client.post(
        f"/v/VA/households/{household.id}/card/reissue", data={"expected_version": "1"}
    )
    assert response.status_code == 403
    assert client.post(f"/v/VA/households/{household.id}/card/revoke").status_code == 403
    state = _household(app, household.id)
    assert (state.card_version, state.card_revoked) == (1, False)


def test_a_too_long_reason_is_refused_and_changes_nothing(app, client, web_world):
    login(client, web_world.users["clerk"])
    household = web_world.households[0]
    response = client.post(
        f"/v/VA/households/{household.id}/card/revoke", data={"reason": "长" * 201}
    )
    assert response.status_code == 400
    assert not _household(app, household.id).card_revoked


# ---- printing ------------------------------------------------------------------------


def test_the_card_sheet_page_and_download(client, web_world, tmp_path):
    login(client, web_world.users["clerk"])
    html = client.get("/v/VA/cards").get_data(as_text=True)
    assert "共 3 张卡，1 页" in html
    response = client.get("/v/VA/cards/sheet.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data, tmp_path)
    assert all(name in text for name in ("张建华", "李秀兰", "欧阳明华", "扫码查看本户积分存折"))


def test_a_cashier_may_not_print_cards(client, web_world):
    login(client, web_world.users["cashier"])
    assert client.get("/v/VA/cards").status_code == 403
    assert client.get("/v/VA/cards/sheet.pdf").status_code == 403


def test_a_revoked_card_is_left_out_and_cannot_be_reprinted(app, client, web_world):
    login(client, web_world.users["clerk"])
    household = web_world.households[1]
    client.post(f"/v/VA/households/{household.id}/card/revoke", data={})
    html = client.get("/v/VA/cards").get_data(as_text=True)
    assert "共 2 张卡" in html and "李秀兰：卡已作废，未打印" in html
    response = client.get(f"/v/VA/households/{household.id}/card.pdf")
    assert response.status_code == 400
    assert "请先补办新卡再打印" in response.get_data(as_text=True)


def test_a_deactivated_households_card_is_not_printed(app, client, web_world):
    household = web_world.households[2]
    with app.app_context():
        db.session.get(Household, household.id).active = False
        db.session.commit()
    login(client, web_world.users["clerk"])
    assert "共 2 张卡" in client.get("/v/VA/cards").get_data(as_text=True)
    response = client.get(f"/v/VA/households/{household.id}/card.pdf")
    assert response.status_code == 400 and "该户已停用" in response.get_data(as_text=True)


def test_the_printed_passbook_download(app, client, web_world, tmp_path):
    with app.app_context():
        new_claim(db.session, web_world, household=0, approve_by="reviewer")
    login(client, web_world.users["clerk"])
    household = web_world.households[0]
    response = client.get(
        f"/v/VA/households/{household.id}/passbook.pdf",
        query_string={"from": "2026-01-01", "to": "2026-12-31"},
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data, tmp_path)
    assert "积分存折" in text and "张建华" in text and "上期结余" in text and "本期结余" in text
    bad = client.get(
        f"/v/VA/households/{household.id}/passbook.pdf", query_string={"from": "2026-13-45"}
    )
    assert bad.status_code == 400 and "2026-01-31" in bad.get_data(as_text=True)
    backwards = client.get(
        f"/v/VA/households/{household.id}/passbook.pdf",
        query_string={"from": "2026-05-01", "to": "2026-01-01"},
    )
    assert backwards.status_code == 400 and "开始日期不能晚于结束日期" in backwards.get_data(
        as_text=True
    )


# ---- the command line ----------------------------------------------------------------


def test_print_cards_command(app, web_world, tmp_path):
    out = tmp_path / "cards.pdf"
    result = app.test_cli_runner().invoke(
        args=[
            "print-cards",
            "--village",
            "VA",
            "--group",
            "一组",
            "--base-url",
            "http://192.168.1.10:5000",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "3 张卡，共 1 页" in result.output
    decoded = subprocess.run(
        f"pdftoppm -r 150 -png {out} {tmp_path}/p && zbarimg --raw -q {tmp_path}/p-1.png",
        shell=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert len(decoded) == 3 and all(u.startswith("http://192.168.1.10:5000/c/") for u in decoded)
    single = app.test_cli_runner().invoke(
        args=[
            "print-cards",
            "--village",
            "VA",
            "--household",
            str(web_world.households[0].id),
            "--out",
            str(tmp_path / "one.pdf"),
        ]
    )
    assert single.exit_code == 0 and "1 张卡，共 1 页" in single.output
    unknown = app.test_cli_runner().invoke(
        args=["print-cards", "--village", "NO", "--out", str(out)]
    )
    assert unknown.exit_code == 2


def test_passbook_command(app, web_world, tmp_path):
    out = tmp_path / "passbook.pdf"
    result = app.test_cli_runner().invoke(
        args=["passbook", "--household", str(web_world.households[2].id), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "欧阳明华" in _pdf_text(out.read_bytes(), tmp_path)
    bad = app.test_cli_runner().invoke(
        args=["passbook", "--household", "1", "--from", "yesterday", "--out", str(out)]
    )
    assert bad.exit_code == 2
