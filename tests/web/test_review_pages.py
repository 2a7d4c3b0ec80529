"""The reviewers' queue: cards, one-by-one and bulk decisions, refusals explained."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from conftest import NOW, login, new_claim
from PIL import Image

from app.extensions import db
from credits.db import utcnow
from credits.evidence import LocalPhotoStore, store_photo
from credits.models import Claim, ClaimState
from credits.workflow import ClaimInput, record_claim


def text(response) -> str:
    return response.get_data(as_text=True)


def add_claim(app, world, **kw) -> int:
    kw.setdefault("now", utcnow() - timedelta(hours=1))
    with app.app_context():
        return new_claim(db.session, world, **kw).id


def state(app, claim_id) -> str:
    with app.app_context():
        return db.session.get(Claim, claim_id).state


@pytest.fixture
def pending(app, web_world) -> list[int]:
    """A claim for each household, the first one oldest."""
    base = utcnow() - timedelta(days=1)
    return [
        add_claim(app, web_world, rule="XL05", household=i, now=base + timedelta(hours=i))
        for i in range(3)
    ]


def as_user(client, world, name):
    login(client, world.users[name])
    return client


def test_the_queue_shows_cards_oldest_first(client, web_world, pending):
    as_user(client, web_world, "reviewer")
    page = client.get("/v/VA/review")
    assert page.status_code == 200
    html = text(page)
    assert "共 3 条待审核" in html
    positions = [html.index(f'id="claim-{cid}"') for cid in pending]
    assert positions == sorted(positions)
    assert "逢年过节看望孤寡老人" in html and "+5" in html
    assert "录入：桃源村clerk" in html
    assert html.count('name="c"') == 3
    assert "全选" in html and "批准所选" in html and "驳回所选" in html
    assert '<dialog class="sheet"' in html


def test_only_reviewers_see_the_queue(client, web_world):
    assert client.get("/v/VA/review").status_code == 302
    as_user(client, web_world, "clerk")
    assert client.get("/v/VA/review").status_code == 403


def test_filters_by_rule_recorder_and_group(client, web_world, pending, app):
    other = add_claim(app, web_world, rule="XL01", household=0, clerk="clerk2")
    as_user(client, web_world, "reviewer")
    by_rule = text(client.get("/v/VA/review", query_string={"rule": web_world.rule("XL01").id}))
    assert f'id="claim-{other}"' in by_rule and f'id="claim-{pending[0]}"' not in by_rule
    clerk2 = web_world.users["clerk2"].id
    by_recorder = text(client.get("/v/VA/review", query_string={"recorder": clerk2}))
    assert by_recorder.count('name="c"') == 1
    group = web_world.households[0].group_id
    assert text(client.get("/v/VA/review", query_string={"group": group})).count('name="c"') == 4
    empty = text(client.get("/v/VA/review", query_string={"group": group + 50}))
    assert "没有待审核的记录" in empty


def test_approve_one_starts_its_notice(client, web_world, pending, app):
    as_user(client, web_world, "reviewer")
    response = client.post(f"/v/VA/review/{pending[0]}/approve", data={"rule": "", "page": "1"})
    assert response.status_code == 303
    assert state(app, pending[0]) == ClaimState.NOTICED
    assert "已批准：张建华 · 逢年过节看望孤寡老人，开始公示。" in text(
        client.get(response.location)
    )


def test_recusal_is_refused_and_explained(client, web_world, pending, app):
    as_user(client, web_world, "reviewer2")  # lives in household 2 (欧阳明华)
    html = text(client.get("/v/VA/review"))
    assert "这是您本人所在的家庭" in html
    response = client.post(f"/v/VA/review/{pending[2]}/approve")
    assert response.status_code == 403
    assert "按回避规定，您不能为本人所在的家庭录入或审核积分。" in text(response)
    assert state(app, pending[2]) == ClaimState.RECORDED


def test_four_eyes_is_refused_and_explained(client, web_world, app):
    own = add_claim(app, web_world, rule="XL05", clerk="admin")
    as_user(client, web_world, "admin")
    assert "这条是您录入的" in text(client.get("/v/VA/review"))
    response = client.post(f"/v/VA/review/{own}/approve")
    assert response.status_code == 403
    assert "录入人不能审核自己录入的申报" in text(response)
    assert state(app, own) == ClaimState.RECORDED


def test_bulk_approve(client, web_world, pending, app):
    as_user(client, web_world, "reviewer")
    response = client.post(
        "/v/VA/review/decide", data={"action": "approve", "c": [str(c) for c in pending]}
    )
    assert response.status_code == 303
    assert [state(app, c) for c in pending] == [ClaimState.NOTICED] * 3
    assert "已批准 3 条，开始公示。" in text(client.get(response.location))


def test_bulk_with_one_refused_changes_nothing(client, web_world, pending, app):
    as_user(client, web_world, "reviewer2")
    response = client.post(
        "/v/VA/review/decide", data={"action": "approve", "c": [str(c) for c in pending]}
    )
    assert response.status_code == 403
    html = text(response)
    assert "未做任何更改。欧阳明华（3号） · 逢年过节看望孤寡老人：按回避规定" in html
    assert [state(app, c) for c in pending] == [ClaimState.RECORDED] * 3


def test_bulk_reject_without_the_sheet_asks_for_a_reason_on_a_page(client, web_world, pending, app):
    as_user(client, web_world, "reviewer")
    ids = [str(c) for c in pending[:2]]
    page = client.post("/v/VA/review/decide", data={"action": "reject", "c": ids})
    assert page.status_code == 200
    html = text(page)
    assert "驳回理由" in html and "将以此理由驳回 2 条" in html
    assert [state(app, c) for c in pending] == [ClaimState.RECORDED] * 3
    empty = client.post(
        "/v/VA/review/decide",
        data={"action": "reject", "c": ids, "reason": " ", "from": "reason-page"},
    )
    assert empty.status_code == 400 and "驳回申报必须填写原因。" in text(empty)
    assert "将以此理由驳回 2 条" in text(empty)
    done = client.post(
        "/v/VA/review/decide", data={"action": "reject", "c": ids, "reason": "同一件事重复申报"}
    )
    assert done.status_code == 303
    assert [state(app, c) for c in pending] == [
        ClaimState.REJECTED,
        ClaimState.REJECTED,
        ClaimState.RECORDED,
    ]
    with app.app_context():
        assert db.session.get(Claim, pending[0]).reject_reason == "同一件事重复申报"


def test_reject_one_through_its_reason_page(client, web_world, pending, app):
    as_user(client, web_world, "reviewer")
    page = client.get(f"/v/VA/review/{pending[1]}/reject")
    assert page.status_code == 200 and "李秀兰" in text(page)
    response = client.post(
        "/v/VA/review/decide",
        data={"action": "reject", "c": str(pending[1]), "reason": "照片不清楚"},
    )
    assert response.status_code == 303
    assert state(app, pending[1]) == ClaimState.REJECTED
    assert "已驳回 1 条。" in text(client.get(response.location))


def test_bulk_needs_a_tick(client, web_world, pending):
    as_user(client, web_world, "reviewer")
    response = client.post("/v/VA/review/decide", data={"action": "approve"})
    assert response.status_code == 400 and "请至少勾选一条。" in text(response)


def test_claims_of_another_village_are_out_of_reach(client, web_world, web_other_world, app):
    foreign = add_claim(app, web_other_world, rule="XL05")
    as_user(client, web_world, "reviewer")
    assert client.post(f"/v/VA/review/{foreign}/approve").status_code == 404
    assert client.get(f"/v/VA/review/{foreign}/reject").status_code == 404
    response = client.post("/v/VA/review/decide", data={"action": "approve", "c": str(foreign)})
    assert response.status_code == 403
    assert state(app, foreign) == ClaimState.RECORDED


def test_photos_show_as_thumbnails_that_open_full_size(client, web_world, app):
    buf = io.BytesIO()
    Image.new("RGB", (200, 100), (10, 160, 60)).save(buf, "JPEG")
    with app.app_context():
        store = LocalPhotoStore(app.config["UPLOAD_DIR"])
        clerk = web_world.users["clerk"]
        photo = store_photo(db.session, web_world.village.id, buf.getvalue(), store, actor=clerk)
        record_claim(
            db.session,
            actor=clerk,
            now=utcnow(),
            data=ClaimInput(
                household_id=web_world.households[0].id,
                rule_id=web_world.rule("XL02").id,
                deed_date=NOW.date(),
                idempotency_key="with-photo",
                evidence_ids=(photo.id,),
            ),
        )
        photo_id = photo.id
    as_user(client, web_world, "reviewer")
    html = text(client.get("/v/VA/review"))
    assert f'href="/v/VA/evidence/{photo_id}"' in html
    assert f'src="/v/VA/evidence/{photo_id}/thumb"' in html
    assert client.get(f"/v/VA/evidence/{photo_id}").status_code == 200


def test_a_long_queue_pages_and_keeps_its_filters(client, web_world, app):
    today = utcnow()
    for months_back in range(4):
        day = (today - timedelta(days=31 * months_back + 1)).date()
        for household in range(3):
            for _ in range(2):
                add_claim(app, web_world, rule="XL05", household=household, day=day)
    as_user(client, web_world, "reviewer")
    rule = web_world.rule("XL05").id
    first = text(client.get("/v/VA/review", query_string={"rule": rule}))
    assert "共 24 条待审核" in first and first.count('name="c"') == 20
    assert f'href="/v/VA/review?page=2&amp;rule={rule}"' in first
    second = text(client.get("/v/VA/review", query_string={"rule": rule, "page": 2}))
    assert second.count('name="c"') == 4
