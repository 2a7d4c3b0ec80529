"""Database triggers that refuse UPDATE and DELETE on ledger_entry (TRUNCATE still works).

Created by the migration `ledger_0002_triggers` and, for `Base.metadata.create_all`
(the test databases), by a DDL event on the table.
"""

from __future__ import annotations

from sqlalchemy import DDL, Connection, Table, event, text

REFUSAL = "ledger_entry is append-only (a correction is a new entry)"

POSTGRES_CREATE = (
    "CREATE OR REPLACE FUNCTION ledger_entry_refuse_change() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    f"RAISE EXCEPTION '{REFUSAL}'; "
    "END; $$",
    "CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry "
    "FOR EACH ROW EXECUTE FUNCTION ledger_entry_refuse_change()",
)
POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry",
    "DROP FUNCTION IF EXISTS ledger_entry_refuse_change()",
)
SQLITE_CREATE = (
    "CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
    "CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_entry "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS ledger_entry_no_update",
    "DROP TRIGGER IF EXISTS ledger_entry_no_delete",
)


def statements(dialect: str, *, drop: bool = False) -> tuple[str, ...]:
    """Return the SQL that creates (or drops) the triggers on one database."""
    if dialect == "postgresql":
        return POSTGRES_DROP if drop else POSTGRES_CREATE
    if dialect == "sqlite":
        return SQLITE_DROP if drop else SQLITE_CREATE
    return ()


def drop_triggers(connection: Connection) -> None:
    """Remove the triggers (what an attacker with database access does first)."""
    for sql in statements(connection.dialect.name, drop=True):
        connection.execute(text(sql))


def attach(table: Table) -> None:
    """Create the triggers whenever `create_all` creates the table."""
    for dialect in ("postgresql", "sqlite"):
        for sql in statements(dialect):
            event.listen(table, "after_create", DDL(sql).execute_if(dialect=dialect))
