"""A GET never writes (DESIGN §4.10): crawl every GET route, as a stranger and as every role.

The crawl fills each URL parameter from a world with claims in every state, a posted
entry, objections, a card and a photo, then asserts that no statement wrote, no
transaction committed or took SQLite's write lock, no table changed and no page failed.
A new route whose parameter the crawl cannot fill fails here until it is added below.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD, VillageWorld, build_village, login
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import DBAPIError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))
from shop_support import stocked_item  # noqa: E402

from app.evidence import photo_store
from app.extensions import db
from credits.boards.closing import close_period
from credits.cards import token_for
from credits.db import Base, utcnow
from credits.evidence import store_photo
from credits.models import Claim, Household, Member, Role
from credits.objections import raise_objection, resolve_objection
from credits.shop.redemption import redeem
from credits.users import create_user
from credits.workflow import ClaimInput, approve_claim, post_due, record_claim, reject_claim
from credits.workflow import withdraw_claim as withdraw

ROLES = ["anonymous", "clerk", "reviewer", "admin", "cashier", "township"]
# Besides the crawl's own village: another village, and a code that names none.
FOREIGN_CODES = ["VB", "NOPE"]

# Routes the crawl does not visit, each with its reason. Keep it short: every entry is a
# page nobody checks for writes.
UNCRAWLED: dict[str, str] = {}

# Query strings worth a visit besides the bare URL (filters, searches, paging).
EXTRA_QUERIES: dict[str, list[str]] = {
    "notice.public": ["?scheme={scheme_id}", "?group={group_id}", "?scheme=999999"],
    "notice.index": ["?scheme={scheme_id}&group={group_id}"],
    "notice.sheet": ["?group={group_id}"],
    "roster.search_json": ["?q=张", "?q=zjh", "?q=1号"],
    "roster.index": ["?q=张", "?page=2"],
    "cards.resolve": ["?token={token}", "?token=nonsense", "?q={token}"],
    "cards.index": ["?group={group_id}"],
    "cards.sheet": ["?group={group_id}"],
    "admin.audit": ["?action=claim.approve", "?page=2"],
    "admin.audit_csv": ["?action=claim.approve"],
    "ledger.household_entries": ["?page=2"],
    "record.index": ["?household={household_id}", "?q=张"],
    "review.index": ["?scheme={scheme_id}"],
    "village.home": ["?q=张"],
    "auth.login": ["?next=/v/{code}/"],
    "i18n.set_locale": ["?next=/p/{code}/notice"],
}

WRITES = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|MERGE|CREATE|DROP|ALTER|TRUNCATE|"
    r"BEGIN IMMEDIATE|BEGIN EXCLUSIVE|LOCK|SELECT .* FOR UPDATE)\b",
    re.IGNORECASE,
)


@dataclass
class CrawlWorld:
    """The ids the crawl fills URL parameters with."""

    values: dict[str, list[Any]] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    fmt: dict[str, Any] = field(default_factory=dict)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def _claim(
    world: VillageWorld, rule: str, household: int, at: datetime | None = None, **extra: Any
) -> ClaimInput:
    return ClaimInput(
        household_id=world.households[household].id,
        rule_id=world.rule(rule).id,
        deed_date=(at or utcnow()).date(),
        idempotency_key=uuid.uuid4().hex,
        **extra,
    )


def _build(app: Flask) -> CrawlWorld:
    """Two villages; in the first, claims in every state, a posted entry, objections, a photo."""
    with app.app_context():
        s = db.session
        va = build_village(s, "VA", "桃源村")
        vb = build_village(s, "VB", "杏花村", township="白水镇")
        clerk, reviewer, admin = va.users["clerk"], va.users["reviewer"], va.users["admin"]
        now = utcnow()
        long_ago = now - timedelta(days=40)

        def record(rule: str, household: int, *, at: Any = now, **extra: Any) -> Claim:
            return record_claim(
                s, actor=clerk, now=at, data=_claim(va, rule, household, at, **extra)
            )

        # Posted: approved long ago, its notice over, posted by the poster.
        posted = record("XL01", 0, at=long_ago)
        approve_claim(s, actor=reviewer, claim_id=posted.id, now=long_ago)
        post_due(s, now=long_ago + timedelta(days=8), village_id=va.village.id)
        # Due: its notice is over but `post-due` has not run yet (待入账).
        due = record("XL03", 1, at=long_ago)
        approve_claim(s, actor=reviewer, claim_id=due.id, now=long_ago)
        # On notice, one with an open objection, one whose objection was dismissed.
        noticed = record("XL04", 0)
        approve_claim(s, actor=reviewer, claim_id=noticed.id, now=now)
        held = record("LL01", 1)
        approve_claim(s, actor=reviewer, claim_id=held.id, now=now)
        open_obj = raise_objection(
            s, claim_id=held.id, name="王大伯", contact="13800000000", reason="不属实。"
        )
        dismissed_claim = record("XL05", 2)
        approve_claim(s, actor=reviewer, claim_id=dismissed_claim.id, now=now)
        dismissed = raise_objection(
            s, claim_id=dismissed_claim.id, name="李大妈", contact="", reason="有疑问。"
        )
        resolve_objection(
            s, actor=admin, objection_id=dismissed.id, uphold=False, reason="查证属实。"
        )
        # Stopped by an upheld objection (a correction on the board).
        stopped = record("LL02", 2)
        approve_claim(s, actor=reviewer, claim_id=stopped.id, now=now)
        upheld = raise_objection(s, claim_id=stopped.id, name="赵叔", contact="", reason="没这事。")
        resolve_objection(s, actor=admin, objection_id=upheld.id, uphold=True, reason="核实不实。")
        # Waiting for review, with a photo; rejected; withdrawn by its recorder.
        photo = store_photo(s, va.village.id, _jpeg(), photo_store(), actor=clerk)
        recorded = record("XL02", 0, evidence_ids=(photo.id,))
        rejected = record("XL01", 2)
        reject_claim(s, actor=reviewer, claim_id=rejected.id, reason="证据不足。")
        withdrawn = record("XL05", 1)
        withdraw(s, actor=clerk, claim_id=withdrawn.id, reason="录错了。")
        # A claim of the other village, to be refused everywhere.
        foreign = record_claim(s, actor=vb.users["clerk"], data=_claim(vb, "XL01", 0), now=now)
        township = create_user(
            s,
            username="qingxi-admin",
            password=PASSWORD,
            role=Role.TOWNSHIP_ADMIN,
            display_name="清溪镇管理员",
            region_id=va.village.region_id,
        )
        # The shop: an item with stock and one redemption by the first household.
        cashier = va.users["cashier"]
        item = stocked_item(s, cashier, va.village.id, now=now)
        redemption = redeem(
            s,
            actor=cashier,
            household_id=va.households[0].id,
            lines=[(item.id, 1)],
            idempotency_key=uuid.uuid4().hex,
            now=now,
        )
        # A closed month for the honour roll (the month before the posted award's).
        month = (long_ago.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        closed = close_period(s, actor=admin, scheme_id=va.scheme.id, label=month, now=now)
        [entry_id] = s.scalars(
            text("SELECT id FROM ledger_entry WHERE claim_id = :c"), {"c": posted.id}
        ).all()
        home = s.get(Household, va.households[0].id)
        assert home is not None
        members = s.scalars(select(Member.id).where(Member.household_id == home.id)).all()
        token = token_for(home)
        claims = [posted, due, noticed, held, dismissed_claim, stopped, recorded]
        claims += [rejected, withdrawn, foreign]
        values: dict[str, list[Any]] = {
            "code": ["VA"],
            "village_code": ["VA"],
            "household_id": [home.id, va.households[1].id, vb.households[0].id, 999999],
            "claim_id": [c.id for c in claims] + [999999],
            "member_id": [*members, 999999],
            "entry_id": [entry_id, 999999],
            "evidence_id": [photo.id, 999999],
            "objection_id": [open_obj.id, dismissed.id, upheld.id, 999999],
            "rule_id": [va.rule("XL01").id, vb.rule("XL01").id, 999999],
            "scheme_id": [va.scheme.id, vb.scheme.id, 999999],
            "user_id": [clerk.id, vb.users["clerk"].id, 999999],
            "item_id": [item.id, 999999],
            "redemption_id": [redemption.id, 999999],
            "fmt": ["xlsx", "csv", "pdf", "doc"],
            "closed_id": [closed.id, 999999],
            "token": [token, token.lower(), "AAAA", "x" * 300],
            "lang": ["zh_CN", "en", "xx"],
            "filename": ["css/app.css", "nope.css"],
        }
        group_id = home.group_id
        fmt = {
            "code": "VA",
            "scheme_id": va.scheme.id,
            "group_id": group_id,
            "household_id": home.id,
            "token": token,
        }
        users = {
            "clerk": clerk,
            "reviewer": reviewer,
            "admin": admin,
            "cashier": va.users["cashier"],
            "township": township,
        }
        return CrawlWorld(values=values, users=users, fmt=fmt)


def _urls(app: Flask, crawl: CrawlWorld) -> tuple[list[tuple[str, str]], list[str]]:
    """Every GET URL to visit (endpoint, url), and the routes the crawl cannot fill."""
    urls: list[tuple[str, str]] = []
    unfilled: list[str] = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in UNCRAWLED:
            continue
        names = sorted(rule.arguments)
        missing = [n for n in names if n not in crawl.values]
        if missing:
            unfilled.append(f"{rule.rule} ({rule.endpoint}): {', '.join(missing)}")
            continue
        # Every combination in the crawl's own village, the query strings on the first; in
        # another village and an unknown one, the first combination only (scope refuses).
        combos = list(itertools.product(*(crawl.values[n] for n in names)))
        first = combos[0]
        if "code" in names or "village_code" in names:
            for code in FOREIGN_CODES:
                pairs = zip(names, first, strict=True)
                combos.append(tuple(code if n in ("code", "village_code") else v for n, v in pairs))
        with app.test_request_context():
            for combo in combos:
                try:
                    path = rule.build(dict(zip(names, combo, strict=True)), append_unknown=False)
                except ValueError:  # a value this route's converter does not take (<any(...)>)
                    assert combo != first, f"{rule.rule}: the first values must fit it"
                    continue
                assert path is not None
                urls.append((rule.endpoint, path[1]))
                if combo == first:
                    for query in EXTRA_QUERIES.get(rule.endpoint, []):
                        urls.append((rule.endpoint, path[1] + query.format(**crawl.fmt)))
    return urls, unfilled


def _checksums(engine: Engine) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row of every table."""
    sums = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
            sums[table.name] = (len(rows), digest)
    return sums


@dataclass
class Recorder:
    """What the app's engine was asked to do while recording."""

    on: bool = False
    writes: list[tuple[str, str]] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    url: str = ""


def _listen(engine: Engine, recorder: Recorder) -> Iterator[None]:
    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if recorder.on and WRITES.match(sql):
            recorder.writes.append((recorder.url, sql.strip().splitlines()[0][:120]))

    def commit(_conn: Any) -> None:
        if recorder.on:
            recorder.commits.append(recorder.url)

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


@pytest.mark.parametrize("role", ROLES)
def test_no_get_route_writes_for_anyone(app: Flask, engine: Engine, role: str) -> None:
    crawl = _build(app)
    urls, unfilled = _urls(app, crawl)
    assert not unfilled, (
        "The GET crawl cannot fill these URL parameters; add values to `_build` "
        "or list the route in UNCRAWLED with a reason: " + "; ".join(unfilled)
    )
    stale = [e for e in UNCRAWLED if e not in app.view_functions]
    assert not stale, f"UNCRAWLED names routes that no longer exist: {stale}"
    client: FlaskClient = app.test_client()
    if role != "anonymous":
        assert login(client, crawl.users[role]).status_code == 302
    before = _checksums(engine)
    recorder = Recorder()
    failures: list[tuple[str, int]] = []
    with app.app_context():
        app_engine = db.engine
    listening = contextmanager(_listen)(app_engine, recorder)
    with listening:
        for _endpoint, url in urls:
            recorder.url, recorder.on = url, True
            response = client.get(url)
            response.get_data()  # run streamed bodies (CSV exports) to the end
            response.close()
            recorder.on = False
            if response.status_code >= 500:
                failures.append((url, response.status_code))
    assert not failures, failures
    assert not recorder.writes, recorder.writes[:20]
    assert not recorder.commits, sorted(set(recorder.commits))[:20]
    after = _checksums(engine)
    changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
    assert not changed, changed
    assert len(urls) > 100


def test_a_stray_write_in_a_get_fails_on_postgresql_and_takes_no_lock_on_sqlite(
    app: Flask, db_url: str, web_world: VillageWorld
) -> None:
    def stray() -> tuple[str, int]:
        try:
            db.session.execute(text("UPDATE village SET name = name"))
            db.session.flush()
        except DBAPIError as exc:
            db.session.rollback()
            return type(exc.orig).__name__, 409
        return "wrote", 200

    app.add_url_rule("/test-only/stray-write", "stray_write", stray)
    begins: list[str] = []

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if sql.split()[0].upper() in ("BEGIN", "SET"):
            begins.append(sql)

    with app.app_context():
        app_engine = db.engine
    event.listen(app_engine, "before_cursor_execute", statement)
    try:
        response = app.test_client().get("/test-only/stray-write")
    finally:
        event.remove(app_engine, "before_cursor_execute", statement)
    if db_url.startswith("postgresql"):
        assert begins == ["SET TRANSACTION READ ONLY"]
        assert (response.status_code, response.text) == (409, "ReadOnlySqlTransaction")
    else:
        # SQLite cannot refuse it, but the GET took no write lock at BEGIN (the crawl
        # above fails on any such statement).
        assert begins == ["BEGIN"]
