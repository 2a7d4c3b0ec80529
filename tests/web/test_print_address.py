"""Print pages say where the QR codes will point, and warn when phones could not open it."""

from __future__ import annotations

import pytest
from conftest import PASSWORD, login

LAN = "http://192.168.1.10:5000"


def login_at(client, user, base_url):
    """Log in at another address (the session cookie belongs to that host)."""
    data = {"username": user.username, "password": PASSWORD}
    assert client.post("/login", data=data, base_url=base_url).status_code == 302


PAGES = ["/v/VA/cards", "/v/VA/notice"]


@pytest.mark.parametrize("page", PAGES)
def test_a_loopback_base_url_is_warned_about_with_the_address(app, client, web_world, page):
    app.config["BASE_URL"] = "http://127.0.0.1:5000"
    login(client, web_world.users["clerk"])
    html = client.get(page).get_data(as_text=True)
    assert "flash-warning print-address" in html
    assert "http://127.0.0.1:5000" in html and "打不开" in html


@pytest.mark.parametrize("page", PAGES)
def test_an_address_other_than_the_one_opened_is_warned_about(app, client, web_world, page):
    app.config["BASE_URL"] = "https://jf.taoyuan.example"
    login_at(client, web_world.users["clerk"], LAN)
    html = client.get(page, base_url=LAN).get_data(as_text=True)
    assert "flash-warning print-address" in html
    assert "https://jf.taoyuan.example" in html and "http://192.168.1.10:5000" in html


@pytest.mark.parametrize("page", PAGES)
def test_the_address_the_page_was_opened_at_is_simply_shown(app, client, web_world, page):
    app.config["BASE_URL"] = LAN
    login_at(client, web_world.users["clerk"], LAN)
    html = client.get(page, base_url=LAN).get_data(as_text=True)
    assert "flash-warning print-address" not in html
    assert "打印出的二维码指向 http://192.168.1.10:5000" in html
