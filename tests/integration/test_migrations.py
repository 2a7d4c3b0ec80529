"""The Alembic migrations build exactly the schema the models describe, on both databases.

This fails when a model changed without a migration: regenerate the migration then.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pprint import pformat

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import PG_URL
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

import credits.models  # noqa: F401  (registers every table)
from app import create_app
from app.extensions import db
from credits.db import Base, make_engine

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    assert PG_URL
    schema = f"migrate_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_migrations_build_the_schema_of_the_models(empty_db_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "migrations",
            "SQLALCHEMY_DATABASE_URI": empty_db_url,
            "UPLOAD_DIR": str(tmp_path / "uploads"),
        }
    )
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    with app.app_context():
        engine = db.engine
        assert "alembic_version" in inspect(engine).get_table_names()
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        # Running it again changes nothing.
        again = app.test_cli_runner().invoke(args=["init-db"])
        assert again.exit_code == 0, again.output
        db.session.remove()
        engine.dispose()
    assert differences == [], (
        "the migrations and the models differ; regenerate the migration:\n" + pformat(differences)
    )
