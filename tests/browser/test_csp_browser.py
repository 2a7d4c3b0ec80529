"""The main pages run under the Content-Security-Policy without a single violation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, TABLET, live_server
from conftest import PASSWORD
from playwright.sync_api import sync_playwright

pytestmark = pytest.mark.browser

PAGES = [
    "/v/VA/",
    "/v/VA/record",
    "/v/VA/record/batch",
    "/v/VA/review",
    "/v/VA/roster",
    "/v/VA/cards",
    "/v/VA/cards/scan",
    "/v/VA/notice",
    "/p/VA/notice",
    "/users",
    "/account/sessions",
]


@pytest.fixture
def server(app, web_world) -> Iterator[str]:
    with live_server(app) as url:
        yield url


def test_main_pages_load_without_csp_violations(server, web_world):
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = chromium.new_context(viewport=TABLET, locale="zh-CN").new_page()
        violations: list[str] = []
        page.on(
            "console",
            lambda msg: (
                violations.append(msg.text)
                if "Content Security Policy" in msg.text or "Refused to" in msg.text
                else None
            ),
        )
        page.goto(f"{server}/login")
        page.fill("#username", web_world.users["admin"].username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/v/VA/")
        for path in PAGES:
            response = page.goto(f"{server}{path}")
            assert response is not None and response.status < 400, path
            page.wait_for_load_state("networkidle")
        chromium.close()
    assert violations == []
