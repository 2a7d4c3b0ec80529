"""A correction (更正) in Chromium: proposed, decided by a second person, noticed, posted.

A reviewer proposes reversing a posted award from the household's page; the proposer
cannot approve it; a second reviewer approves it from the queue, where it shows as 更正;
the public notice shows it with its reason; once its notice ends and due claims post,
the phone passbook shows the 更正 line with the reason and the balance back where it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, PHONE, SHOTS, TABLET, live_server
from conftest import PASSWORD, new_claim
from playwright.sync_api import Browser, expect, sync_playwright
from sqlalchemy import select, update

from app.extensions import db
from credits import cards
from credits.db import utcnow
from credits.ledger import verify
from credits.models import Claim, ClaimKind, ClaimState, Household, LedgerEntry
from credits.workflow import post_due

pytestmark = pytest.mark.browser

REASON = "记错了户，应记在李家。"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def posted(app, web_world) -> tuple[int, int, str]:
    """A +5 award of household 0, posted (its notice ended a day ago)."""
    with app.app_context():
        claim = new_claim(
            db.session,
            web_world,
            rule="JY01",
            household=0,
            now=utcnow() - timedelta(days=8),
            approve_by="reviewer",
        )
        post_due(db.session)
        entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.claim_id == claim.id))
        return entry.id, entry.household_id, entry.title


@pytest.fixture
def server(app, posted) -> Iterator[str]:
    with live_server(app) as url:
        yield url


def tablet(browser: Browser, server: str, username: str):
    context = browser.new_context(viewport=TABLET, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    page.goto(f"{server}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/v/VA/")
    return context, page, errors


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"correction-{name}.png"), full_page=True)


def test_a_correction_passes_two_people_and_the_notice_before_the_passbook_shows_it(
    app, web_world, server, posted, browser
):
    entry_id, household_id, title = posted
    # 1. A reviewer proposes the correction from the household's page.
    context, page, errors = tablet(browser, server, web_world.users["reviewer"].username)
    page.goto(f"{server}/v/VA/roster/{household_id}")
    page.locator(f"a[href$='/entries/{entry_id}/correct']").first.click()
    page.wait_for_url(f"**/v/VA/entries/{entry_id}/correct")
    expect(page.locator("h1")).to_have_text("更正")
    page.fill("#reason", REASON)
    shot(page, "propose")
    page.locator("button[type=submit]", has_text="提出更正").click()
    page.wait_for_url(f"**/v/VA/households/{household_id}/entries")
    expect(page.locator(".flash-success")).to_contain_text("另一位评议人")
    expect(page.locator(f"#entry-{entry_id}")).to_contain_text("更正办理中")
    with app.app_context():
        correction = db.session.scalar(select(Claim).where(Claim.kind == ClaimKind.CORRECTION))
        correction_id = correction.id
    # The proposer sees it in the queue but may not approve it.
    page.goto(f"{server}/v/VA/review")
    card = page.locator(f"#claim-{correction_id}")
    expect(card).to_contain_text(f"更正：{title}")
    expect(card.locator("button", has_text="批准")).to_be_disabled()
    context.close()
    assert errors == []

    # 2. A second reviewer approves it from the queue: it goes on public notice.
    context, page, errors = tablet(browser, server, web_world.users["admin"].username)
    page.goto(f"{server}/v/VA/review")
    card = page.locator(f"#claim-{correction_id}")
    expect(card.locator(".badge")).to_have_text("更正")
    expect(card).to_contain_text(REASON)
    shot(page, "queue")
    card.locator("button", has_text="批准").click()
    page.wait_for_url("**/v/VA/review")
    context.close()
    assert errors == []
    with app.app_context():
        db.session.expire_all()
        assert db.session.get(Claim, correction_id).state == ClaimState.NOTICED
        assert (
            db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry_id))
            is None
        )

    # 3. Anyone sees it on the public notice, as 更正 with its reason and −5.
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server}/p/VA/notice")
    item = page.locator(f"#claim-{correction_id}")
    expect(item).to_contain_text(f"更正：{title}")
    expect(item).to_contain_text(REASON)
    expect(item.locator(".pn-pts")).to_contain_text("−5")
    shot(page, "notice")

    # 4. The notice ends; due claims post (post-due); the passbook shows the 更正 line.
    with app.app_context():
        db.session.execute(
            update(Claim)
            .where(Claim.id == correction_id)
            .values(notice_until=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
        assert post_due(db.session) == 1
        card_url = cards.issue_url("", db.session.get(Household, household_id))
        assert verify(db.session).ok
    page.goto(server + card_url)
    history = page.locator(".pb-list .pb-item-reversal")
    expect(history).to_have_count(1)
    expect(history).to_contain_text(f"更正：{title}")
    expect(history).to_contain_text(REASON)
    expect(history.locator(".pb-item-pts")).to_contain_text("−5")
    expect(page.locator(".pb-item-reversed")).to_contain_text("已更正")
    expect(page.locator(".pb-number").first).to_contain_text("0")
    shot(page, "passbook")
    context.close()
