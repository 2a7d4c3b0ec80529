"""Setting an installation up: schema, demo village, preset catalogues."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from app.cli.common import fail, say, village_by_code
from app.extensions import db
from credits import demo, rules
from credits.errors import DomainError
from credits.evidence import LocalPhotoStore
from credits.i18n import N_


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema (runs the migrations)."""
    upgrade()
    say(N_("Database is up to date."))


@click.command("load-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when any village exists.")
@with_appcontext
def load_demo(if_empty: bool) -> None:
    """Load the demo village (one township, one village, ~60 households)."""
    if if_empty and demo.demo_loaded(db.session):
        say(N_("The database already has villages; demo not loaded."))
        return
    try:
        village = demo.load_demo(
            db.session, photos=LocalPhotoStore(current_app.config["UPLOAD_DIR"])
        )
    except DomainError as exc:
        fail(exc)
    say(N_("Demo village %(name)s (%(code)s) loaded."), name=village.name, code=village.code)


@click.command("load-preset")
@click.option("--village", "village_code", required=True)
@click.argument("preset")
@with_appcontext
def load_preset(village_code: str, preset: str) -> None:
    """Load a preset catalogue (merit_bank, family_bank or a TOML file) as a scheme."""
    village = village_by_code(village_code)
    try:
        scheme = rules.load_preset_into(db.session, village, preset)
    except DomainError as exc:
        fail(exc)
    say(
        N_("Scheme %(name)s loaded with %(count)s rules."),
        name=scheme.name,
        count=len(scheme.rules),
    )


COMMANDS = (init_db, load_demo, load_preset)
