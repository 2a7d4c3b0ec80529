"""A claim's whole life in Chromium on a tablet (800×1280), as issue 3 describes it.

A clerk finds a household and records an award with a photo; a reviewer approves it; an
anonymous villager sees it masked on the public notice page and objects; the objection holds
the claim past the end of its notice; the reviewer dismisses the objection and the claim
posts. A second claim is stopped by an upheld objection and never posts.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, SHOTS, TABLET, live_server
from conftest import BACKENDS, PASSWORD, PG_URL, _truncate_pg, build_village
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from sqlalchemy import func, select, update

from app import create_app
from app.extensions import db
from credits.db import utcnow
from credits.ledger import verify
from credits.models import (
    Account,
    Balance,
    Claim,
    ClaimState,
    Evidence,
    LedgerEntry,
    Objection,
    ObjectionState,
    Rule,
    User,
)
from credits.workflow import ClaimInput, approve_claim, record_claim

pytestmark = pytest.mark.browser


# What the pages say, in Chinese (the app's default language).
HELD = "有异议，待村务监督委员会评议，暂不入账"
OBJECTION_SENT = "这项积分已暂停"
DISMISSED = "异议已驳回。"
UPHELD = "异议成立，该申报已撤销。"


@dataclass(frozen=True)
class Home:
    id: int
    head: str


@dataclass(frozen=True)
class Village:
    """Plain values of the test village, safe to use outside an app context."""

    code: str
    scheme_id: int
    homes: list[Home]
    usernames: dict[str, str]
    user_ids: dict[str, int]


# ---- one database, app, server and browser for the module ---------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def lifecycle_db(request, tmp_path_factory, _sqlite_template, _pg_engine) -> str:
    if request.param == "postgresql":
        assert _pg_engine is not None and PG_URL
        _truncate_pg(_pg_engine)
        return PG_URL
    path = tmp_path_factory.mktemp("lifecycle") / "test.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def flask_app(lifecycle_db, tmp_path_factory) -> Iterator[object]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": lifecycle_db,
            "WTF_CSRF_ENABLED": False,
            "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
            "BASE_URL": "http://localhost",
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def village(flask_app) -> Village:
    with flask_app.app_context():
        world = build_village(db.session, "VA", "桃源村")
        return Village(
            code=world.village.code,
            scheme_id=world.scheme.id,
            homes=[Home(h.id, h.head_name) for h in world.households],
            usernames={k: u.username for k, u in world.users.items()},
            user_ids={k: u.id for k, u in world.users.items()},
        )


@pytest.fixture(scope="module")
def server(flask_app, village) -> Iterator[str]:
    with live_server(flask_app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# ---- helpers ------------------------------------------------------------------------


class Tab:
    """A browser context on a tablet that records JavaScript errors and failed requests."""

    def __init__(self, browser: Browser, server: str) -> None:
        self.server = server
        self.context: BrowserContext = browser.new_context(viewport=TABLET, locale="zh-CN")
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "response",
            lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )

    def goto(self, path: str) -> Page:
        response = self.page.goto(self.server + path)
        assert response is not None and response.status == 200, (path, response)
        return self.page

    def login(self, username: str) -> Tab:
        self.page.goto(f"{self.server}/login")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{self.server}/v/VA/")
        return self

    def shot(self, name: str, element: str | None = None) -> None:
        """Save a tablet-sized screenshot, with `element` scrolled into view."""
        if element:
            self.page.locator(element).first.scroll_into_view_if_needed()
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"flow-{name}.png"))

    def close(self) -> None:
        """Close the context; the page must have had no script error and no server error."""
        self.context.close()
        assert self.errors == []


@pytest.fixture
def tabs(browser, server) -> Iterator[Callable[[], Tab]]:
    """Open tablet contexts; whatever a failing test left open is closed afterwards."""
    opened: list[Tab] = []

    def open_tab() -> Tab:
        opened.append(Tab(browser, server))
        return opened[-1]

    yield open_tab
    for tab in opened:
        tab.context.close()


def photo_file(tmp_path: Path) -> str:
    path = tmp_path / "deed.jpg"
    image = Image.new("RGB", (800, 600), (200, 170, 90))
    image.paste((60, 120, 70), (100, 100, 700, 500))
    image.save(path, "JPEG", quality=85)
    return str(path)


def load_claim(app, claim_id: int) -> Claim:
    with app.app_context():
        db.session.expire_all()
        claim = db.session.get(Claim, claim_id)
        assert claim is not None
        return claim


def entries_of_claim(app, claim_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count(LedgerEntry.id)).where(LedgerEntry.claim_id == claim_id)
        )


def balance_of(app, household_id: int, scheme_id: int) -> tuple[int, int]:
    """The household's (score, balance) in the scheme, as the database caches them."""
    with app.app_context():
        db.session.expire_all()
        row = db.session.execute(
            select(Balance.score, Balance.balance)
            .join(Account, Account.id == Balance.account_id)
            .where(Account.household_id == household_id, Account.scheme_id == scheme_id)
        ).first()
        return (row.score, row.balance) if row else (0, 0)


def end_notice_now(app, claim_id: int) -> None:
    """Stand in for the days of the notice passing: move the claim's notice end into the past.

    The app reads the real clock, so the test moves the claim instead of the clock; nothing
    else about the claim changes, and the app then decides what happens on its own.
    """
    with app.app_context():
        db.session.execute(
            update(Claim)
            .where(Claim.id == claim_id)
            .values(notice_until=utcnow() - timedelta(hours=1))
        )
        db.session.commit()


def ledger_ok(app) -> None:
    with app.app_context():
        report = verify(db.session)
        db.session.rollback()
        assert report.ok, report.problems
        assert report.villages == 1


def shown_points(tab: Tab, household_id: int) -> tuple[int, int]:
    """The household's honour score and spendable balance on its entries page."""
    page = tab.goto(f"/v/VA/households/{household_id}/entries")
    numbers = page.locator(".lg-totals .stat-num").all_inner_texts()
    assert len(numbers) == 2, numbers  # one scheme: score and spendable
    return int(numbers[0]), int(numbers[1])


def object_to(tab: Tab, claim_id: int, reason: str, shot: str | None = None) -> None:
    """Raise an objection from the public notice page, through its form."""
    page = tab.goto("/p/VA/notice")
    page.locator(f"#claim-{claim_id} .pn-object").click()
    page.wait_for_url(f"**/p/VA/notice/claims/{claim_id}/object")
    page.fill("#name", "王大妈")
    page.fill("#contact", "13800001234")
    page.fill("#reason", reason)
    if shot:
        tab.shot(shot, ".pn-form")
    page.locator(".pn-form button[type=submit]").click()
    page.wait_for_url(f"**/p/VA/notice/claims/{claim_id}/object/sent")
    expect(page.locator(".pn-done")).to_contain_text(OBJECTION_SENT)


def decide_objection(tab: Tab, objection_id: int, decision: str, reason: str, shot: str) -> None:
    page = tab.goto("/v/VA/notice")
    card = page.locator(f"#objection-{objection_id}")
    card.locator(f"#reason-{objection_id}").fill(reason)
    tab.shot(shot, f"#objection-{objection_id}")
    card.locator(f"button[value={decision}]").click()
    page.wait_for_selector(".flash-success")


def objection_of(app, claim_id: int) -> Objection:
    with app.app_context():
        [objection] = db.session.scalars(select(Objection).where(Objection.claim_id == claim_id))
        return objection


# ---- the tests ----------------------------------------------------------------------


def test_award_is_recorded_approved_objected_held_and_posted_after_dismissal(
    tabs, flask_app, village, tmp_path
):
    home = village.homes[0]  # 张建华
    rule_title, points = "照顾年迈父母，生活起居周到", 10
    staff_view = tabs().login(village.usernames["reviewer"])
    before = shown_points(staff_view, home.id)
    assert before == balance_of(flask_app, home.id, village.scheme_id)

    # 1. The clerk finds the household by its pinyin initials and records with a photo.
    clerk = tabs().login(village.usernames["clerk"])
    page = clerk.goto("/v/VA/record")
    page.fill("#rec-q", "zjh")
    page.locator(".hh-hit", has_text=home.head).first.click()
    expect(page.locator(".hh-card-name")).to_have_text(home.head)
    page.locator(".cat-tab", has_text="孝老爱亲").click()
    page.locator(".rule-btn", has_text=rule_title).click()
    page.locator("#rec-members .chip", has_text="张小明").click()
    page.set_input_files("#photos", photo_file(tmp_path))
    page.wait_for_selector(".photo-thumb img")
    page.fill("#note", "父亲住院一周，日夜陪护")
    clerk.shot("01-record", "#step-send")
    page.click("[data-submit]")
    strip = page.locator(".rec-strip-recorded")
    expect(strip).to_contain_text(home.head)
    expect(strip).to_contain_text(f"+{points}")
    clerk.shot("02-recorded", "#rec-strip")
    claim_id = int(strip.get_attribute("data-claim") or 0)
    claim = load_claim(flask_app, claim_id)
    assert (claim.state, claim.points, claim.household_id) == (
        ClaimState.RECORDED,
        points,
        home.id,
    )
    assert claim.recorded_by_id == village.user_ids["clerk"]
    with flask_app.app_context():
        assert (
            db.session.scalar(select(func.count(Evidence.id)).where(Evidence.claim_id == claim_id))
            == 1
        )
    clerk.close()

    # 2. A reviewer of no household approves it in the queue, photo in view.
    reviewer = tabs().login(village.usernames["reviewer"])
    page = reviewer.goto("/v/VA/review")
    card = page.locator(f"#claim-{claim_id}")
    expect(card).to_contain_text(home.head)
    expect(card).to_contain_text("日夜陪护")
    thumb = card.locator(".photo-thumb img")
    expect(thumb).to_have_count(1)
    thumb.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    reviewer.shot("03-review", f"#claim-{claim_id}")
    card.get_by_role("button", name="批准").click()
    expect(page.locator(".flash-success")).to_contain_text("开始公示")
    claim = load_claim(flask_app, claim_id)
    assert (
        claim.state == ClaimState.NOTICED and claim.reviewed_by_id == village.user_ids["reviewer"]
    )
    assert claim.notice_until is not None and claim.notice_until > utcnow() + timedelta(days=6)

    # 3. Anyone sees it masked on the public notice page, and objects.
    visitor = tabs()
    page = visitor.goto("/p/VA/notice")
    item = page.locator(f"#claim-{claim_id}")
    expect(item.locator(".pn-name")).to_have_text("张*华")
    expect(item.locator(".pn-pts")).to_contain_text(f"+{points}")
    expect(item).to_contain_text(rule_title)
    expect(item).to_contain_text("张*明")  # the member, masked too
    expect(item.locator(".pn-held")).to_have_count(0)
    text = page.locator("body").inner_text()
    assert home.head not in text and "张小明" not in text and "日夜陪护" not in text
    visitor.shot("04-public", f"#claim-{claim_id}")
    object_to(visitor, claim_id, "他家老人是邻居在照顾，不是他。", shot="05-object")
    visitor.shot("06-objection-sent")
    objection = objection_of(flask_app, claim_id)
    assert objection.state == ObjectionState.OPEN and objection.name == "王大妈"
    page = visitor.goto("/p/VA/notice")
    expect(page.locator(f"#claim-{claim_id} .pn-held")).to_have_text(HELD)

    # 4. The notice ends while the objection is open: the claim stays held, nothing posts.
    end_notice_now(flask_app, claim_id)
    page = visitor.goto("/p/VA/notice")  # a page view posts nothing; a held claim is not due
    item = page.locator(f"#claim-{claim_id}")
    expect(item.locator(".pn-held")).to_have_text(HELD)
    expect(item.locator(".pn-object")).to_have_count(0)  # the window is closed
    visitor.shot("07-held-after-notice", f"#claim-{claim_id}")
    assert load_claim(flask_app, claim_id).state == ClaimState.NOTICED
    assert entries_of_claim(flask_app, claim_id) == 0
    assert balance_of(flask_app, home.id, village.scheme_id) == before
    assert shown_points(staff_view, home.id) == before
    expect(staff_view.page.locator(".lg-item")).to_have_count(0)

    # 5. The reviewer dismisses the objection with a reason: the claim posts at once.
    decide_objection(
        reviewer, objection.id, "dismiss", "村委核实：确由本人陪护，有医院陪护证明。", "08-dismiss"
    )
    expect(reviewer.page.locator(".flash-success")).to_contain_text(DISMISSED)
    expect(reviewer.page.locator(f"#objection-{objection.id}")).to_have_count(0)
    expect(reviewer.page.locator("#decided")).to_contain_text("有医院陪护证明")
    claim = load_claim(flask_app, claim_id)
    assert claim.state == ClaimState.POSTED
    assert entries_of_claim(flask_app, claim_id) == 1
    after = (before[0] + points, before[1] + points)
    assert balance_of(flask_app, home.id, village.scheme_id) == after
    assert shown_points(staff_view, home.id) == after
    entry = staff_view.page.locator(".lg-item").first
    expect(entry).to_contain_text(rule_title)
    expect(entry).to_contain_text(f"+{points}")
    staff_view.shot("09-posted", ".lg-totals")
    ledger_ok(flask_app)
    # The village home page shows the new balance too, and the notice page has let it go.
    page = reviewer.goto("/v/VA/")
    row = page.locator("table.households tbody tr", has_text=home.head)
    expect(row.locator(".score")).to_have_text([str(after[0]), str(after[1])])
    page = visitor.goto("/p/VA/notice")
    expect(page.locator(f"#claim-{claim_id}")).to_have_count(0)
    for tab in (visitor, reviewer, staff_view):
        tab.close()


def test_an_upheld_objection_withdraws_the_claim_and_nothing_posts(tabs, flask_app, village):
    home = village.homes[1]  # 李秀兰
    with flask_app.app_context():
        rule = db.session.scalar(
            select(Rule).where(Rule.scheme_id == village.scheme_id, Rule.code == "XL05")
        )
        assert rule is not None and rule.title == "逢年过节看望孤寡老人"
        claim = record_claim(
            db.session,
            actor=db.session.get(User, village.user_ids["clerk2"]),
            data=ClaimInput(
                household_id=home.id,
                rule_id=rule.id,
                deed_date=utcnow().date(),
                idempotency_key=uuid.uuid4().hex,
            ),
        )
        approve_claim(
            db.session, actor=db.session.get(User, village.user_ids["reviewer"]), claim_id=claim.id
        )
        claim_id, points = claim.id, claim.points
    before = balance_of(flask_app, home.id, village.scheme_id)

    visitor = tabs()
    object_to(visitor, claim_id, "那天他家没人去看望，是村干部去的。")
    objection = objection_of(flask_app, claim_id)
    reviewer = tabs().login(village.usernames["reviewer"])
    decide_objection(reviewer, objection.id, "uphold", "经走访核实，情况属实，撤销。", "10-uphold")
    expect(reviewer.page.locator(".flash-success")).to_contain_text(UPHELD)
    assert load_claim(flask_app, claim_id).state == ClaimState.WITHDRAWN
    assert objection_of(flask_app, claim_id).state == ObjectionState.UPHELD

    # Even after its notice would have ended, a withdrawn claim never posts.
    end_notice_now(flask_app, claim_id)
    page = visitor.goto("/p/VA/notice")
    expect(page.locator(f"#claim-{claim_id}")).to_have_count(0)
    corrections = page.locator(".pn-corrections .pn-item", has_text="逢年过节看望孤寡老人")
    expect(corrections).to_have_count(1)
    expect(corrections.locator(".pn-name")).to_have_text("李*兰")
    expect(corrections.locator(".badge-withdrawn")).to_have_text("已撤回")
    expect(corrections).to_contain_text(f"+{points}")
    expect(corrections).to_contain_text("经走访核实")
    assert home.head not in page.locator("body").inner_text()
    visitor.shot("11-withdrawn", ".pn-corrections")
    assert entries_of_claim(flask_app, claim_id) == 0
    assert balance_of(flask_app, home.id, village.scheme_id) == before
    assert shown_points(reviewer, home.id) == before
    ledger_ok(flask_app)
    for tab in (visitor, reviewer):
        tab.close()
