"""Shared fixtures: real databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
a small world of two villages, the Flask app and a logged-in client."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, make_url, select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

import credits.models  # noqa: F401  (registers every table)
from app import create_app
from app.extensions import db
from credits import users as users_module
from credits.db import Base, make_engine, make_session_factory, reading
from credits.ledger import append_entry, verify
from credits.models import ClaimState, Household, Role, Rule, Scheme, User, Village
from credits.objections import raise_objection
from credits.rules import load_preset_into
from credits.users import create_user
from credits.villages import add_household, create_village, ensure_group
from credits.workflow import (
    ClaimInput,
    approve_claim,
    ensure_account,
    post_claim,
    propose_correction,
    record_claim,
)

BASE_PG_URL = os.environ.get("TEST_DATABASE_URL")
# Under pytest-xdist each worker (gw0, gw1, …) has a database of its own: <db>_gw0, …
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _worker_url(url: str | None) -> str | None:
    if not url or not WORKER:
        return url
    base = make_url(url)
    return base.set(database=f"{base.database}_{WORKER}").render_as_string(hide_password=False)


PG_URL = _worker_url(BASE_PG_URL)
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
PASSWORD = "secret-pass-1"
NOW = datetime(2026, 11, 20, 9, 0, 0)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    # Real scrypt, smaller cost: tests create many users.
    original = users_module._N
    users_module._N = 2**8
    yield
    users_module._N = original


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_engine() -> Iterator[Engine | None]:
    if not PG_URL:
        yield None
        return
    _ensure_database(PG_URL)
    engine = make_engine(PG_URL)
    try:
        Base.metadata.drop_all(engine)
    except ProgrammingError:
        # Tables left by an older schema (a constraint the models no longer match): start
        # from an empty schema instead of dropping table by table.
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _ensure_database(url: str) -> None:
    """Create a worker's PostgreSQL database on first use (from TEST_DATABASE_URL's)."""
    assert BASE_PG_URL
    name = make_url(url).database
    if name == make_url(BASE_PG_URL).database:
        return
    admin = create_engine(BASE_PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if not found:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()


def _truncate_pg(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    _sqlite_template: Path,
    _pg_engine: Engine | None,
) -> str:
    """A fresh, empty database with the schema, on each backend."""
    if request.param == "postgresql":
        assert _pg_engine is not None and PG_URL
        _truncate_pg(_pg_engine)
        return PG_URL
    path = tmp_path / "test.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> Callable[[], Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: Callable[[], Session]) -> Iterator[Session]:
    s = session_factory()
    yield s
    s.close()


@dataclass
class VillageWorld:
    """One village with a scheme, three households and staff of every village role."""

    village: Village
    scheme: Scheme
    households: list[Household]
    users: dict[str, User]
    rules: dict[str, Rule] = field(default_factory=dict)

    def rule(self, code: str) -> Rule:
        return self.rules[code]


def build_village(session: Session, code: str, name: str, township: str = "清溪镇") -> VillageWorld:
    """Create a village with the merit-bank preset, households and staff."""
    village = create_village(session, township=township, name=name, code=code)
    scheme = load_preset_into(session, village, "merit_bank")
    group = ensure_group(session, village, "一组")
    homes = [
        add_household(
            session,
            village,
            head_name=head,
            group=group,
            house_number=f"{i + 1}号",
            members=[
                {"name": head, "relation": "户主"},
                {"name": head[0] + "小明", "relation": "子"},
            ],
        )
        for i, head in enumerate(["张建华", "李秀兰", "欧阳明华"])
    ]
    session.commit()
    users = {}
    for username, role, household in [
        ("clerk", Role.CLERK, None),
        ("clerk2", Role.CLERK, None),
        ("reviewer", Role.REVIEWER, None),
        ("reviewer2", Role.REVIEWER, homes[2]),
        ("admin", Role.VILLAGE_ADMIN, None),
        ("cashier", Role.CASHIER, None),
    ]:
        users[username] = create_user(
            session,
            username=f"{code.lower()}-{username}",
            password=PASSWORD,
            role=role,
            display_name=f"{name}{username}",
            village_id=village.id,
            household_id=household.id if household else None,
        )
    rules = {r.code: r for r in scheme.rules}
    # End the read transaction: on SQLite it would hold the write lock (BEGIN IMMEDIATE).
    session.commit()
    return VillageWorld(village, scheme, homes, users, rules)


@pytest.fixture
def world(session: Session) -> VillageWorld:
    return build_village(session, "VA", "桃源村")


@pytest.fixture
def other_world(session: Session, world: VillageWorld) -> VillageWorld:
    return build_village(session, "VB", "杏花村", township="白水镇")


def new_claim(
    session: Session,
    world: VillageWorld,
    *,
    rule: str = "XL01",
    household: int = 0,
    clerk: str = "clerk",
    note: str = "",
    day: date | None = None,
    now: datetime = NOW,
    approve_by: str | None = None,
) -> credits.models.Claim:
    """Record (and optionally approve) a claim in a world."""
    claim = record_claim(
        session,
        actor=world.users[clerk],
        now=now,
        data=ClaimInput(
            household_id=world.households[household].id,
            rule_id=world.rule(rule).id,
            deed_date=day or now.date(),
            idempotency_key=uuid.uuid4().hex,
            note=note,
        ),
    )
    if approve_by:
        approve_claim(session, actor=world.users[approve_by], claim_id=claim.id, now=now)
    return claim


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The Flask app on a fresh database of each backend (CSRF off; one test turns it on)."""
    flask_app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": db_url,
            "WTF_CSRF_ENABLED": False,
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "BASE_URL": "http://localhost",
            # Signed ledger checkpoints go to this test's own folder, with its own key.
            "CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
            "LEDGER_KEY_FILE": str(tmp_path / "ledger_signing_key"),
        }
    )
    yield flask_app
    with flask_app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def web_world(app: Flask) -> VillageWorld:
    """The village world, built through the app's own session."""
    with app.app_context():
        return build_village(db.session, "VA", "桃源村")


@pytest.fixture
def web_other_world(app: Flask, web_world: VillageWorld) -> VillageWorld:
    with app.app_context():
        return build_village(db.session, "VB", "杏花村", township="白水镇")


def login(client: FlaskClient, user: User, password: str = PASSWORD) -> TestResponse:
    """Log a staff user in through the login form."""
    return client.post("/login", data={"username": user.username, "password": password})


# ---- tests that tell the truth ---------------------------------------------------------


@pytest.fixture(autouse=True)
def _ledger_verified_after_the_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run the ledger checker after every test that used a database (DESIGN §4.1).

    A test that damages the ledger on purpose says so with `@pytest.mark.tampers`.
    """
    if "db_url" not in request.fixturenames:
        yield
        return
    # Asked for here, db_url is set up before and torn down after everything using it.
    url: str = request.getfixturevalue("db_url")
    yield
    if request.node.get_closest_marker("tampers"):
        return
    engine = make_engine(url)
    try:
        with reading(), make_session_factory(engine)() as session:
            report = verify(session)
    finally:
        engine.dispose()
    if report.problems:
        lines = "\n".join(f"  {p.village_code} {p.kind}: {p.message}" for p in report.problems[:20])
        pytest.fail(f"verify-ledger found {len(report.problems)} problems after the test:\n{lines}")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under CI, refuse to run without PostgreSQL: half the database tests would vanish."""
    if os.environ.get("CI", "").lower() == "true" and not BASE_PG_URL:
        raise pytest.UsageError(
            "CI=true but TEST_DATABASE_URL is not set: the PostgreSQL half of the suite would "
            "not run. Set TEST_DATABASE_URL=postgresql+psycopg://user@host:5432/db."
        )


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """End a run without PostgreSQL with a line nobody can miss."""
    if not BASE_PG_URL:
        terminalreporter.write_sep(
            "!",
            "PostgreSQL was NOT tested: TEST_DATABASE_URL is unset (SQLite only)",
            yellow=True,
            bold=True,
        )


# ---- corrections (core): reverse an entry the way the app does ----------------------


def correct_entry(
    session: Session,
    world: VillageWorld,
    entry_id: int,
    reason: str = "记错了",
    *,
    proposer: str = "reviewer",
    approver: str = "admin",
    now: datetime = NOW,
) -> credits.models.LedgerEntry:
    """Propose a correction, approve it by a second person and post it when its notice ends.

    Only this correction posts (other due claims stay as they are); returns the reversal.
    """
    claim = propose_correction(
        session, actor=world.users[proposer], entry_id=entry_id, reason=reason, now=now
    )
    approve_claim(session, actor=world.users[approver], claim_id=claim.id, now=now)
    if claim.state == ClaimState.NOTICED:
        assert claim.notice_until is not None
        post_claim(session, claim, max(now, claim.notice_until))
        session.commit()
    reversal = session.scalar(
        select(credits.models.LedgerEntry).where(credits.models.LedgerEntry.claim_id == claim.id)
    )
    assert reversal is not None
    return reversal


# ---- township view, integrity report, proposals (branch `township`) ----------------


@dataclass
class TownshipScenario:
    """Two villages of 清溪镇 (VA, VC) and one of 白水镇 (VB) with known entries.

    2026-11 in VA: awards +10 (h0), +5 (h0, later reversed), +5 (h1); deduction −5 (h2);
    redemption of 3 points (h1). 2026-10 in VA: award +20 (h0). VC: award +10 (h0) and a
    claim on notice with an open objection. VB: award +50 (h0), outside the township.
    """

    a: VillageWorld
    c: VillageWorld
    b: VillageWorld
    admin: User  # township admin of 清溪镇
    other_admin: User  # township admin of 白水镇


def _post(
    session: Session,
    world: VillageWorld,
    household: int,
    kind: str,
    points: int,
    day: date,
    category: str = "",
    balance_only: bool = False,
) -> credits.models.LedgerEntry:
    account = ensure_account(session, world.households[household], world.scheme.id)
    entry = append_entry(
        session,
        account,
        kind=kind,
        points=points,
        score_delta=0 if balance_only else points,
        balance_delta=points,
        deed_date=day,
        now=datetime.combine(day, datetime.min.time()).replace(hour=3),
        category=category,
        title=f"{category or kind} {points}",
    )
    session.commit()
    return entry


def build_township(session: Session) -> TownshipScenario:
    a = build_village(session, "VA", "桃源村")
    c = build_village(session, "VC", "梨园村")
    b = build_village(session, "VB", "杏花村", township="白水镇")
    _post(session, a, 0, "award", 20, date(2026, 10, 8), "孝老爱亲")
    _post(session, a, 0, "award", 10, date(2026, 11, 5), "孝老爱亲")
    undone = _post(session, a, 0, "award", 5, date(2026, 11, 10), "邻里互助")
    _post(session, a, 1, "award", 5, date(2026, 11, 12), "邻里互助")
    _post(session, a, 2, "deduction", -5, date(2026, 11, 15), "扣分")
    _post(session, a, 1, "redemption", -3, date(2026, 11, 16), balance_only=True)
    # A correction as the workflow posts it: a reversal entry naming the entry it undoes.
    append_entry(
        session,
        ensure_account(session, a.households[0], a.scheme.id),
        kind="reversal",
        points=-undone.points,
        score_delta=-undone.score_delta,
        balance_delta=-undone.balance_delta,
        deed_date=undone.deed_date,
        now=datetime(2026, 11, 18, 2, 0),
        category=undone.category,
        title=undone.title,
        reason="重复记分",
        reverses_id=undone.id,
        recorded_by_id=a.users["reviewer"].id,
        approved_by_id=a.users["admin"].id,
    )
    session.commit()
    _post(session, c, 0, "award", 10, date(2026, 11, 6), "志愿服务")
    held = new_claim(session, c, household=1, approve_by="reviewer")
    raise_objection(
        session,
        claim_id=held.id,
        name="王五",
        contact="",
        reason="没有这回事",
        now=NOW + timedelta(hours=1),
    )
    _post(session, b, 0, "award", 50, date(2026, 11, 7), "孝老爱亲")
    admin = create_user(
        session,
        username="qx-admin",
        password=PASSWORD,
        role=Role.TOWNSHIP_ADMIN,
        display_name="清溪镇管理员",
        region_id=a.village.region_id,
    )
    other = create_user(
        session,
        username="bs-admin",
        password=PASSWORD,
        role=Role.TOWNSHIP_ADMIN,
        display_name="白水镇管理员",
        region_id=b.village.region_id,
    )
    session.commit()
    return TownshipScenario(a, c, b, admin, other)
