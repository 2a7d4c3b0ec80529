"""The boards in Chromium: the staff board on a tablet, the public board on a phone (no
JavaScript), the hall TV at 1920×1080; screenshots go to SCREENSHOT_DIR when set."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

import pytest
from boards_support import post
from browser_support import CHROMIUM, CHROMIUM_ARGS, PHONE, SHOTS, TABLET, live_server
from conftest import PASSWORD
from playwright.sync_api import expect, sync_playwright

from app.extensions import db
from credits.boards.kiosk import create_link, token_for
from credits.boards.policies import Policy, save_policy
from credits.models import Village
from credits.villages import add_household, ensure_group

pytestmark = pytest.mark.browser
NAMES = ["王德福", "赵桂英", "孙志强", "周玉梅", "吴建国", "郑淑珍", "冯晓东", "陈丽娟"]
KIOSK = {"width": 1920, "height": 1080}


@pytest.fixture
def server(app, web_world) -> Iterator[tuple[str, str]]:
    with app.app_context():
        village = db.session.get(Village, web_world.village.id)
        group = ensure_group(db.session, village, "二组")
        for i, name in enumerate(NAMES):
            web_world.households.append(
                add_household(
                    db.session,
                    village,
                    head_name=name,
                    group=group,
                    house_number=f"{i + 4}号",
                    members=[{"name": name, "relation": "户主"}],
                )
            )
        db.session.commit()
        save_policy(
            db.session,
            actor=web_world.users["admin"],
            scheme_id=web_world.scheme.id,
            policy=Policy(star_kind="category", star_min_points=10, black_board=True),
        )
        rng = random.Random(7)
        for h in range(len(web_world.households)):
            for _ in range(rng.randint(1, 5)):
                rule = rng.choice(["XL01", "LL01", "ZY01", "HJ02", "YF03", "JY01", "XL04"])
                post(db.session, web_world, h, rule, commit=False)
        post(db.session, web_world, 4, "KF03")
        link = create_link(
            db.session, actor=web_world.users["admin"], village_id=village.id, label="大厅电视"
        )
        token = token_for(village, link)
    with live_server(app) as url:
        yield url, token


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_staff_board_on_a_tablet(server, web_world, browser) -> None:
    url, _ = server
    context = browser.new_context(viewport=TABLET, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("#username", web_world.users["clerk"].username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/v/VA/")
    page.goto(f"{url}/v/VA/boards?period=2026-11")
    expect(page.locator("h1")).to_contain_text("积分榜")
    assert page.locator(".bd-line").count() == 11
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "boards-staff.png"), full_page=True)
    context.close()


def test_public_board_on_a_phone_without_javascript(server, browser) -> None:
    url, _ = server
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    assert page.goto(f"{url}/p/VA/boards?period=2026-11").status == 200
    expect(page.locator(".bd-red .bd-line")).to_have_count(10)
    expect(page.locator(".bd-black")).to_contain_text("邻里吵架斗殴")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "boards-public.png"), full_page=True)
    context.close()


def test_kiosk_fills_a_1080p_screen_and_rotates(server, browser) -> None:
    url, token = server
    context = browser.new_context(viewport=KIOSK, locale="zh-CN")
    page = context.new_page()
    assert page.goto(f"{url}/p/VA/kiosk/{token}?slide=1").status == 200
    expect(page.locator(".k-village")).to_have_text("桃源村")
    expect(page.locator(".k-line")).to_have_count(8)
    name = page.locator(".k-name").first
    assert float(name.evaluate("e => getComputedStyle(e).fontSize").rstrip("px")) >= 60
    # One screen, no scrolling: everything fits 1920×1080.
    assert page.evaluate("document.documentElement.scrollHeight") <= KIOSK["height"]
    refresh = page.locator("meta[http-equiv=refresh]").get_attribute("content")
    assert re.search(r"slide=2$", refresh or "")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "kiosk.png"))
    context.close()
