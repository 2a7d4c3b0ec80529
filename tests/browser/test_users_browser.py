"""An admin adds a clerk; the clerk logs in with the one-time password and must change it;
the admin disables the clerk and the clerk's open session ends. Chromium, tablet and phone."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, PHONE, SHOTS, TABLET, live_server
from conftest import PASSWORD
from playwright.sync_api import sync_playwright

pytestmark = pytest.mark.browser

CHOSEN = "秋收以后一起去镇上赶集"  # the clerk's own password: a sentence


@pytest.fixture
def server(app, web_world) -> Iterator[str]:
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _log_in(page, server, username, password):
    page.goto(f"{server}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_admin_adds_a_clerk_who_changes_the_password_and_is_then_disabled(
    browser, server, web_world
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    admin_ctx = browser.new_context(viewport=TABLET, locale="zh-CN")
    admin = admin_ctx.new_page()
    _log_in(admin, server, web_world.users["admin"].username, PASSWORD)
    admin.wait_for_url(f"{server}/v/VA/")
    admin.click("text=人员账号")
    admin.wait_for_url(f"{server}/users")
    admin.screenshot(path=str(SHOTS / "users-list-tablet.png"), full_page=True)
    admin.click("text=添加人员")
    admin.fill("#username", "va-lin")
    admin.fill("#display_name", "林晓燕")
    admin.select_option("#role", "clerk")
    admin.select_option("#household", label="李秀兰（2号）")
    admin.screenshot(path=str(SHOTS / "users-add-tablet.png"), full_page=True)
    admin.click("form.form button[type=submit]")
    admin.wait_for_selector(".temp-password-value")
    admin.screenshot(path=str(SHOTS / "users-one-time-password-tablet.png"), full_page=True)
    temp = admin.inner_text(".temp-password-value code").strip()
    assert re.fullmatch(r"[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}", temp)

    clerk_ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
    clerk = clerk_ctx.new_page()
    _log_in(clerk, server, "va-lin", temp)
    clerk.wait_for_url(f"{server}/account/password")
    assert "一次性密码" in clerk.inner_text("main")
    clerk.goto(f"{server}/v/VA/record")  # not before the password is changed
    clerk.wait_for_url(f"{server}/account/password")
    clerk.screenshot(path=str(SHOTS / "account-password-phone.png"), full_page=True)
    clerk.fill("#current", temp)
    clerk.fill("#new", CHOSEN)
    clerk.fill("#repeat", CHOSEN)
    clerk.click("form.form button[type=submit]")
    clerk.wait_for_url(f"{server}/v/VA/")
    assert "密码已修改" in clerk.inner_text("main")
    clerk.goto(f"{server}/account/sessions")
    assert "本设备" in clerk.inner_text("main")
    clerk.screenshot(path=str(SHOTS / "account-sessions-phone.png"), full_page=True)
    clerk.goto(f"{server}/v/VA/record")
    assert clerk.url == f"{server}/v/VA/record"

    admin.goto(f"{server}/users")
    admin.click("text=林晓燕")
    admin.screenshot(path=str(SHOTS / "users-edit-tablet.png"), full_page=True)
    admin.click("text=停用此用户")
    admin.wait_for_url(f"{server}/users")
    assert "已停用" in admin.inner_text("main")

    clerk.goto(f"{server}/v/VA/record")
    clerk.wait_for_url(re.compile(rf"{re.escape(server)}/login.*"))
    _log_in(clerk, server, "va-lin", CHOSEN)
    assert "用户名或密码错误" in clerk.inner_text("main")
    admin_ctx.close()
    clerk_ctx.close()


def test_user_pages_fit_a_phone(browser, server, web_world):
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = ctx.new_page()
    _log_in(page, server, web_world.users["admin"].username, PASSWORD)
    page.wait_for_url(f"{server}/v/VA/")
    page.goto(f"{server}/users")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    page.screenshot(path=str(SHOTS / "users-list-phone.png"), full_page=True)
    ctx.close()
