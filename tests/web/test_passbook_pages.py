"""The public passbook page: one household's points, nothing personal, dead cards say so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import NOW, new_claim

from app.extensions import db
from credits import cards
from credits.db import utcnow
from credits.models import Household, Village
from credits.rules import load_preset_into
from credits.workflow import post_due

TRACE_MARKERS = ("Traceback", 'File "', "werkzeug", "sqlalchemy", "KeyError", "Exception")


def _url(app, household_id: int) -> str:
    with app.app_context():
        return cards.issue_url("", db.session.get(Household, household_id))


@pytest.fixture
def book(app, web_world):
    """Household 0 with a phone, a posted award and a claim on notice."""
    with app.app_context():
        household = db.session.get(Household, web_world.households[0].id)
        household.phone = "13812345678"
        db.session.commit()
        new_claim(db.session, web_world, household=0, approve_by="reviewer")
        post_due(db.session, now=NOW + timedelta(days=8))
        notice = new_claim(
            db.session,
            web_world,
            rule="YF03",
            household=0,
            approve_by="reviewer",
            now=NOW + timedelta(days=9),
        )
        return web_world, notice.id


def test_the_card_opens_the_households_passbook(app, client, book):
    world, notice_id = book
    response = client.get(_url(app, world.households[0].id))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    html = response.get_data(as_text=True)
    assert '<span class="pb-head">张*华</span>' in html
    assert "1号" in html and "桃源村" in html
    assert "可用积分" in html and "荣誉积分" in html
    assert "照顾年迈父母，生活起居周到" in html  # the posted award
    assert "正在公示" in html and "彩礼不超过村规标准" in html
    assert f"/p/VA/notice/claims/{notice_id}/object" in html and "有异议？" in html


def test_the_passbook_shows_nothing_personal(app, client, book, web_other_world):
    world, _ = book
    html = client.get(_url(app, world.households[0].id)).get_data(as_text=True)
    for private in ("张建华", "张小明", "13812345678"):
        assert private not in html
    # Nothing of any other household, here or in the other village.
    for other in ("李*兰", "欧阳*华", "2号", "3号", "杏花村"):
        assert other not in html


def test_a_replaced_card_shows_nothing_of_the_household(app, client, book):
    world, _ = book
    old = _url(app, world.households[0].id)
    with app.app_context():
        cards.reissue_card(
            db.session, actor=world.users["clerk"], household_id=world.households[0].id
        )
    response = client.get(old)
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "这张卡已换成新卡" in html
    for leak in ("张*华", "张建华", "1号", "桃源村", "可用积分", "照顾年迈父母"):
        assert leak not in html
    assert client.get(_url(app, world.households[0].id)).status_code == 200


def test_a_revoked_card_shows_nothing_of_the_household(app, client, book):
    world, _ = book
    url = _url(app, world.households[0].id)
    with app.app_context():
        cards.revoke_card(
            db.session, actor=world.users["admin"], household_id=world.households[0].id
        )
    response = client.get(url)
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "这张卡已作废" in html and "张*华" not in html and "1号" not in html


def _forgeries(token: str) -> list[str]:
    swap = "B" if token[5] != "B" else "C"
    return [
        token[:5] + swap + token[6:],  # one character changed
        token[:-1],  # truncated
        token[: len(token) // 2],
        token + "A",  # extended
        "A" * len(token),
        "not-a-token",
        "x" * 300,
        token + "%00",
    ]


def test_forged_and_truncated_cards_get_a_plain_404(app, client, book):
    world, _ = book
    token = _url(app, world.households[0].id).rsplit("/", 1)[1]
    for forged in _forgeries(token):
        response = client.get(f"/c/{forged}")
        assert response.status_code == 404, forged
        html = response.get_data(as_text=True)
        assert "无法识别这张卡" in html
        assert not any(marker in html for marker in TRACE_MARKERS)
        assert "张*华" not in html


def test_lower_case_and_upper_case_paths_open_the_same_passbook(app, client, book):
    world, _ = book
    url = _url(app, world.households[0].id)
    token = url.rsplit("/", 1)[1]
    for path in (url, f"/c/{token.lower()}"):
        assert client.get(path).status_code == 200, path
    response = client.get(f"/C/{token}?page=2")
    assert response.status_code == 301 and response.location == f"/c/{token}?page=2"


def test_history_pages_and_schemes_are_plain_links(app, client, book):
    world, _ = book
    with app.app_context():
        village = db.session.get(Village, world.village.id)
        load_preset_into(db.session, village, "family_bank")
    url = _url(app, world.households[0].id)
    html = client.get(url).get_data(as_text=True)
    assert f'href="{url}?s=family_bank"' in html and "家风银行" in html
    family = client.get(url + "?s=family_bank").get_data(as_text=True)
    assert "这个方案还没有积分记录" in family and "照顾年迈父母" not in family
    for page in ("2", "999", "-3", "x"):
        html = client.get(f"{url}?page={page}").get_data(as_text=True)
        assert "照顾年迈父母，生活起居周到" in html, page  # past the end: the last page


def test_the_page_works_in_english_too(app, client, book):
    world, _ = book
    client.set_cookie("lang", "en")
    html = client.get(_url(app, world.households[0].id)).get_data(as_text=True)
    assert "Spendable points" in html and "Honour score" in html


def test_a_claim_whose_notice_ended_shows_as_awaiting_posting(app, client, web_world):
    with app.app_context():
        ended = new_claim(
            db.session,
            web_world,
            household=1,
            approve_by="reviewer",
            now=utcnow() - timedelta(days=8),
        )
    html = client.get(_url(app, web_world.households[1].id)).get_data(as_text=True)
    assert "待入账" in html and f"/notice/claims/{ended.id}/object" not in html
    with app.app_context():
        assert post_due(db.session) == 1
    html = client.get(_url(app, web_world.households[1].id)).get_data(as_text=True)
    assert "待入账" not in html and "照顾年迈父母，生活起居周到" in html
