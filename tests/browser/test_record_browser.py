"""A clerk records on a tablet (typeahead, rule grid, photo), a double tap records once,
and a reviewer approves the claim in the queue. Chromium through Playwright, 800×1280."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, TABLET, live_server
from conftest import PASSWORD
from PIL import Image
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from app.extensions import db
from credits.models import Claim, ClaimState, Evidence

pytestmark = pytest.mark.browser


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


def logged_in(browser, server, user):
    context = browser.new_context(viewport=TABLET, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server}/login")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/v/VA/")
    return context, page


def claims(app) -> list[Claim]:
    with app.app_context():
        db.session.expire_all()
        return list(db.session.scalars(select(Claim).order_by(Claim.id)))


def photo_file(tmp_path) -> str:
    path = tmp_path / "deed.jpg"
    Image.new("RGB", (640, 480), (40, 140, 90)).save(path, "JPEG")
    return str(path)


def find_household(page, typed: str, head: str) -> None:
    page.fill("#rec-q", typed)
    page.locator(".hh-hit", has_text=head).first.click()
    page.wait_for_selector(f".hh-card-name:text-is('{head}')")


def pick_rule(page, title: str) -> None:
    page.locator(".rule-btn", has_text=title).click()


def test_clerk_records_with_a_photo_and_a_reviewer_approves(
    browser, server, app, web_world, tmp_path
):
    context, page = logged_in(browser, server, web_world.users["clerk"])
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/v/VA/record")
    find_household(page, "李秀", "李秀兰")
    # The member chips of the chosen household appear in step 3.
    page.locator("#rec-members .chip", has_text="李小明").click()
    pick_rule(page, "被村里评为好媳妇、好婆婆")  # +20, photo needed
    assert page.locator("[data-photo-hint]").inner_text() == "此项需要上传照片作为凭证"
    # Sending without the photo is stopped in the page, nothing goes out.
    page.click("[data-submit]")
    assert page.locator("#rec-error").inner_text() == "此项需要上传照片作为凭证"
    page.set_input_files("#photos", photo_file(tmp_path))
    page.wait_for_selector(".photo-thumb img")
    # With the photo added, the hint no longer says one is missing.
    assert "此项需要上传照片" not in page.locator("[data-photo-hint]").inner_text()
    page.fill("#note", "婆媳和睦，村民推荐")
    page.click("[data-submit]")
    page.wait_for_selector(".rec-strip-recorded")
    strip = page.locator("#rec-strip").inner_text()
    assert "已提交，等待审核" in strip and "李秀兰" in strip and "+20" in strip
    # The form is ready for the next household: no household, no rule, no photo.
    assert page.locator("#rec-chosen .hh-card").count() == 0
    assert page.locator('input[name="rule"]:checked').count() == 0
    assert page.locator(".photo-thumb").count() == 0
    [claim] = claims(app)
    assert claim.points == 20 and claim.member_id is not None
    with app.app_context():
        photos = db.session.scalars(select(Evidence).where(Evidence.claim_id == claim.id)).all()
    assert len(photos) == 1
    assert errors == []
    context.close()

    context, page = logged_in(browser, server, web_world.users["reviewer"])
    page.goto(f"{server}/v/VA/review")
    card = page.locator(f"#claim-{claim.id}")
    assert "李秀兰" in card.inner_text() and "婆媳和睦" in card.inner_text()
    assert card.locator("img").count() == 1
    card.get_by_role("button", name="批准").click()
    page.wait_for_selector(".flash-success")
    assert "开始公示" in page.locator(".flash-success").inner_text()
    assert claims(app)[0].state == ClaimState.NOTICED
    context.close()


def test_a_double_tapped_submit_records_once(browser, server, app, web_world):
    context, page = logged_in(browser, server, web_world.users["clerk"])
    page.goto(f"{server}/v/VA/record")
    find_household(page, "zjh", "张建华")  # pinyin initials
    page.locator(".cat-tab", has_text="邻里互助").click()
    pick_rule(page, "帮助有困难的邻居")
    page.dblclick("[data-submit]")
    page.wait_for_selector(".rec-strip-recorded")
    page.wait_for_timeout(500)  # let any second request land
    assert len(claims(app)) == 1
    # Withdraw from the confirmation strip while it is pending.
    page.locator("#rec-strip").get_by_role("button", name="撤回").click()
    page.wait_for_selector(".rec-strip-withdrawn")
    assert claims(app)[0].state == ClaimState.WITHDRAWN
    # The next household, the next submission: a fresh key, a second claim.
    find_household(page, "欧阳", "欧阳明华")
    page.locator(".cat-tab", has_text="孝老爱亲").click()
    pick_rule(page, "照顾年迈父母，生活起居周到")
    page.click("[data-submit]")
    page.wait_for_selector(".rec-strip-recorded")
    assert len(claims(app)) == 2
    context.close()


def test_a_deduction_needs_a_note_before_it_is_sent(browser, server, app, web_world):
    context, page = logged_in(browser, server, web_world.users["clerk"])
    page.goto(f"{server}/v/VA/record")
    find_household(page, "张", "张建华")
    page.locator(".cat-tab", has_text="扣分").click()
    pick_rule(page, "邻里吵架斗殴")
    page.click("[data-submit]")
    assert "扣分须填写备注" in page.locator("#rec-error").inner_text()
    assert claims(app) == []
    page.fill("#note", "村民举报，已核实")
    page.click("[data-submit]")
    page.wait_for_selector(".rec-strip-recorded")
    assert claims(app)[0].points == -10
    context.close()


def test_recording_works_without_javascript(browser, server, app, web_world):
    context = browser.new_context(viewport=TABLET, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server}/login")
    page.fill("#username", web_world.users["clerk"].username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{server}/v/VA/record")
    page.fill("#rec-q", "小明")
    page.click(".rec-search button[type=submit]")
    page.locator(".hh-hit", has_text="欧阳明华").click()  # a radio in the list
    # Without tabs every category shows; the rule buttons are radios too.
    assert page.locator(".rule-cat").first.is_visible()
    assert page.locator(".rule-cat").last.is_visible()
    pick_rule(page, "逢年过节看望孤寡老人")
    page.click("[data-submit]")
    page.wait_for_selector(".rec-strip-recorded")
    [claim] = claims(app)
    assert claim.points == 5
    assert "欧阳明华" in page.locator("#rec-strip").inner_text()
    page.locator("#rec-strip").get_by_role("button", name="撤回").click()
    page.wait_for_selector(".rec-strip-withdrawn")
    assert claims(app)[0].state == ClaimState.WITHDRAWN
    context.close()


def test_at_most_five_photos_are_taken(browser, server, app, web_world, tmp_path):
    files = []
    for i in range(6):
        path = tmp_path / f"p{i}.jpg"
        Image.new("RGB", (320, 240), (40 * i, 90, 120)).save(path, "JPEG")
        files.append(str(path))
    context, page = logged_in(browser, server, web_world.users["clerk"])
    page.goto(f"{server}/v/VA/record")
    page.set_input_files("#photos", files)
    page.wait_for_selector(".photo-thumb >> nth=4")
    assert page.locator(".photo-thumb").count() == 5
    assert not page.locator(".photo-add").is_visible()
    page.locator(".photo-del").first.click()
    assert page.locator(".photo-thumb").count() == 4
    assert page.locator(".photo-add").is_visible()
    context.close()
