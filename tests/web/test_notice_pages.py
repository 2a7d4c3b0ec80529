"""Notice pages: public board and objection form, staff notice page, sheet, corrections, audit."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from conftest import login, new_claim
from sqlalchemy import func, select

from app.extensions import db
from credits.db import utcnow
from credits.models import AuditEvent, Claim, ClaimState, LedgerEntry, Objection, ObjectionState
from credits.objections import raise_objection
from credits.workflow import post_due


def fresh_claim(app, world, *, household: int = 0, rule: str = "XL01", now: datetime | None = None):
    """An approved claim whose notice runs from now (the pages use the real clock)."""
    with app.app_context():
        claim = new_claim(
            db.session,
            world,
            household=household,
            rule=rule,
            now=now or utcnow(),
            approve_by="reviewer",
        )
        return claim.id


def count_objections(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Objection.id)))


def open_objection(app, claim_id: int, name: str = "王大伯") -> int:
    with app.app_context():
        return raise_objection(
            db.session, claim_id=claim_id, name=name, contact="", reason="不属实。", ip="10.0.0.5"
        ).id


# ---- the public page ------------------------------------------------------------------


def test_public_notice_needs_no_login_and_shows_only_masked_names(app, client, web_world):
    with app.app_context():
        home = db.session.merge(web_world.households[0])
        home.phone = "13912345678"
        db.session.commit()
    fresh_claim(app, web_world, household=0)
    fresh_claim(app, web_world, household=2)
    page = client.get("/p/VA/notice")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "张*华" in html and "欧阳*华" in html
    assert "有异议？" in html
    assert "+10" in html
    for secret in ("张建华", "欧阳明华", "张小明", "13912345678", "李秀兰"):
        assert secret not in html
    assert "账本校验码" in html


def test_public_notice_of_an_unknown_village_is_a_404_page(client, web_world):
    page = client.get("/p/NOPE/notice")
    assert page.status_code == 404
    assert "没有找到这个村" in page.get_data(as_text=True)
    assert client.get("/p/NOPE/notice/claims/1/object").status_code == 404


def test_public_notice_keeps_villages_apart(app, client, web_world, web_other_world):
    fresh_claim(app, web_other_world, household=1)
    html = client.get("/p/VA/notice").get_data(as_text=True)
    assert "李*兰" not in html
    assert "李*兰" in client.get("/p/VB/notice").get_data(as_text=True)


def test_a_claim_whose_notice_ended_awaits_posting_until_post_due_runs(app, client, web_world):
    claim_id = fresh_claim(app, web_world, now=utcnow() - timedelta(days=8))
    page = client.get("/p/VA/notice").get_data(as_text=True)
    assert "待入账" in page and "1 项待入账" in page
    assert f'/notice/claims/{claim_id}/object"' not in page
    with app.app_context():
        # The page view posted nothing: that is the `post-due` command's job.
        assert db.session.get(Claim, claim_id).state == ClaimState.NOTICED
    login(client, web_world.users["clerk"])
    staff = client.get("/v/VA/notice").get_data(as_text=True)
    assert "待入账" in staff and f"/notice/claims/{claim_id}/paper-objection" not in staff
    result = app.test_cli_runner().invoke(args=["post-due"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.get(Claim, claim_id).state == ClaimState.POSTED
    assert "待入账" not in client.get("/p/VA/notice").get_data(as_text=True)
    assert "待入账" not in client.get("/v/VA/notice").get_data(as_text=True)


def test_an_objection_from_the_public_page_holds_the_claim(app, client, web_world):
    claim_id = fresh_claim(app, web_world)
    url = f"/p/VA/notice/claims/{claim_id}/object"
    form = client.get(url)
    assert form.status_code == 200
    assert "张*华" in form.get_data(as_text=True) and "张建华" not in form.get_data(as_text=True)
    sent = client.post(url, data={"name": "王大伯", "contact": "138", "reason": "那天他不在村里。"})
    assert sent.status_code == 302
    done = client.get(sent.location)
    assert "您的异议已收到" in done.get_data(as_text=True)
    with app.app_context():
        objection = db.session.scalar(select(Objection))
        assert (objection.claim_id, objection.name, objection.state) == (
            claim_id,
            "王大伯",
            ObjectionState.OPEN,
        )
        assert post_due(db.session, now=utcnow() + timedelta(days=8)) == 0
    html = client.get("/p/VA/notice").get_data(as_text=True)
    assert "暂不入账" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "contact": "", "reason": "不属实"}, "请填写您的姓名"),
        ({"name": "王大伯", "contact": "", "reason": "   "}, "请写明这条公示有什么问题"),
        ({"name": "王" * 60, "contact": "", "reason": "不属实"}, "姓名太长了"),
        ({"name": "王大伯", "contact": "", "reason": "很" * 1200}, "理由太长了"),
    ],
)
def test_a_bad_objection_gets_a_400_and_a_chinese_message_and_saves_nothing(
    app, client, web_world, data, message
):
    claim_id = fresh_claim(app, web_world)
    page = client.post(f"/p/VA/notice/claims/{claim_id}/object", data=data)
    assert page.status_code == 400
    assert message in page.get_data(as_text=True)
    assert count_objections(app) == 0


def test_the_objection_form_checks_its_csrf_token(app, client, web_world):
    claim_id = fresh_claim(app, web_world)
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.post(
        f"/p/VA/notice/claims/{claim_id}/object", data={"name": "王大伯", "reason": "不属实"}
    )
    assert page.status_code == 400
    assert count_objections(app) == 0


def test_an_objection_after_the_notice_is_refused(app, client, web_world):
    claim_id = fresh_claim(app, web_world, now=utcnow() - timedelta(days=7, minutes=1))
    page = client.post(
        f"/p/VA/notice/claims/{claim_id}/object", data={"name": "王大伯", "reason": "不属实"}
    )
    assert page.status_code == 409
    assert "公示期已结束" in page.get_data(as_text=True)
    assert count_objections(app) == 0


def test_a_flood_of_objections_is_refused_with_a_429(app, client, web_world):
    claim_id = fresh_claim(app, web_world)
    url = f"/p/VA/notice/claims/{claim_id}/object"
    for name in ("甲", "乙"):
        assert client.post(url, data={"name": name, "reason": "不属实"}).status_code == 302
    page = client.post(url, data={"name": "丙", "reason": "不属实"})
    assert page.status_code == 429
    assert "太多" in page.get_data(as_text=True)
    assert count_objections(app) == 2


def test_an_objection_to_another_villages_claim_is_not_found(
    app, client, web_world, web_other_world
):
    claim_id = fresh_claim(app, web_other_world)
    page = client.get(f"/p/VA/notice/claims/{claim_id}/object")
    assert page.status_code == 404


# ---- the staff page -------------------------------------------------------------------


def test_the_staff_notice_page_needs_a_login_in_the_village(client, web_world, web_other_world):
    assert client.get("/v/VA/notice").status_code == 302
    login(client, web_other_world.users["clerk"])
    assert client.get("/v/VA/notice").status_code == 403


def test_a_reviewer_sees_objections_and_dismisses_one(app, client, web_world):
    claim_id = fresh_claim(app, web_world)
    objection_id = open_objection(app, claim_id)
    login(client, web_world.users["reviewer"])
    page = client.get("/v/VA/notice")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "张建华" in html  # staff see full names
    assert "驳回异议" in html and "王大伯" in html
    url = f"/v/VA/notice/objections/{objection_id}/resolve"
    refused = client.post(url, data={"decision": "dismiss", "reason": ""})
    assert refused.status_code == 400
    assert "处理异议必须写明理由" in refused.get_data(as_text=True)
    done = client.post(url, data={"decision": "dismiss", "reason": "核实属实。"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(Objection, objection_id).state == ObjectionState.DISMISSED


def test_a_recused_reviewer_is_refused_with_the_reason(app, client, web_world):
    claim_id = fresh_claim(app, web_world, household=2)  # reviewer2 lives there
    objection_id = open_objection(app, claim_id)
    login(client, web_world.users["reviewer2"])
    assert "须回避" in client.get("/v/VA/notice").get_data(as_text=True)
    page = client.post(
        f"/v/VA/notice/objections/{objection_id}/resolve",
        data={"decision": "uphold", "reason": "成立"},
    )
    assert page.status_code == 403
    assert "自己家" in page.get_data(as_text=True) or "回避" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Objection, objection_id).state == ObjectionState.OPEN


def test_a_clerk_cannot_decide_objections(app, client, web_world):
    objection_id = open_objection(app, fresh_claim(app, web_world))
    login(client, web_world.users["clerk"])
    page = client.post(
        f"/v/VA/notice/objections/{objection_id}/resolve",
        data={"decision": "uphold", "reason": "成立"},
    )
    assert page.status_code == 403


def test_objections_of_another_village_are_out_of_reach(app, client, web_world, web_other_world):
    objection_id = open_objection(app, fresh_claim(app, web_other_world))
    login(client, web_world.users["reviewer"])
    page = client.post(
        f"/v/VA/notice/objections/{objection_id}/resolve",
        data={"decision": "uphold", "reason": "成立"},
    )
    assert page.status_code == 404


def test_a_clerk_records_a_paper_objection(app, client, web_world):
    claim_id = fresh_claim(app, web_world)
    login(client, web_world.users["clerk"])
    url = f"/v/VA/notice/claims/{claim_id}/paper-objection"
    assert "异议人姓名" in client.get(url).get_data(as_text=True)
    bad = client.post(url, data={"name": "李婶", "reason": ""})
    assert bad.status_code == 400 and count_objections(app) == 0
    assert client.post(url, data={"name": "李婶", "reason": "书面异议"}).status_code == 302
    with app.app_context():
        objection = db.session.scalar(select(Objection))
        assert objection.received_by_id == web_world.users["clerk"].id


def test_staff_download_the_notice_sheet(app, client, web_world):
    fresh_claim(app, web_world)
    login(client, web_world.users["clerk"])
    page = client.get("/v/VA/notice/sheet.pdf")
    assert page.status_code == 200
    assert page.mimetype == "application/pdf"
    assert page.data.startswith(b"%PDF")
    assert "attachment" in page.headers["Content-Disposition"]


def test_a_cashier_may_not_print_the_notice_sheet(client, web_world):
    login(client, web_world.users["cashier"])
    assert client.get("/v/VA/notice/sheet.pdf").status_code == 403


def test_notice_sheet_cli_writes_a_pdf(app, web_world, tmp_path):
    fresh_claim(app, web_world)
    runner = app.test_cli_runner()
    out = tmp_path / "notice.pdf"
    result = runner.invoke(
        args=["notice-sheet", "--village", "VA", "--group", "一组", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "1 条申报在公示中" in result.output
    assert out.read_bytes().startswith(b"%PDF")
    missing = runner.invoke(args=["notice-sheet", "--village", "NOPE", "--out", str(out)])
    assert missing.exit_code == 2
    no_group = runner.invoke(
        args=["notice-sheet", "--village", "VA", "--group", "九组", "--out", str(out)]
    )
    assert no_group.exit_code == 2
    assert "九组" in no_group.output


# ---- corrections ----------------------------------------------------------------------


def posted_entry(app, world, household: int = 0) -> tuple[int, int]:
    claim_id = fresh_claim(app, world, household=household, now=utcnow() - timedelta(days=8))
    with app.app_context():
        post_due(db.session)
        entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.claim_id == claim_id))
        return entry.id, entry.household_id


def test_a_correction_is_proposed_decided_by_another_and_noticed_before_it_counts(
    app, client, web_world
):
    entry_id, household_id = posted_entry(app, web_world)
    login(client, web_world.users["reviewer"])
    url = f"/v/VA/households/{household_id}/entries"
    assert f"/v/VA/entries/{entry_id}/correct" in client.get(url).get_data(as_text=True)
    form = client.get(f"/v/VA/entries/{entry_id}/correct").get_data(as_text=True)
    assert "提出更正" in form and "另一位评议人" in form
    empty = client.post(f"/v/VA/entries/{entry_id}/correct", data={"reason": " "})
    assert empty.status_code == 400
    assert "原因" in empty.get_data(as_text=True)
    done = client.post(f"/v/VA/entries/{entry_id}/correct", data={"reason": "录错了农户。"})
    assert done.status_code == 302
    again = client.post(f"/v/VA/entries/{entry_id}/correct", data={"reason": "录错了农户。"})
    assert again.status_code == 302  # a double tap changes nothing more
    html = client.get(url).get_data(as_text=True)
    assert "更正办理中" in html and "录错了农户。" in html
    with app.app_context():
        claims = db.session.scalars(select(Claim).where(Claim.kind == "correction")).all()
        assert [(c.state, c.points, c.reverses_entry_id) for c in claims] == [
            (ClaimState.RECORDED, -10, entry_id)
        ]
        assert db.session.scalar(select(func.count(LedgerEntry.id))) == 1
        correction_id = claims[0].id
    # The proposer may not approve it; the queue shows it as a correction.
    queue = client.get("/v/VA/review").get_data(as_text=True)
    assert "更正：" in queue and "录错了农户。" in queue
    refused = client.post(f"/v/VA/review/{correction_id}/approve")
    assert refused.status_code == 403
    client.post("/logout")
    login(client, web_world.users["admin"])
    assert client.post(f"/v/VA/review/{correction_id}/approve").status_code == 303
    public = client.get("/p/VA/notice").get_data(as_text=True)
    assert "更正：" in public and "录错了农户。" in public
    with app.app_context():
        assert db.session.scalar(select(func.count(LedgerEntry.id))) == 1  # not before the notice
        post_due(db.session, now=utcnow() + timedelta(days=8))
        reversal = db.session.scalar(select(LedgerEntry).where(LedgerEntry.reverses_id == entry_id))
        assert (reversal.points, reversal.reason, reversal.claim_id) == (
            -10,
            "录错了农户。",
            correction_id,
        )
    html = client.get(url).get_data(as_text=True)
    assert "更正：" in html and "已更正" in html
    again = client.post(f"/v/VA/entries/{entry_id}/correct", data={"reason": "再改"})
    assert again.status_code == 302
    public = client.get("/p/VA/notice").get_data(as_text=True)
    assert "近期更正" in public and "录错了农户。" in public


def test_correction_refusals_come_with_their_message(app, client, web_world):
    entry_id, household_id = posted_entry(app, web_world, household=2)
    login(client, web_world.users["reviewer2"])  # lives in household 2
    page = client.post(f"/v/VA/entries/{entry_id}/correct", data={"reason": "改"})
    assert page.status_code == 403
    assert "回避" in client.get(f"/v/VA/households/{household_id}/entries").get_data(as_text=True)
    client.post("/logout")
    login(client, web_world.users["cashier"])
    assert (
        client.post(f"/v/VA/entries/{entry_id}/correct", data={"reason": "改"}).status_code == 403
    )
    with app.app_context():
        assert (
            db.session.scalar(select(func.count(Claim.id)).where(Claim.kind == "correction")) == 0
        )
        assert db.session.scalar(select(func.count(LedgerEntry.id))) == 1


def test_household_entries_of_another_village_are_not_found(
    app, client, web_world, web_other_world
):
    entry_id, household_id = posted_entry(app, web_other_world)
    login(client, web_world.users["reviewer"])
    assert client.get(f"/v/VA/households/{household_id}/entries").status_code == 404
    assert client.get(f"/v/VA/entries/{entry_id}/correct").status_code == 404
    assert (
        client.post(f"/v/VA/entries/{entry_id}/correct", data={"reason": "改"}).status_code == 404
    )


# ---- audit --------------------------------------------------------------------------


def read_csv(response) -> list[dict[str, str]]:
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def test_admins_export_the_audit_log_as_csv(app, client, web_world):
    objection_id = open_objection(app, fresh_claim(app, web_world), name="王大伯")
    login(client, web_world.users["admin"])
    response = client.post("/v/VA/audit.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = read_csv(response)
    actions = {r["action"] for r in rows}
    assert {"claim.record", "claim.approve", "objection.raise", "login"} <= actions
    raised = next(r for r in rows if r["action"] == "objection.raise")
    assert raised["actor"] == "王大伯" and raised["ip"] == "10.0.0.5"
    assert raised["object_type"] == "objection" and raised["object_id"] == str(objection_id)
    assert json.loads(raised["after"])["reason"] == "不属实。"
    assert datetime.fromisoformat(raised["time"]).utcoffset() == timedelta(hours=8)
    approve = next(r for r in rows if r["action"] == "claim.approve")
    assert json.loads(approve["before"]) == {"state": "recorded"}
    # Filters apply to the export too; the export itself is audited.
    only = read_csv(client.post("/v/VA/audit.csv?action=objection.raise"))
    assert [r["action"] for r in only] == ["objection.raise"]
    future = (utcnow() + timedelta(days=3)).date().isoformat()
    assert read_csv(client.post(f"/v/VA/audit.csv?from={future}")) == []
    with app.app_context():
        exported = select(func.count(AuditEvent.id)).where(AuditEvent.action == "audit.export")
        assert db.session.scalar(exported) == 3


def test_audit_csv_defuses_spreadsheet_formulas(app, client, web_world):
    open_objection(app, fresh_claim(app, web_world), name="=HYPERLINK(1)")
    login(client, web_world.users["admin"])
    rows = read_csv(client.post("/v/VA/audit.csv?action=objection.raise"))
    assert rows[0]["actor"] == "'=HYPERLINK(1)"


def test_the_audit_page_filters_by_action_type_and_date(app, client, web_world):
    open_objection(app, fresh_claim(app, web_world))
    login(client, web_world.users["admin"])
    page = client.get("/v/VA/audit?object_type=objection")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "objection.raise" in html and "claim.approve</span>" not in html
    today = utcnow().date().isoformat()
    assert "objection.raise" in client.get(f"/v/VA/audit?from=2000-01-01&to={today}").get_data(
        as_text=True
    )
    assert client.get("/v/VA/audit?from=not-a-date").status_code == 200


@pytest.mark.parametrize("user", ["clerk", "reviewer", "cashier"])
def test_only_admins_read_the_audit_log(client, web_world, user):
    login(client, web_world.users[user])
    assert client.get("/v/VA/audit").status_code == 403
    assert client.post("/v/VA/audit.csv").status_code == 403


def test_a_clerk_sees_objections_but_no_decision_buttons(app, client, web_world):
    open_objection(app, fresh_claim(app, web_world))
    login(client, web_world.users["clerk"])
    html = client.get("/v/VA/notice").get_data(as_text=True)
    assert "登记书面异议" in html and "下载公示表" in html and "不属实。" in html
    assert "王大伯" not in html and "异议人信息仅监督委员可见" in html
    assert "驳回异议" not in html
