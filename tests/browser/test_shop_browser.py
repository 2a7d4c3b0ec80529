"""A cashier scans a card, redeems two items and prints the receipt; the passbook's spendable
balance drops while the honour score and rank stay; a same-day cancel restores stock and
balance. Chromium through Playwright; screenshots of the shop pages, tablet and phone."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, PHONE, SHOTS, TABLET, live_server
from conftest import PASSWORD
from PIL import Image, ImageDraw
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select

from app.evidence import photo_store
from app.extensions import db
from credits import cards
from credits.db import utcnow
from credits.ledger import append_entry, verify
from credits.models import EntryKind, Household, Redemption, ShopItem
from credits.shop.catalogue import ItemInput, create_item, store_item_photo
from credits.shop.stock import StockIn, stock_in
from credits.workflow import ensure_account

pytestmark = pytest.mark.browser

GOODS = [
    ("香皂", "块", 5, 10, (230, 200, 120)),
    ("洗衣粉", "袋", 20, 6, (120, 170, 230)),
    ("大米 10斤", "袋", 50, 4, (240, 235, 220)),
    ("食用油 5L", "桶", 85, 2, (240, 200, 60)),
    ("理发", "次", 10, 50, (200, 120, 120)),
    ("电饭煲", "台", 200, 0, (180, 180, 190)),
]


def _picture(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (480, 360), (246, 242, 236))
    ImageDraw.Draw(image).rounded_rectangle((120, 40, 360, 320), radius=24, fill=colour)
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def shop(app, web_world) -> dict[str, int]:
    """Six items (one out of stock) and points for two households, posted today."""
    with app.app_context():
        cashier = web_world.users["cashier"]
        ids = {}
        for n, (name, unit, price, quantity, colour) in enumerate(GOODS):
            photo = store_item_photo(photo_store(), web_world.village.id, _picture(colour))
            item = create_item(
                db.session,
                actor=cashier,
                village_id=web_world.village.id,
                data=ItemInput(name, unit, price, price * 100, position=n),
                photo=photo,
            )
            if quantity:
                stock_in(
                    db.session,
                    actor=cashier,
                    village_id=web_world.village.id,
                    data=StockIn(item.id, quantity, "donor", donor_name="青山县爱心超市"),
                )
            ids[name] = item.id
        for index, points in [(0, 150), (1, 120)]:
            household = db.session.get(Household, web_world.households[index].id)
            account = ensure_account(db.session, household, web_world.scheme.id)
            now = utcnow()
            append_entry(
                db.session,
                account,
                kind=EntryKind.AWARD,
                points=points,
                score_delta=points,
                balance_delta=points,
                deed_date=now.date(),
                now=now,
                title="参加村庄清洁",
                category="志愿服务",
            )
        db.session.commit()
        return ids


@pytest.fixture
def server(app, web_world, shop) -> Iterator[str]:
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def login(browser, server, user, viewport=TABLET):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server}/login")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/v/VA/")
    return context, page


def shot(page, name: str) -> None:
    """Tablets get the whole page; phones what the screen shows (fixed bars stay in place)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    full = page.viewport_size["width"] >= TABLET["width"]
    page.screenshot(path=str(SHOTS / f"shop-{name}.png"), full_page=full)


def stock_of(app, item_id: int) -> int:
    with app.app_context():
        db.session.expire_all()
        return db.session.get(ShopItem, item_id).stock


def test_cashier_redeems_prints_and_cancels_while_the_rank_stays(
    browser, server, app, web_world, shop
):
    with app.app_context():
        household = db.session.get(Household, web_world.households[1].id)
        card_url = cards.issue_url("http://192.168.1.10:5000", household)
        passbook = server + cards.issue_url("", household)
    villager = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    villager.goto(passbook)
    numbers = villager.locator(".pb-numbers .pb-num")
    expect(numbers.nth(0)).to_have_text("120")
    expect(numbers.nth(1)).to_have_text("120")
    rank_before = villager.locator(".pb-rank").inner_text()
    assert "第" in rank_before

    context, page = login(browser, server, web_world.users["cashier"])
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    expect(page.locator(".tabbar a", has_text="超市")).to_be_visible()
    page.locator(".tabbar a", has_text="超市").click()
    shot(page, "counter-1-who-tablet")
    # A hardware scanner types the card's URL and presses Enter.
    page.locator("#scanner-input").focus()
    page.keyboard.type(card_url, delay=2)
    page.keyboard.press("Enter")
    expect(page.locator(".hh-card-name")).to_have_text("李秀兰")
    expect(page.locator(".shop-spend-num")).to_have_text("120")
    soap = page.locator(f".shop-tile[data-item='{shop['香皂']}']")
    powder = page.locator(f".shop-tile[data-item='{shop['洗衣粉']}']")
    soap.locator("[data-plus]").click()
    soap.locator("[data-plus]").click()
    powder.locator("[data-plus]").click()
    expect(page.locator("[data-total]")).to_have_text("30")
    expect(page.locator("[data-after]")).to_have_text("90")
    # The out-of-stock rice cooker is shown greyed, never hidden.
    expect(page.locator(".shop-tile.is-out", has_text="电饭煲")).to_be_visible()
    shot(page, "counter-2-basket-tablet")
    page.locator("button[type=submit]", has_text="确认兑换").dblclick()  # a double tap
    page.wait_for_url("**/shop/r/*")
    expect(page.locator("[data-balance-after]")).to_have_text("90")
    expect(page.locator(".receipt")).to_contain_text("香皂")
    expect(page.locator(".receipt svg")).to_have_count(1)
    shot(page, "receipt-80mm")
    pdf = page.request.get(page.url.split("?")[0] + ".pdf")
    assert pdf.status == 200 and pdf.body()[:5] == b"%PDF-"
    assert stock_of(app, shop["香皂"]) == 8 and stock_of(app, shop["洗衣粉"]) == 5
    with app.app_context():
        assert db.session.scalar(select(func.count(Redemption.id))) == 1

    villager.reload()
    expect(numbers.nth(0)).to_have_text("90")  # spendable drops
    expect(numbers.nth(1)).to_have_text("120")  # honour score stays
    assert villager.locator(".pb-rank").inner_text() == rank_before
    expect(villager.locator("a", has_text="积分能换什么")).to_be_visible()

    # Same day: the cashier cancels alone, with a reason.
    page.fill("#reason", "拿错了商品")
    page.locator("button", has_text="撤销兑换").click()
    expect(page.locator(".flash-success")).to_contain_text("兑换已撤销")
    expect(page.locator(".receipt-cancelled")).to_be_visible()
    assert stock_of(app, shop["香皂"]) == 10 and stock_of(app, shop["洗衣粉"]) == 6
    villager.reload()
    expect(numbers.nth(0)).to_have_text("120")
    expect(numbers.nth(1)).to_have_text("120")
    shot(villager, "passbook-after-cancel-phone")
    assert villager.locator("body").inner_text().count("积分超市兑换") >= 2  # both lines shown
    with app.app_context():
        assert verify(db.session).ok
    assert not errors
    context.close()


def test_shop_pages_on_tablet_and_phone(browser, server, app, web_world, shop):
    for size, viewport in [("tablet", TABLET), ("phone", PHONE)]:
        context, page = login(browser, server, web_world.users["cashier"], viewport)
        with app.app_context():
            household_id = web_world.households[0].id
        page.goto(f"{server}/v/VA/shop?household={household_id}")
        page.locator(f".shop-tile[data-item='{shop['大米 10斤']}'] [data-plus]").click()
        shot(page, f"counter-{size}")
        if size == "phone":
            page.evaluate("window.scrollTo(0, document.getElementById('what-h').offsetTop + 200)")
            page.wait_for_timeout(300)
            shot(page, "counter-basket-phone")
        for name, path in [
            ("stock", "/v/VA/shop/stock"),
            ("items", "/v/VA/shop/items"),
            ("report", "/v/VA/shop/report"),
            ("delivery", "/v/VA/shop/delivery"),
        ]:
            page.goto(server + path)
            assert page.locator("h1").count() == 1
            shot(page, f"{name}-{size}")
        public = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
        public.goto(f"{server}/p/VA/shop")
        expect(public.locator(".shop-tile")).to_have_count(len(GOODS))
        expect(public.locator(".shop-donors")).to_contain_text("青山县爱心超市")
        shot(public, f"catalogue-{size}")
        context.close()
