"""The declarative base, engine set-up and the transaction helpers every service uses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base shared by the domain and Flask-SQLAlchemy."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# True while serving a request that must not write (a GET): SQLite then begins its
# transactions DEFERRED, so readers never wait for the write lock nor hold it, and
# PostgreSQL begins them READ ONLY, so a stray write fails loudly instead of landing.
_reading: ContextVar[bool] = ContextVar("merit_reading", default=False)
# The web layer may also say "this is a read" by a probe (a GET request context is
# active); it covers a streamed response body, which runs after the request hooks.
_probe: list[Callable[[], bool]] = []


@contextmanager
def reading() -> Iterator[None]:
    """Run a block whose transactions only read (SQLite: BEGIN DEFERRED; PostgreSQL: READ ONLY)."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def start_reading() -> object:
    """Mark the current context as read-only; pass the token to `stop_reading`."""
    return _reading.set(True)


def stop_reading(token: object) -> None:
    """End a read-only context begun with `start_reading`."""
    _reading.reset(token)  # type: ignore[arg-type]


def set_reading_probe(probe: Callable[[], bool]) -> None:
    """Install the one function that tells whether the current context only reads."""
    _probe[:] = [probe]


def is_reading() -> bool:
    """Tell whether transactions begun now must only read."""
    return _reading.get() or any(probe() for probe in _probe)


def utcnow() -> datetime:
    """Return the current UTC time as a naive datetime, whole seconds (what we store)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def configure_engine(engine: Engine) -> Engine:
    """Give an engine this project's transactions.

    SQLite: WAL, foreign keys, and transactions that begin IMMEDIATE (the write lock at
    BEGIN: a transaction that reads and then writes never fails on a stale WAL snapshot,
    and writers queue), except inside `reading()`, where they begin DEFERRED and take no
    lock at all. PostgreSQL: inside `reading()` transactions are READ ONLY.
    """
    if getattr(engine, "_merit_configured", False):
        return engine
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "begin")
        def _on_pg_begin(conn: Any) -> None:
            if is_reading():
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")

        engine._merit_configured = True  # type: ignore[attr-defined]
        return engine
    if engine.dialect.name != "sqlite":
        return engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We emit BEGIN ourselves (below), so the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if is_reading() else "BEGIN IMMEDIATE")

    engine._merit_configured = True  # type: ignore[attr-defined]
    return engine


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for a database URL with this project's settings."""
    return configure_engine(create_engine(url, **kwargs))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to an engine."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def is_postgres(session: Session) -> bool:
    """Tell whether the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def lock_row(session: Session, table: str, key_column: str, key: int) -> None:
    """Lock one row until the transaction ends (PostgreSQL); SQLite already holds the lock."""
    if is_postgres(session):
        session.execute(
            text(f"SELECT 1 FROM {table} WHERE {key_column} = :k FOR UPDATE"), {"k": key}
        )
