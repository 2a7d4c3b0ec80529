"""The passbook on a phone (with and without JavaScript) and the card scanner in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, PHONE, SHOTS, TABLET, live_server
from conftest import NOW, PASSWORD, new_claim
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from app.extensions import db
from credits import cards
from credits.models import Household
from credits.qr import make as make_qr_plain
from credits.workflow import post_due

pytestmark = pytest.mark.browser


@pytest.fixture
def server(app, web_world) -> Iterator[str]:
    with app.app_context():
        for household, rule in ((0, "XL01"), (0, "YF03"), (1, "YF03"), (0, "JY01")):
            new_claim(db.session, web_world, rule=rule, household=household, approve_by="reviewer")
        post_due(db.session, now=NOW + timedelta(days=8))
        new_claim(
            db.session,
            web_world,
            rule="LL01",
            household=0,
            approve_by="reviewer",
            now=NOW + timedelta(days=9),
        )
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def playwright() -> Iterator[object]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright) -> Iterator[object]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


def card_path(app, household_id: int) -> str:
    with app.app_context():
        return cards.issue_url("", db.session.get(Household, household_id))


def login(page, server, user) -> None:
    page.goto(f"{server}/login")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/v/VA/")


@pytest.mark.parametrize("javascript", [False, True], ids=["nojs", "js"])
def test_passbook_on_a_phone(app, server, web_world, browser, javascript):
    context = browser.new_context(
        viewport=PHONE, java_script_enabled=javascript, locale="zh-CN", device_scale_factor=2
    )
    page = context.new_page()
    response = page.goto(server + card_path(app, web_world.households[0].id))
    assert response.status == 200
    expect(page.locator(".pb-head")).to_have_text("张*华")
    expect(page.locator(".pb-number").first).to_contain_text("25")
    expect(page.locator(".pb-notices")).to_contain_text("有异议？")
    expect(page.locator(".pb-list .pb-item")).to_have_count(4)  # 1 on notice + 3 posted
    body = page.locator(".pb-item-title").first
    size = float(body.evaluate("e => getComputedStyle(e).fontSize").rstrip("px"))
    assert size >= 18
    # Nothing is wider than the phone: no sideways scrolling.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SHOTS / f"passbook-{'js' if javascript else 'nojs'}.png"), full_page=True
    )
    # The objection link is a plain link: it works without JavaScript too.
    page.locator(".pb-object a").first.click()
    assert "/notice/claims/" in page.url and page.url.endswith("/object")
    context.close()


def test_replaced_card_page_on_a_phone(app, server, web_world, browser):
    household = web_world.households[0]
    old = card_path(app, household.id)
    with app.app_context():
        cards.reissue_card(db.session, actor=web_world.users["clerk"], household_id=household.id)
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    response = page.goto(server + old)
    assert response.status == 410
    expect(page.locator("h1")).to_have_text("这张卡已换成新卡")
    assert "张*华" not in page.content()
    page.screenshot(path=str(SHOTS / "passbook-replaced.png"), full_page=True)
    context.close()


def test_a_hardware_scanner_typing_the_card_url_finds_the_household(
    app, server, web_world, browser
):
    context = browser.new_context(viewport=TABLET, locale="zh-CN")
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    login(page, server, web_world.users["clerk"])
    page.goto(f"{server}/v/VA/cards/scan")
    page.evaluate(
        """() => { window.found = [];
        document.addEventListener("merit:household", e => window.found.push(e.detail)); }"""
    )
    url = "http://192.168.1.10:5000" + card_path(app, web_world.households[1].id)
    page.locator("#scanner-input").focus()
    page.keyboard.type(url, delay=5)  # what a USB scanner does: keys, then Enter
    page.keyboard.press("Enter")
    expect(page.locator("[data-scan-status]")).to_have_text("已找到：李秀兰")
    expect(page.locator("[data-scan-result] .card-title")).to_have_text("李秀兰")
    found = page.evaluate("window.found")
    assert [h["id"] for h in found] == [web_world.households[1].id]
    assert page.url.endswith("/v/VA/cards/scan")  # no page load: the form was not sent
    assert page.locator("#scanner-input").input_value() == ""
    # The decoder library is loaded only when a camera or photo scan needs it.
    assert not any("qr-scanner" in r for r in requested)

    # A replaced card: a clear message, no household.
    with app.app_context():
        cards.reissue_card(
            db.session, actor=web_world.users["clerk"], household_id=web_world.households[1].id
        )
    page.locator("#scanner-input").fill(url)
    page.locator("#scanner-input").press("Enter")
    expect(page.locator("[data-scan-status]")).to_have_text(
        "这张卡已被新卡取代，请使用该户的新卡。"
    )
    expect(page.locator("[data-scan-result] .card-title")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "card-scan.png"), full_page=True)
    context.close()


def test_scanning_from_a_photo(app, server, web_world, browser, tmp_path):
    context = browser.new_context(viewport=TABLET, locale="zh-CN")
    page = context.new_page()
    login(page, server, web_world.users["clerk"])
    page.goto(f"{server}/v/VA/cards/scan")
    url = "http://192.168.1.10:5000" + card_path(app, web_world.households[2].id)
    photo = tmp_path / "card.png"
    cards.make_qr(url).save(photo, scale=8, border=6)
    expect(page.locator("[data-scan-photo-label]")).to_be_visible()
    page.locator("[data-scan-photo]").set_input_files(str(photo))
    expect(page.locator("[data-scan-result] .card-title")).to_have_text("欧阳明华", timeout=15000)
    context.close()


def _y4m(image: Image.Image, path: Path, frames: int = 10) -> None:
    """Write a still image as a YUV 4:2:0 video the fake camera plays."""
    width, height = image.size
    y, cb, cr = image.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + planes)


def test_scanning_with_the_camera(app, server, web_world, playwright, tmp_path):
    url = "http://192.168.1.10:5000" + card_path(app, web_world.households[0].id)
    qr = tmp_path / "qr.png"
    make_qr_plain(url, error="M").save(qr, scale=8, border=4)
    frame = Image.new("RGB", (640, 480), "white")
    code = Image.open(qr).convert("RGB")
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    video = tmp_path / "card.y4m"
    _y4m(frame, video)
    camera = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = camera.new_context(viewport=TABLET, locale="zh-CN")
        context.grant_permissions(["camera"], origin=server)
        page = context.new_page()
        login(page, server, web_world.users["clerk"])
        page.goto(f"{server}/v/VA/cards/scan")
        live = page.locator("[data-scan-live]")
        expect(live).to_be_visible()  # 127.0.0.1 is a secure context
        live.click()
        expect(page.locator("[data-scan-result] .card-title")).to_have_text("张建华", timeout=20000)
        expect(page.locator("[data-scan-view]")).to_be_hidden()  # the camera stopped
        context.close()
    finally:
        camera.close()


def test_on_a_plain_http_lan_address_the_photo_scan_still_works(
    app, server, web_world, playwright, tmp_path
):
    # A tablet opening http://<LAN name>: not a secure context, so no live camera.
    port = server.rsplit(":", 1)[1]
    lan = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP jifen.lan 127.0.0.1"],
    )
    try:
        context = lan.new_context(viewport=PHONE, locale="zh-CN")
        page = context.new_page()
        base = f"http://jifen.lan:{port}"
        login(page, base, web_world.users["clerk"])
        page.goto(f"{base}/v/VA/cards/scan")
        assert page.evaluate("window.isSecureContext") is False
        expect(page.locator("[data-scan-live]")).to_be_hidden()
        expect(page.locator("[data-scan-photo-label]")).to_be_visible()
        photo = tmp_path / "card.png"
        url = "http://192.168.1.10:5000" + card_path(app, web_world.households[1].id)
        cards.make_qr(url).save(photo, scale=6, border=5)
        page.locator("[data-scan-photo]").set_input_files(str(photo))
        expect(page.locator("[data-scan-result] .card-title")).to_have_text("李秀兰", timeout=15000)
        page.screenshot(path=str(SHOTS / "card-scan-http-lan.png"), full_page=True)
        context.close()
    finally:
        lan.close()
