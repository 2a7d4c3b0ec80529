"""Village admins edit the rules catalogue from the rules page; nobody else can."""

from conftest import login
from sqlalchemy import select

from app.extensions import db
from credits.models import Rule


def test_admin_changes_a_rule_through_the_form(app, client, web_world):
    rule_id = web_world.rule("XL01").id
    login(client, web_world.users["admin"])
    page = client.get(f"/v/VA/schemes/{web_world.scheme.id}/rules").get_data(as_text=True)
    assert f"/v/VA/rules/{rule_id}/edit" in page
    response = client.post(
        f"/v/VA/rules/{rule_id}/edit",
        data={
            "category": "孝老爱亲",
            "title": "悉心照料年迈父母",
            "points": "15",
            "cap_month": "30",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        rule = db.session.get(Rule, rule_id)
        assert (rule.title, rule.points, rule.version) == ("悉心照料年迈父母", 15, 2)


def test_bad_rule_input_is_refused_in_chinese_and_changes_nothing(app, client, web_world):
    rule_id = web_world.rule("XL01").id
    login(client, web_world.users["admin"])
    response = client.post(
        f"/v/VA/rules/{rule_id}/edit",
        data={
            "category": "孝老爱亲",
            "title": "照顾父母",
            "points": "10",
            "cap_month": "5",
        },
    )
    assert response.status_code == 400
    assert "上限" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Rule, rule_id).version == 1


def test_clerks_cannot_edit_rules(client, web_world):
    login(client, web_world.users["clerk"])
    rule_id = web_world.rule("XL01").id
    page = client.get(f"/v/VA/schemes/{web_world.scheme.id}/rules").get_data(as_text=True)
    assert "/edit" not in page
    assert client.get(f"/v/VA/rules/{rule_id}/edit").status_code == 403
    assert client.post(f"/v/VA/rules/{rule_id}/active", data={"active": "0"}).status_code == 403


def test_admin_adds_and_retires_a_rule(app, client, web_world):
    login(client, web_world.users["admin"])
    response = client.post(
        f"/v/VA/schemes/{web_world.scheme.id}/rules/new",
        data={
            "category": "环境卫生",
            "title": "清理河道垃圾",
            "points": "5",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        rule = db.session.scalar(select(Rule).where(Rule.title == "清理河道垃圾"))
        assert rule is not None and rule.active
        rule_id = rule.id
    # Retiring without ticking the confirmation changes nothing and says why.
    unconfirmed = client.post(f"/v/VA/rules/{rule_id}/active", data={"active": "0"})
    assert unconfirmed.status_code == 302 and unconfirmed.location.endswith("/edit")
    assert "确认" in client.get(unconfirmed.location).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Rule, rule_id).active is True
    retired = client.post(f"/v/VA/rules/{rule_id}/active", data={"active": "0", "confirm": "1"})
    assert retired.status_code == 302
    assert "已停用" in client.get(retired.location).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Rule, rule_id).active is False
