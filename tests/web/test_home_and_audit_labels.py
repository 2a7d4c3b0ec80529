"""The village home links administrators to their pages; the audit log reads in words."""

from conftest import login, new_claim
from sqlalchemy import select

from app.extensions import db
from credits.models import AuditEvent


def test_logout_is_written_to_the_audit_log_with_the_address(app, client, web_world):
    login(client, web_world.users["clerk"])
    assert client.post("/logout").status_code == 302
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "logout"))
        assert event is not None
        assert event.actor_id == web_world.users["clerk"].id
        assert event.ip == "127.0.0.1"


def test_audit_log_names_actions_in_chinese(app, client, web_world):
    with app.app_context():
        new_claim(db.session, web_world)
    login(client, web_world.users["admin"])
    page = client.get("/v/VA/audit").get_data(as_text=True)
    assert "录入申报" in page
    assert "登录" in page
    assert ">claim.record<" not in page


def test_only_administrators_see_the_audit_link_on_the_home_page(client, web_world):
    login(client, web_world.users["admin"])
    assert "/v/VA/audit" in client.get("/v/VA/").get_data(as_text=True)
    client.post("/logout")
    login(client, web_world.users["clerk"])
    home = client.get("/v/VA/").get_data(as_text=True)
    assert "/v/VA/audit" not in home
    assert "/v/VA/cards" in home  # clerks print cards


def test_tabs_show_only_the_jobs_a_role_may_do(client, web_world):
    login(client, web_world.users["cashier"])
    tabs = client.get("/v/VA/").get_data(as_text=True)
    assert "/v/VA/record" not in tabs and "/v/VA/review" not in tabs
    assert "/v/VA/notice" in tabs
    client.post("/logout")
    login(client, web_world.users["clerk"])
    tabs = client.get("/v/VA/").get_data(as_text=True)
    assert "/v/VA/record" in tabs and "/v/VA/review" not in tabs


def test_home_search_finds_households_by_pinyin_initials(client, web_world):
    login(client, web_world.users["clerk"])
    page = client.get("/v/VA/?q=zjh").get_data(as_text=True)
    assert "张建华" in page
    assert "李秀兰" not in page
