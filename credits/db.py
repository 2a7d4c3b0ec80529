"""The declarative base, engine set-up and the transaction helpers every service uses."""

from __future__ import annotations

from collections.abc import Iterator
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
# transactions DEFERRED, so readers never wait for the write lock nor hold it.
_reading: ContextVar[bool] = ContextVar("merit_reading", default=False)


@contextmanager
def reading() -> Iterator[None]:
    """Run a block whose transactions only read (SQLite: BEGIN DEFERRED)."""
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


def utcnow() -> datetime:
    """Return the current UTC time as a naive datetime, whole seconds (what we store)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def configure_engine(engine: Engine) -> Engine:
    """Give a SQLite engine WAL, foreign keys and writer-serialising transactions.

    Transactions begin IMMEDIATE (the write lock at BEGIN: a transaction that reads
    and then writes never fails on a stale WAL snapshot, and writers queue), except
    inside `reading()`, where they begin DEFERRED and take no lock at all.
    """
    if engine.dialect.name != "sqlite" or getattr(engine, "_merit_configured", False):
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
        conn.exec_driver_sql("BEGIN" if _reading.get() else "BEGIN IMMEDIATE")

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
