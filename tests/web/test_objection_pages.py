"""Objection pages: who sees the objector, refusals with their message, reopening, published
outcomes on the notice and the passbook, and the client address behind a trusted proxy."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import build_village, login, new_claim
from flask import Flask
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from credits import cards, objections
from credits.db import utcnow
from credits.models import AuditEvent, Claim, ClaimState, Household, Objection, ObjectionState, Role
from credits.users import create_user

PHONE = "13912345678"


def fresh_claim(app, world, *, household: int = 0) -> int:
    with app.app_context():
        return new_claim(
            db.session, world, household=household, now=utcnow(), approve_by="reviewer"
        ).id


def raised(app, claim_id: int, *, name: str = "王大伯", contact: str = PHONE) -> int:
    with app.app_context():
        return objections.raise_objection(
            db.session,
            claim_id=claim_id,
            name=name,
            contact=contact,
            reason="那天他不在村里。",
            ip="10.0.0.5",
        ).id


def count_objections(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Objection.id)))


def township_admin(app, world):
    with app.app_context():
        return create_user(
            db.session,
            username="township-admin",
            password="secret-pass-1",
            role=Role.TOWNSHIP_ADMIN,
            display_name="镇干部",
            region_id=world.village.region_id,
        )


def dismiss(client, world, objection_id: int, reason: str = "经核实，事迹属实。"):
    login(client, world.users["reviewer"])
    done = client.post(
        f"/v/VA/notice/objections/{objection_id}/resolve",
        data={"decision": "dismiss", "reason": reason},
    )
    assert done.status_code == 302
    client.post("/logout")


# ---- who sees the objector ----------------------------------------------------------


@pytest.mark.parametrize(("role", "shown"), [("reviewer", True), ("admin", True), ("clerk", False)])
def test_only_reviewers_see_the_objectors_name_and_phone_on_the_notice_page(
    app, client, web_world, role, shown
):
    raised(app, fresh_claim(app, web_world))
    login(client, web_world.users[role])
    html = client.get("/v/VA/notice").get_data(as_text=True)
    assert "那天他不在村里。" in html
    assert ("王大伯" in html, PHONE in html) == (shown, shown)
    assert ("异议人信息仅监督委员可见" in html) is not shown


def test_a_cashier_sees_no_objector_either(app, client, web_world):
    raised(app, fresh_claim(app, web_world))
    login(client, web_world.users["cashier"])
    page = client.get("/v/VA/notice")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "王大伯" not in html and PHONE not in html


def test_the_audit_log_hides_the_objector_from_a_township_admin(app, client, web_world):
    objection_id = raised(app, fresh_claim(app, web_world))
    login(client, township_admin(app, web_world))
    page = client.get("/v/VA/audit?action=objection.raise")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"#{objection_id}" in html and "异议人（仅监督委员可见）" in html
    assert "王大伯" not in html and PHONE not in html and "10.0.0.5" not in html
    # Searching by the name finds nothing; the export hides the same.
    assert f"#{objection_id}" not in client.get("/v/VA/audit?actor=王大伯").get_data(as_text=True)
    body = client.post("/v/VA/audit.csv?action=objection.raise").data.decode("utf-8")
    assert "王大伯" not in body and PHONE not in body
    [row] = list(csv.DictReader(io.StringIO(body[1:])))
    assert row["actor"] == "异议人（仅监督委员可见）" and "那天他不在村里。" in row["after"]


def test_a_village_admin_on_the_committee_sees_the_objector_in_the_audit_log(
    app, client, web_world
):
    raised(app, fresh_claim(app, web_world))
    login(client, web_world.users["admin"])
    html = client.get("/v/VA/audit?actor=王大伯").get_data(as_text=True)
    assert "王大伯" in html and PHONE in html


# ---- refusals -----------------------------------------------------------------------


def test_an_objection_after_a_dismissal_is_refused_with_the_message(app, client, web_world):
    claim_id = fresh_claim(app, web_world)
    dismiss(client, web_world, raised(app, claim_id))
    url = f"/p/VA/notice/claims/{claim_id}/object"
    page = client.post(url, data={"name": "李婶", "contact": "", "reason": "我还是不服。"})
    html = page.get_data(as_text=True)
    assert page.status_code == 409
    assert "已对这条公示的异议作出处理" in html and "联系村务监督委员会" in html
    assert count_objections(app) == 1
    with app.app_context():
        assert db.session.get(Claim, claim_id).state == ClaimState.NOTICED
    # The notice page no longer offers the form for it, and the form itself says why.
    public = client.get("/p/VA/notice").get_data(as_text=True)
    assert url not in public and "异议不成立" in public
    form = client.get(url)
    assert form.status_code == 409 and "联系村务监督委员会" in form.get_data(as_text=True)


def test_a_second_objection_by_the_same_person_is_refused(app, client, web_world):
    claim_id = fresh_claim(app, web_world)
    raised(app, claim_id)
    page = client.post(
        f"/p/VA/notice/claims/{claim_id}/object",
        data={"name": "王大伯", "contact": "139 1234 5678", "reason": "再补充一点。"},
    )
    assert page.status_code == 409
    assert "已在村务监督委员会处理中" in page.get_data(as_text=True)
    assert count_objections(app) == 1


# ---- reopening ----------------------------------------------------------------------


def test_a_reviewer_reopens_a_dismissed_objection_from_the_notice_page(app, client, web_world):
    claim_id = fresh_claim(app, web_world)
    objection_id = raised(app, claim_id)
    dismiss(client, web_world, objection_id)
    url = f"/v/VA/notice/objections/{objection_id}/reopen"
    login(client, web_world.users["clerk"])
    assert client.post(url, data={"reason": "复核"}).status_code == 403
    client.post("/logout")
    login(client, web_world.users["reviewer2"])
    assert "重新审议这条异议" in client.get("/v/VA/notice").get_data(as_text=True)
    empty = client.post(url, data={"reason": " "})
    assert empty.status_code == 400 and "重新审议异议必须写明理由" in empty.get_data(as_text=True)
    done = client.post(url, data={"reason": "有新的证人。"})
    assert done.status_code == 302
    again = client.post(url, data={"reason": "有新的证人。"})
    assert again.status_code == 409 and "刚刚已被他人处理" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Objection, objection_id).state == ObjectionState.OPEN


def test_deciding_an_objection_already_decided_is_a_409_not_a_500(app, client, web_world):
    objection_id = raised(app, fresh_claim(app, web_world))
    dismiss(client, web_world, objection_id)
    login(client, web_world.users["reviewer2"])
    page = client.post(
        f"/v/VA/notice/objections/{objection_id}/resolve",
        data={"decision": "uphold", "reason": "成立"},
    )
    assert page.status_code == 409 and "刚刚已被他人处理" in page.get_data(as_text=True)


# ---- the outcome is published -------------------------------------------------------


def test_the_public_notice_and_the_passbook_show_the_outcome_and_reason(app, client, web_world):
    kept = fresh_claim(app, web_world)
    dismiss(client, web_world, raised(app, kept), reason="经核实，事迹属实。")
    stopped = fresh_claim(app, web_world, household=0)
    login(client, web_world.users["reviewer"])
    upheld = raised(app, stopped, name="李婶", contact="")
    client.post(
        f"/v/VA/notice/objections/{upheld}/resolve",
        data={"decision": "uphold", "reason": "照片是去年的。"},
    )
    client.post("/logout")
    html = client.get("/p/VA/notice").get_data(as_text=True)
    assert "近 30 天已处理的异议" in html and "异议人信息不公开" in html
    assert "异议不成立" in html and "经核实，事迹属实。" in html and "维持原积分" in html
    assert "异议成立" in html and "照片是去年的。" in html and "该项积分不予入账" in html
    for secret in ("王大伯", "李婶", PHONE, "张建华"):
        assert secret not in html
    with app.app_context():
        url = cards.issue_url("", db.session.get(Household, web_world.households[0].id))
    book = client.get(url).get_data(as_text=True)
    assert "异议处理结果" in book
    assert "经核实，事迹属实。" in book and "照片是去年的。" in book
    assert "王大伯" not in book and "李婶" not in book


# ---- the client address behind a trusted proxy --------------------------------------


@pytest.fixture
def proxied(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    flask_app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": db_url,
            "WTF_CSRF_ENABLED": False,
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "BASE_URL": "http://localhost",
            "TRUSTED_PROXIES": request.param,
        }
    )
    with flask_app.app_context():
        world = build_village(db.session, "VA", "桃源村")
    flask_app.config["world"] = world
    yield flask_app
    with flask_app.app_context():
        db.session.remove()
        db.engine.dispose()


def send(app, client, claim_id: int, name: str, forwarded: str) -> int:
    return client.post(
        f"/p/VA/notice/claims/{claim_id}/object",
        data={"name": name, "reason": "不属实"},
        headers={"X-Forwarded-For": forwarded},
    ).status_code


def objection_ips(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent.ip)
                .where(AuditEvent.action == "objection.raise")
                .order_by(AuditEvent.id)
            )
        )


@pytest.mark.parametrize("proxied", [1], indirect=True)
def test_behind_a_trusted_proxy_each_client_has_its_own_limit(proxied):
    app, client = proxied, proxied.test_client()
    claim_id = fresh_claim(app, app.config["world"])
    # Five villagers behind the proxy: none closes objections for the others.
    for i in range(5):
        assert send(app, client, claim_id, f"村民{i}", f"10.0.0.{i + 1}") == 302
    assert objection_ips(app) == [f"10.0.0.{i + 1}" for i in range(5)]
    # One address beyond its limit (two per claim a day) is refused; another still heard.
    assert send(app, client, claim_id, "村民九", "10.0.0.1") == 302
    assert send(app, client, claim_id, "村民十", "10.0.0.1") == 429
    assert send(app, client, claim_id, "村民十一", "10.0.0.77") == 302
    # A client cannot pose as another by adding its own header in front.
    assert send(app, client, claim_id, "村民十二", "10.0.0.77, 10.0.0.1") == 429
    assert count_objections(app) == 7


@pytest.mark.parametrize("proxied", [0], indirect=True)
def test_without_a_trusted_proxy_a_forged_forwarded_header_is_ignored(proxied):
    app, client = proxied, proxied.test_client()
    claim_id = fresh_claim(app, app.config["world"])
    assert send(app, client, claim_id, "甲", "10.0.0.1") == 302
    assert send(app, client, claim_id, "乙", "10.0.0.2") == 302
    assert send(app, client, claim_id, "丙", "10.0.0.3") == 429
    assert objection_ips(app) == ["127.0.0.1", "127.0.0.1"]


def test_trusted_proxies_must_be_a_count():
    from app.config import _trusted_proxies

    assert _trusted_proxies(None) == 0 and _trusted_proxies(" 2 ") == 2
    for bad in ("-1", "yes", "1.5"):
        with pytest.raises(RuntimeError, match="TRUSTED_PROXIES"):
            _trusted_proxies(bad)


# ---- hostile input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"name": "王\x00大伯", "reason": "不属实"},
        {"name": "王大伯", "contact": "138\x00", "reason": "不属实"},
        {"name": "王大伯", "reason": "不\x00属实"},
    ],
)
def test_control_characters_in_an_objection_get_a_400_not_a_500(app, client, web_world, data):
    claim_id = fresh_claim(app, web_world)
    page = client.post(f"/p/VA/notice/claims/{claim_id}/object", data=data)
    assert page.status_code == 400
    assert "不可见的控制字符" in page.get_data(as_text=True)
    assert count_objections(app) == 0


def test_hostile_decisions_and_ids_are_refused_cleanly(app, client, web_world):
    objection_id = raised(app, fresh_claim(app, web_world))
    login(client, web_world.users["reviewer"])
    for action, data in [
        ("resolve", {"decision": "dismiss", "reason": "不成立\x00"}),
        ("reopen", {"reason": "复核\x00"}),
    ]:
        page = client.post(f"/v/VA/notice/objections/{objection_id}/{action}", data=data)
        assert page.status_code in (400, 409), action
    with app.app_context():
        assert db.session.get(Objection, objection_id).state == ObjectionState.OPEN
    huge = 10**20
    assert (
        client.post(f"/v/VA/notice/objections/{huge}/reopen", data={"reason": "x"}).status_code
        == 404
    )
    assert client.get(f"/p/VA/notice/claims/{huge}/object").status_code == 404
