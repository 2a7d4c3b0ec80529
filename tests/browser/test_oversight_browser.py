"""The township view and the integrity report in Chromium: desktop and tablet, no JavaScript."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, PHONE, SHOTS, TABLET, live_server
from conftest import PASSWORD, _post, build_township, build_village, new_claim
from playwright.sync_api import expect, sync_playwright

from app.extensions import db
from credits import cards
from credits.models import Household, Role
from credits.users import create_user
from credits.villages import add_household
from credits.workflow import approve_claim, post_due, reject_claim

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}
CATEGORIES = ["孝老爱亲", "邻里互助", "志愿服务", "环境卫生", "移风易俗"]
MORE = [("VD", "柳溪村"), ("VE", "石桥村"), ("VF", "荷塘村"), ("VG", "松岭村"), ("VH", "竹林村")]


def _busy_villages(session) -> None:
    """More villages of 清溪镇 with a year of awards, so the charts have something to say."""
    rng = random.Random(7)
    for code, name in MORE:
        world = build_village(session, code, name)
        for i in range(rng.randint(2, 9)):
            add_household(
                session, world.village, head_name=f"王{i}民", group=None, house_number=f"{10 + i}号"
            )
        session.commit()
        for month in range(1, 12):
            for household in range(3):
                if rng.random() < 0.3 + 0.05 * month:
                    category = rng.choice(CATEGORIES)
                    day = date(2026, month, rng.randint(1, 28))
                    _post(session, world, household, "award", rng.choice([3, 5, 10]), day, category)


@pytest.fixture
def server(app) -> Iterator[tuple[str, object]]:
    with app.app_context():
        session = db.session
        town = build_township(session)
        _busy_villages(session)
        w = town.a
        zhang = create_user(
            session,
            username="va-zhang",
            password=PASSWORD,
            role=Role.CLERK,
            display_name="张伟",
            village_id=w.village.id,
        )
        w.users["zhang"] = zhang
        workday, saturday = datetime(2026, 11, 20, 2), datetime(2026, 11, 21, 2)
        for household in (1, 2, 1, 2):
            new_claim(
                session, w, rule="JY01", household=household, now=workday, approve_by="reviewer"
            )
        for _ in range(4):
            new_claim(
                session,
                w,
                rule="JY01",
                household=0,
                clerk="zhang",
                now=saturday,
                approve_by="reviewer",
            )
        for i, household in enumerate((1, 2, 1, 2)):
            claim = new_claim(
                session, w, rule="JY01", household=household, clerk="clerk2", now=workday
            )
            if i < 2:
                reject_claim(
                    session, actor=w.users["admin"], claim_id=claim.id, reason="不实", now=workday
                )
            else:
                approve_claim(session, actor=w.users["admin"], claim_id=claim.id, now=workday)
        post_due(session, now=datetime(2026, 11, 29))
    with live_server(app) as url:
        yield url, town


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _login(page, url, user) -> None:
    page.goto(f"{url}/login")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize(("size", "name"), [(DESKTOP, "desktop"), (TABLET, "tablet")])
def test_township_view_and_integrity_report_in_the_browser(server, browser, size, name):
    url, town = server
    context = browser.new_context(viewport=size, java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    _login(page, url, town.admin)
    page.goto(f"{url}/region/?period=2026-11")
    expect(page.locator("h1")).to_have_text("各村对比")
    expect(page.locator("table.township tbody tr")).to_have_count(1 + 2 + len(MORE))
    expect(page.locator("tr.total")).to_contain_text("合计")
    expect(page.locator(".chart svg")).to_have_count(2)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"township-{name}.png"), full_page=True)
    # Sorting is a plain link: no JavaScript needed.
    page.locator("thead a", has_text="发放积分").click()
    assert "sort=-points_awarded" in page.url
    page.locator("tbody tr:not(.total) td a").first.click()
    # The drill-down opens that village's boards.
    assert re.search(r"/v/V[A-Z]/boards$", page.url), page.url
    expect(page.locator("h1")).to_be_visible()
    page.goto(f"{url}/v/VA/integrity?period=2026-11")
    expect(page.locator("h1")).to_have_text("廉洁报告")
    expect(page.locator("td.flagged").first).to_be_visible()
    page.screenshot(path=str(SHOTS / f"integrity-{name}.png"), full_page=True)
    context.close()


def test_a_villager_proposes_a_deed_on_a_phone_without_javascript(app, browser, web_world):
    with app.app_context():
        token = cards.token_for(db.session.get(Household, web_world.households[0].id))
    with live_server(app) as url:
        context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{url}/c/{token}")
        page.locator("#pb-proposals a.btn").click()
        expect(page.locator("h1")).to_have_text("申报好人好事")
        page.select_option("#rule", str(web_world.rule("JY01").id))
        page.fill("#note", "在村口拾到钱包，已交还失主")
        page.fill("#phone", "13812345678")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "proposal-phone.png"), full_page=True)
        page.click("button[type=submit]")
        expect(page.locator("#pb-proposals")).to_contain_text("等待录入员处理")
        assert "13812345678" not in page.content()
        context.close()
