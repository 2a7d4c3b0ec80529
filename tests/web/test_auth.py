"""Staff login: Chinese by default, throttling, audit with the address, CSRF, secret key."""

from __future__ import annotations

import re
import stat
import threading

import pytest
from conftest import NOW, PASSWORD, login
from sqlalchemy import select

from app import create_app
from app.config import _secret_key
from app.extensions import db
from credits.errors import LoginFailed
from credits.models import AuditEvent, User
from credits.users import authenticate

IP = "10.9.8.7"


def post_login(client, username, password, **kwargs):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": IP},
        **kwargs,
    )


def test_login_page_is_in_chinese_by_default(client):
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'lang="zh-CN"' in html
    assert "登录" in html and "用户名" in html
    assert ">Log in<" not in html


def test_wrong_password_is_refused_with_a_chinese_message(client, web_world):
    clerk = web_world.users["clerk"]
    response = post_login(client, clerk.username, "wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    # Unknown user names get the very same answer.
    unknown = post_login(client, "nobody-here", "wrong-password")
    assert unknown.status_code == 401
    assert "用户名或密码错误" in unknown.get_data(as_text=True)
    assert client.get("/v/VA/").status_code == 302  # still logged out


def test_failures_throttle_the_failing_address_not_the_real_user(client, web_world):
    clerk = web_world.users["clerk"]
    for _ in range(5):
        assert post_login(client, clerk.username, "wrong-password").status_code == 401
    throttled = post_login(client, clerk.username, PASSWORD)
    assert throttled.status_code == 429
    assert "尝试次数过多" in throttled.get_data(as_text=True)
    assert client.get("/v/VA/").status_code == 302
    # The clerk at another address logs in with the right password at once.
    elsewhere = client.post(
        "/login",
        data={"username": clerk.username, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.1.1.1"},
    )
    assert elsewhere.status_code == 302
    assert client.get("/v/VA/").status_code == 200


def test_one_address_trying_many_accounts_is_throttled(client, web_world):
    for i in range(10):
        assert post_login(client, f"guess-{i}", "wrong-password").status_code == 401
    assert post_login(client, "guess-99", "wrong-password").status_code == 429
    # The attacker's address is held up; the admin at the office logs in as usual.
    office = client.post(
        "/login",
        data={"username": web_world.users["admin"].username, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.2.2.2"},
    )
    assert office.status_code == 302


def test_good_logins_do_not_use_up_the_throttle(client, web_world):
    clerk = web_world.users["clerk"]
    for _ in range(8):
        assert post_login(client, clerk.username, PASSWORD).status_code == 302
        client.post("/logout")
    assert post_login(client, clerk.username, PASSWORD).status_code == 302


def test_every_login_and_failed_login_is_audited_with_the_address(app, client, web_world):
    clerk = web_world.users["clerk"]
    post_login(client, clerk.username, "wrong-password")
    post_login(client, "nobody-here", "wrong-password")
    assert post_login(client, clerk.username, PASSWORD).status_code == 302
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("login%")).order_by(AuditEvent.id)
        ).all()
        seen = [(e.action, e.actor_id, e.actor_name, e.ip) for e in events]
    assert [(action, actor_id, ip) for action, actor_id, _, ip in seen] == [
        ("login.failed", clerk.id, IP),
        ("login.failed", None, IP),
        ("login", clerk.id, IP),
    ], seen
    assert seen[1][2] == "nobody-here"  # the name that was tried


def test_posts_without_a_csrf_token_are_refused(db_url, tmp_path, web_world):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "csrf-secret",
            "SQLALCHEMY_DATABASE_URI": db_url,
            "WTF_CSRF_ENABLED": True,
            "UPLOAD_DIR": str(tmp_path / "uploads"),
        }
    )
    client = app.test_client()
    clerk = web_world.users["clerk"]
    refused = client.post("/login", data={"username": clerk.username, "password": PASSWORD})
    assert refused.status_code == 400
    assert client.get("/v/VA/").status_code == 302  # not logged in
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    accepted = client.post(
        "/login", data={"username": clerk.username, "password": PASSWORD, "csrf_token": token}
    )
    assert accepted.status_code == 302
    assert client.get("/v/VA/").status_code == 200
    assert client.post("/logout").status_code == 400  # logging out is a form post too
    assert client.get("/v/VA/").status_code == 200
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_logout_needs_a_post(client, web_world):
    assert login(client, web_world.users["clerk"]).status_code == 302
    assert client.get("/logout").status_code == 405
    assert client.get("/v/VA/").status_code == 200
    out = client.post("/logout")
    assert out.status_code == 302 and "/login" in out.headers["Location"]
    assert client.get("/v/VA/").status_code == 302


def test_language_switch_goes_to_english_and_back(client):
    switched = client.get("/lang/en?next=/login")
    assert switched.status_code == 302 and switched.headers["Location"].endswith("/login")
    english = client.get("/login").get_data(as_text=True)
    assert "Log in" in english and 'lang="en"' in english and "登录" not in english
    client.get("/lang/zh_CN?next=/login")
    assert "登录" in client.get("/login").get_data(as_text=True)
    # An unknown language changes nothing.
    client.get("/lang/xx")
    assert "登录" in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "/\\evil.example/", "https://evil.example/", "/\t/evil.example", ""],
)
def test_language_switch_only_redirects_within_the_site(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_login_next_only_redirects_within_the_site(client, web_world):
    clerk = web_world.users["clerk"]
    response = client.post(
        "/login?next=/\\evil.example/", data={"username": clerk.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]


def test_secret_key_is_generated_private_once_and_reused(tmp_path):
    key = _secret_key(tmp_path)
    path = tmp_path / "secret_key"
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _secret_key(tmp_path) == key
    assert path.read_text().strip() == key
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_workers_starting_together_share_one_secret_key(tmp_path):
    keys: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait(timeout=10)
        keys.append(_secret_key(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert len(keys) == 8 and len(set(keys)) == 1
    assert (tmp_path / "secret_key").read_text().strip() == keys[0]


def test_logged_in_user_is_a_fresh_read_of_the_database(app, client, web_world):
    # Deactivating a user ends their session at the next request.
    clerk = web_world.users["clerk"]
    assert login(client, clerk).status_code == 302
    with app.app_context():
        db.session.get(User, clerk.id).active = False
        db.session.commit()
    assert client.get("/v/VA/").status_code == 302


def test_an_unknown_user_name_costs_a_password_check_too(app, web_world, monkeypatch):
    # Otherwise a quick answer would tell an attacker which user names exist.
    from credits import users

    checks: list[str] = []
    real = users.check_password
    monkeypatch.setattr(users, "check_password", lambda h, p: checks.append(p) or real(h, p))
    with app.app_context():
        with pytest.raises(LoginFailed):
            authenticate(db.session, "nobody-here", "guess-1", now=NOW)
        with pytest.raises(LoginFailed):
            authenticate(db.session, web_world.users["clerk"].username, "guess-2", now=NOW)
    assert checks == ["guess-1", "guess-2"]
