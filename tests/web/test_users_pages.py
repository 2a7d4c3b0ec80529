"""Staff management in the web app: add with a one-time password, reset, disable, scope."""

from __future__ import annotations

import re

import pytest
from conftest import PASSWORD, login
from sqlalchemy import select

from app.extensions import db
from credits.models import AuditEvent, Role, User
from credits.users import create_user

NEW_PASSWORD = "我家门前有条小河流过村"  # a sentence: long, not common


def _temp_password(html: str) -> str:
    found = re.search(r"<code>([a-z0-9-]{14})</code>", html)
    assert found, html
    return found.group(1)


def _add_clerk(client, world, username="va-newclerk", household=""):
    return client.post(
        "/users/new",
        data={
            "username": username,
            "display_name": "新录入员",
            "role": "clerk",
            "place": f"v{world.village.id}",
            "household": household,
        },
    )


def _audit(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_an_admin_adds_a_clerk_who_must_choose_a_password(app, client, web_world):
    login(client, web_world.users["admin"])
    page = client.get("/users")
    assert page.status_code == 200 and "人员账号" in page.get_data(as_text=True)
    added = _add_clerk(client, web_world, household=str(web_world.households[1].id))
    assert added.status_code == 200
    temp = _temp_password(added.get_data(as_text=True))
    # The one-time password is shown once: it is nowhere on the list, nor in the audit.
    assert temp not in client.get("/users").get_data(as_text=True)
    assert all(temp not in str(e.after) for e in _audit(app, "user.create"))
    client.post("/logout")

    fresh = app.test_client()
    first = fresh.post("/login", data={"username": "va-newclerk", "password": temp})
    assert first.status_code == 302 and first.headers["Location"].endswith("/account/password")
    # Every other page sends them back to the password form until it is changed.
    blocked = fresh.get("/v/VA/record")
    assert blocked.status_code == 302 and blocked.headers["Location"].endswith("/account/password")
    weak = fresh.post(
        "/account/password", data={"current": temp, "new": "1234567890", "repeat": "1234567890"}
    )
    assert weak.status_code == 400 and "太常见" in weak.get_data(as_text=True)
    done = fresh.post(
        "/account/password", data={"current": temp, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    )
    assert done.status_code == 302
    assert fresh.get("/v/VA/record").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "va-newclerk"))
        assert user.household_id == web_world.households[1].id
        assert user.must_change_password is False
    assert len(_audit(app, "user.change_password")) == 1


def test_a_reset_gives_a_new_one_time_password_and_the_old_one_stops(app, client, web_world):
    clerk = web_world.users["clerk"]
    login(client, web_world.users["admin"])
    reset = client.post(f"/users/{clerk.id}/reset")
    assert reset.status_code == 200
    temp = _temp_password(reset.get_data(as_text=True))
    other = app.test_client()
    assert login(other, clerk).status_code == 401
    assert login(other, clerk, temp).status_code == 302
    assert len(_audit(app, "user.reset_password")) == 1


def test_disabling_a_user_ends_their_session_and_enabling_lets_them_back(app, client, web_world):
    clerk = web_world.users["clerk"]
    tablet = app.test_client()
    login(tablet, clerk)
    assert tablet.get("/v/VA/record").status_code == 200
    login(client, web_world.users["admin"])
    assert client.post(f"/users/{clerk.id}/active", data={"active": "0"}).status_code == 302
    assert tablet.get("/v/VA/record").status_code == 302
    assert login(tablet, clerk).status_code == 401
    assert "已停用" in client.get("/users").get_data(as_text=True)
    client.post(f"/users/{clerk.id}/active", data={"active": "1"})
    assert login(tablet, clerk).status_code == 302
    assert [e.action for e in _audit(app, "user.disable")] == ["user.disable"]


def test_an_admin_edits_role_and_household_link(app, client, web_world):
    clerk = web_world.users["clerk"]
    login(client, web_world.users["admin"])
    assert client.get(f"/users/{clerk.id}").status_code == 200
    saved = client.post(
        f"/users/{clerk.id}",
        data={
            "display_name": "王会计",
            "role": "reviewer",
            "household": str(web_world.households[0].id),
        },
    )
    assert saved.status_code == 302
    with app.app_context():
        user = db.session.get(User, clerk.id)
        assert (user.display_name, user.role, user.household_id) == (
            "王会计",
            Role.REVIEWER,
            web_world.households[0].id,
        )


@pytest.mark.parametrize(
    ("username", "message"),
    [("va-clerk", "已被使用"), ("has space", "空格"), ("bad\x00name", "控制字符"), ("", "")],
)
def test_bad_new_users_are_refused_and_nothing_is_added(app, client, web_world, username, message):
    login(client, web_world.users["admin"])
    with app.app_context():
        before = db.session.scalar(select(db.func.count(User.id)))
    response = _add_clerk(client, web_world, username=username)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(db.func.count(User.id))) == before


def test_a_foreign_household_link_or_role_is_refused(app, client, web_world, web_other_world):
    login(client, web_world.users["admin"])
    foreign = _add_clerk(client, web_world, household=str(web_other_world.households[0].id))
    assert foreign.status_code == 400
    county = client.post(
        "/users/new",
        data={
            "username": "va-boss",
            "display_name": "x",
            "role": "county_admin",
            "place": f"v{web_world.village.id}",
            "household": "",
        },
    )
    assert county.status_code == 400


def test_staff_of_another_village_and_non_admins_cannot_manage(
    app, client, web_world, web_other_world
):
    b_clerk = web_other_world.users["clerk"]
    login(client, web_world.users["admin"])
    assert client.get(f"/users/{b_clerk.id}").status_code == 404
    assert client.post(f"/users/{b_clerk.id}/reset").status_code == 404
    assert client.post(f"/users/{b_clerk.id}/active", data={"active": "0"}).status_code == 404
    assert web_other_world.users["clerk"].username not in client.get("/users").get_data(
        as_text=True
    )
    client.post("/logout")
    login(client, web_world.users["clerk"])
    assert client.get("/users").status_code == 403
    assert client.post(f"/users/{web_world.users['clerk2'].id}/reset").status_code == 403


def test_a_township_admin_manages_the_villages_below_only(app, client, web_world, web_other_world):
    with app.app_context():
        township = web_world.village.region_id
        create_user(
            db.session,
            username="qx-admin",
            password=PASSWORD,
            role=Role.TOWNSHIP_ADMIN,
            region_id=township,
        )
    client.post("/login", data={"username": "qx-admin", "password": PASSWORD})
    listing = client.get("/users").get_data(as_text=True)
    assert web_world.users["clerk"].username in listing
    assert web_other_world.users["clerk"].username not in listing
    assert client.get(f"/users/{web_other_world.users['clerk'].id}").status_code == 404
    added = _add_clerk(client, web_world, username="va-fromtown")
    assert added.status_code == 200
    elsewhere = client.post(
        "/users/new",
        data={
            "username": "vb-x",
            "display_name": "x",
            "role": "clerk",
            "place": f"v{web_other_world.village.id}",
            "household": "",
        },
    )
    assert elsewhere.status_code == 400  # not one of the villages offered
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "vb-x")) is None
