"""Sessions live on the server: logout, a password change, a reset or disabling end them.

A copied session cookie or remember-me cookie is replayed after each of these and
must be refused; throttled logins never keep the real user out (see test_auth.py).
"""

from __future__ import annotations

from datetime import timedelta

from conftest import NOW, PASSWORD, login
from sqlalchemy import select

from app import create_app
from app.extensions import db
from credits import sessions, staff
from credits.models import StaffSession, User

HOME = "/v/VA/"


def _cookies(client) -> dict[str, str]:
    return {
        name: cookie.value
        for name in ("session", "remember_token")
        if (cookie := client.get_cookie(name)) is not None
    }


def _replay(app, cookies: dict[str, str]):
    """A fresh browser carrying copied cookies."""
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief


def _login_remembered(client, user):
    return client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "remember": "y"}
    )


def test_a_copied_session_cookie_works_until_logout_and_never_after(app, client, web_world):
    assert login(client, web_world.users["clerk"]).status_code == 302
    copied = _cookies(client)
    assert _replay(app, copied).get(HOME).status_code == 200
    client.post("/logout")
    assert _replay(app, copied).get(HOME).status_code == 302


def test_a_copied_remember_me_cookie_is_refused_after_logout(app, client, web_world):
    assert _login_remembered(client, web_world.users["clerk"]).status_code == 302
    remember = {"remember_token": client.get_cookie("remember_token").value}
    assert _replay(app, remember).get(HOME).status_code == 200  # works alone, before
    client.post("/logout")
    assert _replay(app, remember).get(HOME).status_code == 302


def test_a_password_change_ends_every_other_cookie_but_keeps_this_device(app, client, web_world):
    clerk = web_world.users["clerk"]
    tablet = app.test_client()
    assert _login_remembered(tablet, clerk).status_code == 302
    stolen = _cookies(tablet)
    assert login(client, clerk).status_code == 302
    before_change = _cookies(client)
    changed = client.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "new": "a new long passphrase",
            "repeat": "a new long passphrase",
        },
    )
    assert changed.status_code == 302
    assert client.get(HOME).status_code == 200  # this device carries on
    assert _replay(app, stolen).get(HOME).status_code == 302
    assert _replay(app, before_change).get(HOME).status_code == 302
    assert tablet.get(HOME).status_code == 302


def test_a_reset_and_disabling_end_the_users_sessions(app, client, web_world):
    clerk, admin = web_world.users["clerk"], web_world.users["admin"]
    assert _login_remembered(client, clerk).status_code == 302
    copied = _cookies(client)
    with app.app_context():
        actor = db.session.get(User, admin.id)
        staff.reset_password(db.session, actor=actor, user_id=clerk.id)
    assert client.get(HOME).status_code == 302
    assert _replay(app, copied).get(HOME).status_code == 302

    assert login(client, web_world.users["clerk2"]).status_code == 302
    copied = _cookies(client)
    with app.app_context():
        actor = db.session.get(User, admin.id)
        staff.set_active(
            db.session, actor=actor, user_id=web_world.users["clerk2"].id, active=False
        )
    assert client.get(HOME).status_code == 302
    assert _replay(app, copied).get(HOME).status_code == 302
    assert login(client, web_world.users["clerk2"]).status_code == 401


def test_a_user_sees_their_sessions_and_ends_another(app, client, web_world):
    clerk = web_world.users["clerk"]
    tablet = app.test_client()
    tablet.post(
        "/login",
        data={"username": clerk.username, "password": PASSWORD},
        headers={"User-Agent": "Mozilla/5.0 (Linux; Android 13) Chrome/120.0 Safari/537.36"},
        environ_base={"REMOTE_ADDR": "10.3.3.3"},
    )
    assert login(client, clerk).status_code == 302
    page = client.get("/account/sessions").get_data(as_text=True)
    assert "Android · Chrome" in page and "10.3.3.3" in page and "本设备" in page
    with app.app_context():
        records = db.session.scalars(
            select(StaffSession).where(StaffSession.user_id == clerk.id)
        ).all()
        tablet_id = next(r.id for r in records if r.ip == "10.3.3.3")
    assert tablet.get(HOME).status_code == 200
    ended = client.post("/account/sessions/end", data={"session": str(tablet_id)})
    assert ended.status_code == 302
    assert tablet.get(HOME).status_code == 302
    assert client.get(HOME).status_code == 200
    # Another user's session id, or nonsense, changes nothing.
    assert client.post("/account/sessions/end", data={"session": "9" * 30}).status_code == 302
    assert client.post("/account/sessions/end", data={"session": "1\x00"}).status_code == 400


def test_a_session_expires_after_the_idle_time(app, web_world):
    with app.app_context():
        user = db.session.get(User, web_world.users["clerk"].id)
        token = sessions.open_session(db.session, user, now=NOW)
        db.session.commit()
        idle = timedelta(hours=12)
        assert sessions.live_user(db.session, user.id, token, now=NOW + idle, idle=idle)
        assert (
            sessions.live_user(
                db.session, user.id, token, now=NOW + idle + timedelta(minutes=1), idle=idle
            )
            is None
        )
        # A recent request noted in the signed cookie keeps it alive.
        seen = NOW + timedelta(hours=11)
        assert sessions.live_user(
            db.session, user.id, token, now=NOW + idle + timedelta(hours=1), seen=seen, idle=idle
        )
        # Another user's id with this token is nobody.
        other = web_world.users["clerk2"].id
        assert sessions.live_user(db.session, other, token, now=NOW, idle=idle) is None


def test_an_old_style_cookie_without_a_session_token_is_refused(app, web_world):
    thief = app.test_client()
    with thief.session_transaction() as cookie_session:
        cookie_session["_user_id"] = str(web_world.users["admin"].id)
        cookie_session["_fresh"] = True
    assert thief.get(HOME).status_code == 302


def test_cookies_are_httponly_lax_and_secure_behind_https(db_url, tmp_path, web_world):
    secure_app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "s",
            "SQLALCHEMY_DATABASE_URI": db_url,
            "WTF_CSRF_ENABLED": False,
            "UPLOAD_DIR": str(tmp_path / "u"),
            "PREFERRED_URL_SCHEME": "https",
        }
    )
    client = secure_app.test_client()
    response = _login_remembered(client, web_world.users["clerk"])
    headers = response.headers.getlist("Set-Cookie")
    for name in ("session=", "remember_token="):
        cookie = next(h for h in headers if h.startswith(name))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie, cookie
    with secure_app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_cookies_are_not_secure_on_plain_http(client, web_world):
    response = _login_remembered(client, web_world.users["clerk"])
    headers = response.headers.getlist("Set-Cookie")
    cookie = next(h for h in headers if h.startswith("remember_token="))
    assert "Secure" not in cookie and "SameSite=Lax" in cookie and "HttpOnly" in cookie
