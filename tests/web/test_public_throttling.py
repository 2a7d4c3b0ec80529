"""The limiter guards the public pages too: card guessing and objection floods."""

from __future__ import annotations

from conftest import login
from sqlalchemy import func, select

from app.extensions import db
from credits.cards import token_for
from credits.models import Household, Objection
from tests.web.test_notice_pages import fresh_claim

GUESSER = {"REMOTE_ADDR": "10.6.6.6"}


def test_guessing_card_tokens_is_throttled_but_real_cards_keep_working(app, client, web_world):
    with app.app_context():
        token = token_for(db.session.get(Household, web_world.households[0].id))
    for i in range(30):
        assert client.get(f"/c/AAAA{i:04d}BBBB", environ_base=GUESSER).status_code == 404
    assert client.get("/c/AAAA9999BBBB", environ_base=GUESSER).status_code == 429
    # Opening real cards never used the guesser's allowance, and other addresses are free.
    assert client.get(f"/c/{token}", environ_base={"REMOTE_ADDR": "10.7.7.7"}).status_code == 200
    for _ in range(40):
        assert (
            client.get(f"/c/{token}", environ_base={"REMOTE_ADDR": "10.8.8.8"}).status_code == 200
        )


def test_one_address_cannot_flood_the_objection_form(app, client, web_world):
    app.config["OBJECTIONS_PER_ADDRESS"] = "3 per hour"
    claims = [fresh_claim(app, web_world, household=h % 3) for h in range(4)]
    for n, claim_id in enumerate(claims[:3]):
        sent = client.post(
            f"/p/VA/notice/claims/{claim_id}/object",
            data={"name": f"村民{n}", "contact": "", "reason": "不属实"},
            environ_base=GUESSER,
        )
        assert sent.status_code in (302, 409), sent.status_code
    flooded = client.post(
        f"/p/VA/notice/claims/{claims[3]}/object",
        data={"name": "村民9", "contact": "", "reason": "不属实"},
        environ_base=GUESSER,
    )
    assert flooded.status_code == 429
    with app.app_context():
        before = db.session.scalar(select(func.count(Objection.id)))
    assert before <= 3
    login(client, web_world.users["reviewer"])  # staff pages are not limited by it
    assert client.get("/v/VA/notice").status_code == 200
