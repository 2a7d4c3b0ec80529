"""The recording page as a plain form (no JavaScript), photos, batch award and withdrawal."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from conftest import login
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from credits.cards import card_number
from credits.models import Claim, ClaimState, Evidence, Household


def jpeg(colour=(30, 120, 200)) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0110] = "Secret Camera"
    Image.new("RGB", (120, 80), colour).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def members(app, household) -> list[tuple[int, str]]:
    with app.app_context():
        return [(m.id, m.name) for m in db.session.get(Household, household.id).members]


def claims(app) -> list[Claim]:
    with app.app_context():
        return list(db.session.scalars(select(Claim).order_by(Claim.id)))


def evidence_rows(app) -> list[Evidence]:
    with app.app_context():
        return list(db.session.scalars(select(Evidence).order_by(Evidence.id)))


def form(world, rule="XL05", household=0, **extra) -> dict:
    data = {
        "key": uuid.uuid4().hex,
        "household": str(world.households[household].id),
        "rule": str(world.rule(rule).id),
        "member": "",
        "deed_date": "",
        "note": "",
    }
    data.update(extra)
    return data


@pytest.fixture
def clerk(client, web_world):
    login(client, web_world.users["clerk"])
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


# ---- the page ----


def test_the_record_page_has_three_steps_and_a_key(clerk, web_world):
    page = clerk.get("/v/VA/record")
    assert page.status_code == 200
    html = text(page)
    for step in ("记给谁", "记什么", "补充并提交"):
        assert step in html
    assert "照顾年迈父母，生活起居周到" in html and "+10" in html
    assert "\u22125" in html  # deductions show a real minus sign
    assert re.search(r'name="key" value="[0-9a-f]{32}"', html)
    assert 'accept="image/*" capture="environment" multiple' in html
    # Each render carries a fresh key.
    again = text(clerk.get("/v/VA/record"))
    key = re.compile(r'name="key" value="([0-9a-f]{32})"')
    assert key.search(html).group(1) != key.search(again).group(1)


def test_only_recording_staff_and_logged_in_users_see_it(client, web_world):
    assert client.get("/v/VA/record").status_code == 302  # to the login page
    login(client, web_world.users["reviewer"])
    assert client.get("/v/VA/record").status_code == 403


def test_search_without_javascript_lists_households_to_choose(clerk, web_world):
    html = text(clerk.get("/v/VA/record", query_string={"q": "小明"}))
    # Every household has a member 某小明: a radio list of the three.
    assert html.count('type="radio" name="household"') == 3
    for head in ("张建华", "李秀兰", "欧阳明华"):
        assert head in html
    one = text(clerk.get("/v/VA/record", query_string={"q": "李秀兰"}))
    hid = web_world.households[1].id
    assert f'type="hidden" name="household" value="{hid}"' in one  # chosen at once
    assert "李小明" in one  # with member chips
    assert "没有找到" in text(clerk.get("/v/VA/record", query_string={"q": "无此人"}))


# ---- recording ----


def test_record_through_the_plain_form(clerk, web_world, app):
    member_id = members(app, web_world.households[0])[1][0]
    response = clerk.post("/v/VA/record", data=form(web_world, member=str(member_id)))
    assert response.status_code == 303
    [claim] = claims(app)
    assert claim.state == ClaimState.RECORDED and claim.member_id == member_id
    assert response.location.endswith(f"/v/VA/record?done={claim.id}")
    page = text(clerk.get(response.location))
    assert "已提交，等待审核" in page and "撤回" in page
    assert f"/v/VA/record/claims/{claim.id}/withdraw" in page


def test_a_double_post_with_the_same_key_records_once(clerk, web_world, app):
    data = form(web_world)
    first = clerk.post("/v/VA/record", data=data)
    second = clerk.post("/v/VA/record", data=data)
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    assert len(claims(app)) == 1


def test_a_deduction_without_a_note_is_refused_in_chinese(clerk, web_world, app):
    response = clerk.post("/v/VA/record", data=form(web_world, rule="KF03"))
    assert response.status_code == 400
    assert "扣分须填写备注" in text(response)
    assert claims(app) == []
    ok = clerk.post("/v/VA/record", data=form(web_world, rule="KF03", note="在村道上赌博"))
    assert ok.status_code == 303
    assert claims(app)[0].points == -10


def test_a_rule_needing_evidence_refuses_a_claim_without_photo(clerk, web_world, app):
    response = clerk.post("/v/VA/record", data=form(web_world, rule="XL02"))
    assert response.status_code == 400
    assert "此项需要上传照片作为凭证" in text(response)
    assert claims(app) == []


def test_a_missing_household_or_rule_is_explained(clerk, web_world, app):
    no_household = clerk.post("/v/VA/record", data=form(web_world, household=0) | {"household": ""})
    assert no_household.status_code == 400 and "请先选择农户" in text(no_household)
    no_rule = clerk.post("/v/VA/record", data=form(web_world) | {"rule": ""})
    assert no_rule.status_code == 400 and "请选择记分事项" in text(no_rule)
    bad_date = clerk.post("/v/VA/record", data=form(web_world, deed_date="2026-13-45"))
    assert bad_date.status_code == 400
    assert claims(app) == []


def test_a_photo_is_stored_clean_and_attached(clerk, web_world, app):
    data = form(web_world, rule="XL02")
    data["photos"] = (io.BytesIO(jpeg()), "IMG_0001.JPG")
    response = clerk.post("/v/VA/record", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    [claim] = claims(app)
    [photo] = evidence_rows(app)
    assert photo.claim_id == claim.id
    full = clerk.get(f"/v/VA/evidence/{photo.id}")
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    assert b"Secret Camera" not in full.data
    assert "private" in full.headers["Cache-Control"]
    thumb = clerk.get(f"/v/VA/evidence/{photo.id}/thumb")
    assert thumb.status_code == 200
    assert Image.open(io.BytesIO(thumb.data)).size == (photo.thumb_width, photo.thumb_height)


def test_a_double_post_with_the_same_photo_records_once(clerk, web_world, app):
    data = form(web_world, rule="XL02")
    for _ in range(2):
        sent = dict(data, photos=(io.BytesIO(jpeg()), "IMG_0001.JPG"))
        assert clerk.post("/v/VA/record", data=sent).status_code == 303
    assert len(claims(app)) == 1 and len(evidence_rows(app)) == 1


def test_a_file_that_is_not_an_image_is_refused(clerk, web_world, app):
    data = form(web_world, rule="XL05")
    data["photos"] = (io.BytesIO(b"just some text, not a picture"), "photo.jpg")
    response = clerk.post("/v/VA/record", data=data)
    assert response.status_code == 400
    assert "这个文件不是照片" in text(response)
    assert claims(app) == [] and evidence_rows(app) == []


def test_a_refused_form_keeps_its_photo_for_the_next_try(clerk, web_world, app):
    data = form(web_world, rule="XL02")
    data["household"] = ""
    data["photos"] = (io.BytesIO(jpeg()), "a.jpg")
    refused = clerk.post("/v/VA/record", data=data)
    assert refused.status_code == 400
    [photo] = evidence_rows(app)
    html = text(refused)
    assert f'name="evidence" value="{photo.id}"' in html
    assert f'name="key" value="{data["key"]}"' in html  # the same submission, retried
    retry = dict(data, household=str(web_world.households[0].id), evidence=str(photo.id))
    retry.pop("photos")
    assert clerk.post("/v/VA/record", data=retry).status_code == 303
    [claim] = claims(app)
    assert evidence_rows(app)[0].claim_id == claim.id


def test_photos_are_not_served_to_other_villages_nor_to_strangers(
    client, web_world, web_other_world, app
):
    login(client, web_world.users["clerk"])
    data = form(web_world, rule="XL02", photos=(io.BytesIO(jpeg()), "a.jpg"))
    client.post("/v/VA/record", data=data)
    [photo] = evidence_rows(app)
    url = f"/v/VA/evidence/{photo.id}"
    assert client.get(url).status_code == 200
    client.post("/logout")
    assert client.get(url).status_code == 302  # to the login page
    assert client.get(url + "/thumb").status_code == 302
    login(client, web_other_world.users["clerk"])
    assert client.get(url).status_code == 403
    assert client.get(f"/v/VB/evidence/{photo.id}").status_code == 404
    assert client.get(f"/v/VB/evidence/{photo.id}/thumb").status_code == 404


def test_an_unattached_photo_is_only_for_its_uploader(client, web_world, app):
    login(client, web_world.users["clerk"])
    data = form(web_world, rule="XL02", household=0) | {"household": ""}
    data["photos"] = (io.BytesIO(jpeg()), "a.jpg")
    client.post("/v/VA/record", data=data)
    [photo] = evidence_rows(app)
    assert client.get(f"/v/VA/evidence/{photo.id}").status_code == 200
    client.post("/logout")
    login(client, web_world.users["reviewer"])
    assert client.get(f"/v/VA/evidence/{photo.id}").status_code == 404


def test_the_page_script_gets_json(clerk, web_world, app):
    headers = {"Accept": "application/json"}
    ok = clerk.post("/v/VA/record", data=form(web_world), headers=headers)
    assert ok.status_code == 200
    body = ok.get_json()
    assert body["ok"] and re.fullmatch(r"[0-9a-f]{32}", body["key"])
    assert "撤回" in body["strip"] and "张建华" in body["recent"]
    refused = clerk.post("/v/VA/record", data=form(web_world, rule="KF03"), headers=headers)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "扣分须填写备注，写明发生了什么。"
    assert len(claims(app)) == 1


# ---- withdrawal ----


def test_the_recorder_withdraws_a_pending_claim(clerk, web_world, app):
    clerk.post("/v/VA/record", data=form(web_world))
    [claim] = claims(app)
    response = clerk.post(f"/v/VA/record/claims/{claim.id}/withdraw")
    assert response.status_code == 303
    assert claims(app)[0].state == ClaimState.WITHDRAWN
    assert "已撤回" in text(clerk.get(response.location))
    again = clerk.post(f"/v/VA/record/claims/{claim.id}/withdraw")
    assert again.status_code == 409  # the claim moved on: told, never a server error
    assert "已撤回" in text(again) and "刷新" in text(again)
    assert claims(app)[0].state == ClaimState.WITHDRAWN


def test_another_clerk_cannot_withdraw_it(client, web_world, app):
    login(client, web_world.users["clerk"])
    client.post("/v/VA/record", data=form(web_world))
    client.post("/logout")
    login(client, web_world.users["clerk2"])
    [claim] = claims(app)
    response = client.post(
        f"/v/VA/record/claims/{claim.id}/withdraw", headers={"Accept": "application/json"}
    )
    assert response.status_code == 409
    assert response.get_json()["error"] == "只有录入人本人才能撤回申报。"
    assert claims(app)[0].state == ClaimState.RECORDED


def test_my_recent_claims_show_on_the_page(clerk, web_world, app):
    clerk.post("/v/VA/record", data=form(web_world, household=2))
    html = text(clerk.get("/v/VA/record"))
    recent = html[html.index("我最近的记录") :]
    assert "欧阳明华" in recent and "待审核" in recent


# ---- batch award ----


def batch_form(world, households=(0, 1, 2), rule="ZY01", **extra) -> dict:
    data = {
        "key": uuid.uuid4().hex,
        "rule": str(world.rule(rule).id),
        "deed_date": "",
        "note": "村里大扫除",
        "h": [str(world.households[i].id) for i in households],
    }
    data.update(extra)
    return data


def test_the_batch_page_lists_households_by_group(clerk, web_world):
    page = clerk.get("/v/VA/record/batch")
    assert page.status_code == 200
    html = text(page)
    assert html.count('name="h"') == 3 and "批量记分" in html
    group = web_world.households[0].group_id
    assert (
        text(clerk.get("/v/VA/record/batch", query_string={"group": group + 99})).count('name="h"')
        == 0
    )


def test_a_batch_records_everyone_ticked_once(clerk, web_world, app):
    home = web_world.households[1]
    member_ids = [m for m, _name in members(app, home)]
    data = batch_form(web_world, households=(0,), m=[f"{home.id}-{m}" for m in member_ids])
    response = clerk.post("/v/VA/record/batch", data=data)
    assert response.status_code == 303
    recorded = claims(app)
    assert [(c.household_id, c.member_id) for c in recorded] == [
        (web_world.households[0].id, None),
        *[(home.id, m) for m in member_ids],
    ]
    assert clerk.post("/v/VA/record/batch", data=data).status_code == 303  # a double tap
    assert len(claims(app)) == 3
    assert "已为 2 户录入 3 条" in text(clerk.get(response.location))


def test_a_refused_batch_records_nothing_and_says_who(clerk, web_world, app):
    with app.app_context():
        db.session.get(Household, web_world.households[2].id).active = False
        db.session.commit()
    response = clerk.post("/v/VA/record/batch", data=batch_form(web_world))
    assert response.status_code == 400
    html = text(response)
    assert "未录入任何一条" in html and "欧阳明华" in html
    assert claims(app) == []
    assert html.count("checked") >= 3  # the ticks are kept for another try


def test_a_batch_with_a_photo_shares_it(clerk, web_world, app):
    data = batch_form(web_world, households=(0, 1), rule="ZY03")
    data["photos"] = (io.BytesIO(jpeg()), "team.jpg")
    assert clerk.post("/v/VA/record/batch", data=data).status_code == 303
    rows = evidence_rows(app)
    assert len(rows) == 2 and len({r.path for r in rows}) == 1
    assert clerk.get(f"/v/VA/evidence/{rows[1].id}").status_code == 200


def test_batch_claims_count_only_when_all_pass(clerk, web_world, app):
    with app.app_context():
        assert db.session.scalar(select(func.count(Claim.id))) == 0
    response = clerk.post("/v/VA/record/batch", data=batch_form(web_world, rule="ZY03"))
    assert response.status_code == 400 and "此项需要上传照片作为凭证" in text(response)
    assert claims(app) == []


def test_a_hardware_scanner_works_without_javascript(clerk, web_world, app):
    with app.app_context():
        number = card_number(db.session.get(Household, web_world.households[1].id))
    page = clerk.get("/v/VA/record", query_string={"u": number})
    assert page.status_code == 200
    hid = web_world.households[1].id
    assert f'type="hidden" name="household" value="{hid}"' in text(page)
    unknown = clerk.get("/v/VA/record", query_string={"u": "VA-9999-1"})
    assert unknown.status_code == 404
    assert 'type="hidden" name="household" value=' not in text(unknown)
