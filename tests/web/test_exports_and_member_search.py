"""Exports are POSTs (a GET never writes); search shows the member it found; namesakes differ."""

from __future__ import annotations

import pytest
from conftest import VillageWorld, login
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from credits.models import AuditEvent, Household, Member


def events(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count(AuditEvent.id))) or 0)


def text(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("user", "url"),
    [("admin", "/v/VA/audit.csv"), ("clerk", "/v/VA/roster/export")],
)
def test_a_get_of_an_export_writes_nothing(
    app: Flask, client: FlaskClient, web_world: VillageWorld, user: str, url: str
) -> None:
    login(client, web_world.users[user])
    before = events(app)
    assert client.get(url).status_code == 405
    assert client.get(url + "?action=login").status_code == 405
    assert events(app) == before


def test_the_export_buttons_post_with_the_filters(
    client: FlaskClient, web_world: VillageWorld
) -> None:
    login(client, web_world.users["admin"])
    page = text(client.get("/v/VA/audit?action=login&from=2026-01-01"))
    assert 'method="post" action="/v/VA/audit.csv?action=login&amp;from=2026-01-01"' in page
    assert 'name="csrf_token"' in page
    roster = text(client.get("/v/VA/roster"))
    assert 'method="post" action="/v/VA/roster/export"' in roster


def test_each_export_post_is_audited_once(
    app: Flask, client: FlaskClient, web_world: VillageWorld
) -> None:
    login(client, web_world.users["admin"])
    before = events(app)
    response = client.post("/v/VA/audit.csv?action=login")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-VA-')
    response.get_data()
    assert events(app) == before + 1
    assert client.post("/v/VA/roster/export").status_code == 200
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(2)
        ).all()
    assert actions == ["roster.export", "audit.export"]


def test_searching_a_members_name_shows_that_member(
    client: FlaskClient, web_world: VillageWorld
) -> None:
    login(client, web_world.users["clerk"])
    found = client.get("/v/VA/roster/search?q=李小明").get_json()["households"]
    assert [h["head_name"] for h in found] == ["李秀兰"]
    son = next(m for m in found[0]["members"] if m["name"] == "李小明")
    assert found[0]["matched"] == [son["id"]]
    # By the head's own name, no member is singled out.
    head = client.get("/v/VA/roster/search?q=李秀兰").get_json()["households"]
    assert head[0]["matched"] == []
    # Initials find the member too, and the list page without JavaScript shows them.
    assert client.get("/v/VA/roster/search?q=lxm").get_json()["households"][0]["matched"] == [
        son["id"]
    ]
    page = text(client.get("/v/VA/roster?q=李小明"))
    assert "成员：李小明" in page and "李秀兰" in page
    assert "成员：" not in text(client.get("/v/VA/roster?q=李秀兰"))


def test_two_members_of_one_name_are_told_apart_by_birth_year(
    app: Flask, client: FlaskClient, web_world: VillageWorld
) -> None:
    with app.app_context():
        home = db.session.get(Household, web_world.households[0].id)
        assert home is not None
        son = next(m for m in home.members if m.name == "张小明")
        son.birth_year = 1990
        db.session.add(
            Member(
                village_id=home.village_id,
                household_id=home.id,
                name="张小明",
                relation="孙子",
                birth_year=2015,
            )
        )
        db.session.commit()
        home_id = home.id
    login(client, web_world.users["clerk"])
    found = client.get("/v/VA/roster/search?q=张小明").get_json()["households"]
    labels = [m["label"] for m in found[0]["members"]]
    assert labels == ["张建华", "张小明（1990）", "张小明（2015）"]
    assert len(found[0]["matched"]) == 2
    page = text(client.get(f"/v/VA/record?household={home_id}"))
    assert "<span>张小明（1990）</span>" in page and "<span>张小明（2015）</span>" in page
    assert "<span>张建华</span>" in page


def test_the_recording_page_without_javascript_names_the_member_found(
    client: FlaskClient, web_world: VillageWorld
) -> None:
    login(client, web_world.users["clerk"])
    page = text(client.get("/v/VA/record?q=小明"))
    assert page.count('class="hh-hit-member"') == 3
    assert "成员：欧小明" in page and "成员：李小明" in page
