"""A staff user of village A gets 403 or 404 for every object of village B (DESIGN.md §4.5).

The routes are not listed by hand: every rule of the app's URL map is called, so a
route added later is checked too. Ids in a URL are filled from village B's objects by
argument name; a new kind of id needs a line in ID_TABLES (or rows for B in the set-up).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import pytest
from conftest import NOW, PASSWORD, login, new_claim
from sqlalchemy import func, select, text
from werkzeug.routing import IntegerConverter

from app.extensions import db
from credits.boards.closing import close_period
from credits.boards.kiosk import create_link
from credits.db import Base
from credits.models import Evidence, Objection, Proposal, Role
from credits.users import create_user
from credits.villages import add_household, ensure_group
from credits.workflow import post_due

# The table an id argument points into, when it is not simply "<table>_id".
ID_TABLES = {
    "entry_id": "ledger_entry",
    "user_id": "app_user",
    "group_id": "village_group",
    "event_id": "audit_event",
    "redemption_id": "shop_redemption",
    "item_id": "shop_item",
    "closed_id": "closed_period",
    "link_id": "kiosk_link",
}
VILLAGE_ARGS = ("code", "village_code")
SECRET_NAME = "司马懿"  # a household only village B has
METHODS = ("GET", "POST")


@dataclass
class Villages:
    a_code: str
    b_code: str
    b_id: int
    ids: dict[str, list[int]]  # argument name -> ids of village B's objects


def _village_tables():
    return [t for t in Base.metadata.sorted_tables if "village_id" in t.c]


def _b_ids(session, b_id: int, arg: str) -> list[int]:
    table_name = ID_TABLES.get(arg, arg.removesuffix("_id"))
    table = Base.metadata.tables.get(table_name)
    assert table is not None and "village_id" in table.c, (
        f"tests/web/test_scope.py does not know which table the URL argument <{arg}> "
        f"points into: add it to ID_TABLES"
    )
    ids = session.scalars(
        select(table.c.id).where(table.c.village_id == b_id).order_by(table.c.id.desc())
    ).all()
    assert ids, (
        f"village B has no {table_name} rows for the URL argument <{arg}>: create one in "
        "the `villages` fixture of tests/web/test_scope.py"
    )
    return list(ids[:3])


@pytest.fixture
def villages(app, web_world, web_other_world):
    with app.app_context():
        s = db.session
        b = web_other_world
        group = ensure_group(s, b.village, "二组")
        add_household(s, b.village, head_name=SECRET_NAME, group=group, house_number="9号")
        s.commit()
        recorded = new_claim(s, b, household=0, note=SECRET_NAME)
        noticed = new_claim(s, b, household=1, rule="JY01", approve_by="reviewer")
        new_claim(
            s, b, household=2, rule="JY01", approve_by="reviewer", now=NOW - timedelta(days=9)
        )
        post_due(s, now=NOW)
        s.add(
            Objection(
                village_id=b.village.id,
                claim_id=noticed.id,
                name=SECRET_NAME,
                reason="不属实",
            )
        )
        s.add(
            Proposal(
                village_id=b.village.id,
                household_id=b.households[0].id,
                rule_id=b.rule("JY01").id,
                deed_date=NOW.date(),
                note=SECRET_NAME,
            )
        )
        s.commit()
        _add_evidence(s, b, recorded.id)
        _add_redemption(s, b)
        admin = b.users["admin"]
        close_period(s, actor=admin, scheme_id=b.scheme.id, label="2026-10", now=NOW)
        create_link(s, actor=admin, village_id=b.village.id, label="村部大厅")
        ids = {}
        for rule in app.url_map.iter_rules():
            for arg, converter in rule._converters.items():
                if isinstance(converter, IntegerConverter) and arg not in ids:
                    ids[arg] = _b_ids(s, b.village.id, arg)
        return Villages(web_world.village.code, b.village.code, b.village.id, ids)


def _add_redemption(session, world):
    """An item of village B's shop, stocked, and one redemption of it."""
    from credits.ledger import append_entry
    from credits.models import EntryKind
    from credits.shop.catalogue import ItemInput, create_item
    from credits.shop.redemption import redeem
    from credits.shop.stock import StockIn, stock_in
    from credits.workflow import ensure_account

    cashier, home = world.users["cashier"], world.households[0]
    item = create_item(
        session, actor=cashier, village_id=world.village.id, data=ItemInput("香皂", "块", 5)
    )
    stock_in(
        session,
        actor=cashier,
        village_id=world.village.id,
        data=StockIn(item.id, 5, "donor", donor_name=SECRET_NAME),
    )
    account = ensure_account(session, home, world.scheme.id)
    append_entry(
        session,
        account,
        kind=EntryKind.AWARD,
        points=10,
        score_delta=10,
        balance_delta=10,
        deed_date=NOW.date(),
        now=NOW,
    )
    session.commit()
    redeem(session, actor=cashier, household_id=home.id, lines=[(item.id, 1)], idempotency_key="b")


def _add_evidence(session, world, claim_id):
    """A photo row of village B (the file itself is not needed to be refused)."""
    session.add(
        Evidence(
            village_id=world.village.id,
            claim_id=claim_id,
            path="b/photo.jpg",
            thumb_path="b/thumb.jpg",
            bytes=1,
            width=1,
            height=1,
            thumb_width=1,
            thumb_height=1,
            sha256="0" * 64,
            uploaded_by_id=world.users["clerk"].id,
        )
    )
    session.commit()


def _fingerprint(b_id: int) -> str:
    """A digest of every row of village B in every village-owned table."""
    digest = hashlib.sha256()
    for table in _village_tables():
        rows = db.session.execute(
            select(table).where(table.c.village_id == b_id).order_by(*table.primary_key.columns)
        ).all()
        digest.update(repr((table.name, [tuple(r) for r in rows])).encode())
    return digest.hexdigest()


def _village_rules(app):
    return [r for r in app.url_map.iter_rules() if "code" in r.arguments]


def _id_rules(app):
    return [
        r
        for r in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in r._converters.values())
    ]


def _urls(app, rule, code: str, ids: dict[str, list[int]]):
    """Build the rule's URLs for a village code and each candidate of B's ids."""
    rounds = max((len(ids[a]) for a in rule.arguments if a in ids), default=1)
    urls = []
    with app.test_request_context():
        for i in range(rounds):
            values = {}
            for arg in rule.arguments:
                if arg in VILLAGE_ARGS:
                    values[arg] = code
                elif arg in ids:
                    values[arg] = ids[arg][i % len(ids[arg])]
                elif getattr(rule._converters[arg], "items", None):  # <any(csv, xlsx):fmt>
                    values[arg] = sorted(rule._converters[arg].items)[0]
                else:
                    values[arg] = "x"
            _, path = rule.build(values, append_unknown=False)
            urls.append(path)
    return sorted(set(urls))


def _leaks(response) -> bool:
    return SECRET_NAME.encode() in response.get_data()


def _call(client, method, url):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"reason": "x", "note": "x", "name": "x"})


def test_staff_of_village_a_gets_403_for_every_url_of_village_b(app, client, villages, web_world):
    login(client, web_world.users["admin"])
    rules = _village_rules(app)
    assert len(rules) >= 3
    with app.app_context():
        before = _fingerprint(villages.b_id)
    checked, wrong = [], []
    for rule in rules:
        for method in METHODS:
            if method not in rule.methods:
                continue
            for url in _urls(app, rule, villages.b_code, villages.ids):
                response = _call(client, method, url)
                if response.status_code != 403 or _leaks(response):
                    wrong.append((method, url, response.status_code))
                checked.append(url)
    assert not wrong, wrong
    with app.app_context():
        assert _fingerprint(villages.b_id) == before
    assert len(checked) >= len(rules)


def test_staff_of_village_a_gets_404_for_every_object_of_village_b(
    app, client, villages, web_world
):
    login(client, web_world.users["admin"])
    rules = _id_rules(app)
    assert rules, "no route takes an id"
    with app.app_context():
        before = _fingerprint(villages.b_id)
    wrong = []
    for rule in rules:
        for method in METHODS:
            if method not in rule.methods:
                continue
            for url in _urls(app, rule, villages.a_code, villages.ids):
                response = _call(client, method, url)
                if response.status_code not in (403, 404) or _leaks(response):
                    wrong.append((method, url, response.status_code))
    assert not wrong, wrong
    with app.app_context():
        assert _fingerprint(villages.b_id) == before


def test_a_logged_out_visitor_is_sent_to_the_login_page(app, client, villages):
    wrong = []
    for rule in _village_rules(app):
        for method in METHODS:
            if method not in rule.methods:
                continue
            for url in _urls(app, rule, villages.a_code, villages.ids)[:1]:
                response = _call(client, method, url)
                if response.status_code != 302 or "/login" not in response.headers["Location"]:
                    wrong.append((method, url, response.status_code))
    assert not wrong, wrong
    assert "/login" in client.get("/villages").headers["Location"]


def test_a_township_admin_sees_the_villages_of_the_township_only(app, client, villages):
    with app.app_context():
        a_region = db.session.scalar(
            text("SELECT region_id FROM village WHERE code = :c"), {"c": villages.a_code}
        )
        user = create_user(
            db.session,
            username="qingxi-admin",
            password=PASSWORD,
            role=Role.TOWNSHIP_ADMIN,
            region_id=a_region,
        )
    assert login(client, user).status_code == 302
    index = client.get("/villages").get_data(as_text=True)
    assert "桃源村" in index and "杏花村" not in index
    assert client.get(f"/v/{villages.a_code}/").status_code == 200
    assert client.get(f"/v/{villages.b_code}/").status_code == 403
    wrong = [
        (url, status)
        for rule in _id_rules(app)
        if "GET" in rule.methods
        for url in _urls(app, rule, villages.a_code, villages.ids)
        if (status := client.get(url).status_code) not in (403, 404)
    ]
    assert not wrong, wrong


def test_an_unknown_village_code_is_404_for_staff(app, client, villages, web_world):
    login(client, web_world.users["admin"])
    assert client.get("/v/NOSUCH/").status_code == 404
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Base.metadata.tables["village"]))
    assert count == 2
