"""The township view, the integrity report and the proposal pages over HTTP."""

from __future__ import annotations

import pytest
from conftest import build_township, login, new_claim
from sqlalchemy import func, select

from app.extensions import db
from credits import cards
from credits.clock import today
from credits.models import Claim, Proposal
from credits.oversight.exports import read_xlsx


@pytest.fixture
def town(app):
    with app.app_context():
        return build_township(db.session)


def test_the_township_view_shows_its_own_villages_and_charts(client, town):
    login(client, town.admin)
    page = client.get("/region/?period=2026-11")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "桃源村" in text and "梨园村" in text and "杏花村" not in text
    assert text.count("<svg") == 2
    assert 'href="/v/VA/boards"' in text  # drill down to the village's boards


@pytest.mark.parametrize(
    "query",
    [
        "period=2026-13",
        "period=%00",
        "period=" + "9" * 20,
        "sort=evil",
        "page=99999999999999999999",
        "per_page=-5",
        "sort=%00",
    ],
)
def test_hostile_township_queries_are_answered_without_a_server_error(client, town, query):
    login(client, town.admin)
    response = client.get(f"/region/?{query}")
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        page = response.get_data(as_text=True)
        assert "期间" in page or "排序" in page or "控制字符" in page


@pytest.mark.parametrize("role", ["clerk", "reviewer", "admin"])
def test_village_staff_get_403_from_the_township_view(client, town, role):
    login(client, town.a.users[role])
    assert client.get("/region/").status_code == 403
    assert client.get("/region/villages.xlsx").status_code == 403


def test_the_township_export_has_the_numbers_of_the_page(client, town):
    login(client, town.admin)
    book = read_xlsx(client.get("/region/villages.xlsx?period=2026-11").data)
    (sheet,) = book.values()
    assert sheet[1][4:8] == [6, 3, 50.0, 25]
    page = client.get("/region/?period=2026-11").get_data(as_text=True)
    assert '<td class="num">50.0</td>' in page
    csv = client.get("/region/villages.csv?period=2026-11").get_data(as_text=True)
    assert csv.startswith("\ufeff") and "2026-11-18" in csv


@pytest.fixture
def reviewed(app, town):
    with app.app_context():
        for household in (0, 1, 0):
            new_claim(db.session, town.a, rule="JY01", household=household, approve_by="reviewer")
    return town


def test_the_integrity_report_hides_the_readers_own_rows(client, reviewed):
    login(client, reviewed.a.users["reviewer"])
    text = client.get("/v/VA/integrity?period=2026-11").get_data(as_text=True)
    assert '">桃源村clerk</td>' in text
    assert '">桃源村reviewer</td>' not in text
    csv = client.get("/v/VA/integrity.csv?period=2026-11").get_data(as_text=True)
    assert csv.startswith("\ufeff") and "桃源村clerk" in csv and "桃源村reviewer" not in csv
    client.post("/logout")
    login(client, reviewed.a.users["admin"])
    text = client.get("/v/VA/integrity?period=2026-11").get_data(as_text=True)
    assert '">桃源村reviewer</td>' in text


def test_the_integrity_xlsx_reads_back(client, reviewed):
    login(client, reviewed.admin)
    book = read_xlsx(client.get("/v/VA/integrity.xlsx?period=2026-11").data)
    recorders = book["录入员"]
    assert recorders[1][:3] == ["桃源村clerk", 3, 15]


@pytest.mark.parametrize(("who", "status"), [("clerk", 403), ("cashier", 403)])
def test_clerks_may_not_open_the_integrity_report(client, reviewed, who, status):
    login(client, reviewed.a.users[who])
    assert client.get("/v/VA/integrity").status_code == status
    assert client.get("/v/VA/integrity.xlsx").status_code == status


def test_another_townships_admin_gets_403_from_the_report(client, reviewed):
    login(client, reviewed.other_admin)
    assert client.get("/v/VA/integrity").status_code == 403
    login(client, reviewed.admin)
    assert client.get("/v/VA/integrity?period=2026-Q4").status_code == 200
    assert client.get("/v/VA/integrity?period=2026-Q9").status_code == 400


# ---- proposals ----------------------------------------------------------------------


def _token(app, world, household=0):
    with app.app_context():
        return cards.token_for(
            db.session.get(type(world.households[0]), world.households[household].id)
        )


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)))


def _send(client, token, **fields):
    data = {"rule": "", "deed_date": today().isoformat(), "note": "", "name": "", "phone": ""}
    data.update(fields)
    return client.post(f"/c/{token}/propose", data=data)


def test_a_villager_proposes_from_the_passbook_and_sees_the_state(app, client, web_world):
    token = _token(app, web_world)
    passbook = client.get(f"/c/{token}").get_data(as_text=True)
    assert f"/c/{token}/propose" in passbook
    form = client.get(f"/c/{token}/propose")
    assert form.status_code == 200 and web_world.rule("JY01").title in form.get_data(as_text=True)
    # A control character is refused by the input gate, with nothing stored; the plain
    # note then goes through.
    refused = _send(client, token, rule=str(web_world.rule("JY01").id), note="拾到钱包\x00")
    assert refused.status_code == 400 and "控制字符" in refused.get_data(as_text=True)
    sent = _send(client, token, rule=str(web_world.rule("JY01").id), note="拾到钱包")
    assert sent.status_code == 302
    passbook = client.get(f"/c/{token}").get_data(as_text=True)
    assert "等待录入员处理" in passbook


@pytest.mark.parametrize(
    ("rule", "deed", "status"),
    [
        ("99999999999999999999", None, 404),
        ("other", None, 404),
        ("abc", None, 400),
        ("", None, 400),
        ("\x00", None, 400),
        ("JY01", "\x00", 400),
        ("JY01", "2026-02-30", 400),
        ("JY01", "9" * 20, 400),
        ("KF03", None, 400),
    ],
)
def test_hostile_proposals_are_refused_without_a_server_error(
    app, client, web_world, web_other_world, rule, deed, status
):
    token = _token(app, web_world)
    if rule == "other":
        rule = str(web_other_world.rule("JY01").id)
    elif rule in web_world.rules:
        rule = str(web_world.rule(rule).id)
    fields = {"rule": rule}
    if deed is not None:
        fields["deed_date"] = deed
    assert _send(client, token, **fields).status_code == status
    assert _count(app, Proposal) == 0


def test_a_bad_card_opens_no_proposal_form(client, web_world):
    assert client.get("/c/not-a-token/propose").status_code == 404
    assert client.post("/c/not-a-token/propose", data={"rule": "1"}).status_code == 404


def test_the_clerk_confirms_once_and_declines_with_a_reason(app, client, web_world):
    token = _token(app, web_world)
    for _ in range(2):
        _send(client, token, rule=str(web_world.rule("JY01").id), note="帮忙")
    with app.app_context():
        first, second = db.session.scalars(select(Proposal.id).order_by(Proposal.id)).all()
    login(client, web_world.users["clerk"])
    queue = client.get("/v/VA/proposals")
    assert queue.status_code == 200 and "帮忙" in queue.get_data(as_text=True)
    assert client.post(f"/v/VA/proposals/{first}/confirm").status_code == 302
    again = client.post(f"/v/VA/proposals/{first}/confirm", follow_redirects=True)
    assert "已经被确认或退回" in again.get_data(as_text=True)
    assert _count(app, Claim) == 1
    client.post(f"/v/VA/proposals/{second}/decline", data={"reason": "查无此事"})
    passbook = client.get(f"/c/{token}").get_data(as_text=True)
    assert "查无此事" in passbook and "已录入" in passbook
    assert client.post("/v/VA/proposals/99999999999999999999/confirm").status_code == 404


def test_reviewers_and_other_villages_cannot_decide_proposals(
    app, client, web_world, web_other_world
):
    token = _token(app, web_world)
    _send(client, token, rule=str(web_world.rule("JY01").id))
    with app.app_context():
        pid = db.session.scalar(select(Proposal.id))
    login(client, web_world.users["reviewer"])
    assert client.get("/v/VA/proposals").status_code == 403
    assert client.post(f"/v/VA/proposals/{pid}/confirm").status_code == 403
    client.post("/logout")
    login(client, web_other_world.users["clerk"])
    assert client.post(f"/v/VB/proposals/{pid}/confirm").status_code == 404
    assert client.post(f"/v/VA/proposals/{pid}/confirm").status_code == 403
    assert _count(app, Claim) == 0
