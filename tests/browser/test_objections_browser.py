"""Objection outcomes as people see them: the public notice and the passbook on a phone, the
staff notice page on a tablet for a clerk (no objector) and a reviewer (with reopen)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, PHONE, SHOTS, TABLET, live_server
from conftest import BACKENDS, PASSWORD, PG_URL, _truncate_pg, build_village, new_claim
from playwright.sync_api import Browser, sync_playwright

from app import create_app
from app.extensions import db
from credits import cards, objections
from credits.db import utcnow
from credits.models import Household


@pytest.fixture(scope="module", params=BACKENDS)
def objection_db(request, tmp_path_factory, _sqlite_template, _pg_engine) -> str:
    if request.param == "postgresql":
        assert _pg_engine is not None and PG_URL
        _truncate_pg(_pg_engine)
        return PG_URL
    path = tmp_path_factory.mktemp("objections") / "test.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def scene(objection_db, tmp_path_factory) -> Iterator[tuple[str, dict[str, str], str]]:
    """A village with one dismissed and one upheld objection; yields (server, users, card)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": objection_db,
            "WTF_CSRF_ENABLED": False,
            "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
            "BASE_URL": "http://localhost",
        }
    )
    with app.app_context():
        world = build_village(db.session, "VA", "桃源村")
        now = utcnow()
        kept = new_claim(db.session, world, now=now, approve_by="reviewer")
        stopped = new_claim(db.session, world, rule="XL03", now=now, approve_by="reviewer")
        new_claim(db.session, world, household=1, now=now, approve_by="reviewer")
        for claim, name, uphold, reason in [
            (kept, "王大伯", False, "经核实，当天确有其事，异议不成立。"),
            (stopped, "李婶", True, "照片是去年拍的，不予记分。"),
        ]:
            objection = objections.raise_objection(
                db.session,
                claim_id=claim.id,
                name=name,
                contact="13912345678",
                reason="那天他不在村里。",
                ip="10.0.0.5",
            )
            objections.resolve_objection(
                db.session,
                actor=world.users["reviewer"],
                objection_id=objection.id,
                uphold=uphold,
                reason=reason,
            )
        held = new_claim(
            db.session, world, household=2, rule="LL01", now=now, approve_by="reviewer"
        )
        objections.raise_objection(
            db.session,
            claim_id=held.id,
            name="赵叔",
            contact="13700000000",
            reason="没有见过他帮忙。",
            ip="10.0.0.6",
        )
        users = {k: u.username for k, u in world.users.items()}
        card = cards.issue_url("", db.session.get(Household, world.households[0].id))
    with live_server(app) as url:
        yield url, users, card
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser: Browser, viewport: dict[str, int]):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    return context, context.new_page()


def test_the_public_notice_and_the_passbook_show_outcomes_on_a_phone(browser, scene):
    server, _, card = scene
    context, page = open_page(browser, PHONE)
    page.goto(f"{server}/p/VA/notice")
    decided = page.locator("#decided")
    assert "异议不成立" in decided.inner_text() and "异议成立" in decided.inner_text()
    assert "照片是去年拍的，不予记分。" in decided.inner_text()
    text = page.inner_text("body")
    assert "王大伯" not in text and "13912345678" not in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    decided.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "objections-public-decided-390x844.png"))
    page.goto(f"{server}{card}")
    outcomes = page.locator(".pb-outcomes")
    assert "经核实，当天确有其事，异议不成立。" in outcomes.inner_text()
    outcomes.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "objections-passbook-390x844.png"))
    context.close()


@pytest.mark.parametrize(("role", "shown"), [("clerk", False), ("reviewer", True)])
def test_the_staff_notice_page_shows_the_objector_to_reviewers_only(browser, scene, role, shown):
    server, users, _ = scene
    context, page = open_page(browser, TABLET)
    page.goto(f"{server}/login")
    page.fill("#username", users[role])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/v/VA/")
    page.goto(f"{server}/v/VA/notice")
    objection = page.locator(".nt-objection").first
    assert ("赵叔" in objection.inner_text()) is shown
    assert ("13700000000" in page.inner_text("body")) is shown
    assert (page.locator(".nt-reopen").count() > 0) is shown
    page.screenshot(path=str(SHOTS / f"objections-staff-{role}-800x1280.png"), full_page=True)
    context.close()
