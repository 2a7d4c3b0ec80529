"""Operator commands: `flask --app app <command>` (kebab-case)."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from app.extensions import db
from credits import demo, ledger, rules, users, villages, workflow
from credits.errors import DomainError
from credits.evidence import LocalPhotoStore
from credits.models import Role, Village


def _fail(exc: DomainError) -> None:
    click.echo(exc.translated(), err=True)
    sys.exit(2)


def _village(code: str) -> Village:
    village = db.session.scalar(select(Village).where(Village.code == code))
    if village is None:
        click.echo(f"No village has the code {code}.", err=True)
        sys.exit(2)
    return village


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema (runs the migrations)."""
    upgrade()
    click.echo("Database is up to date.")


@click.command("load-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when any village exists.")
@with_appcontext
def load_demo(if_empty: bool) -> None:
    """Load the demo village (one township, one village, ~60 households)."""
    if if_empty and demo.demo_loaded(db.session):
        click.echo("The database already has villages; demo not loaded.")
        return
    try:
        village = demo.load_demo(
            db.session, photos=LocalPhotoStore(current_app.config["UPLOAD_DIR"])
        )
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Demo village {village.name} ({village.code}) loaded.")


@click.command("create-village")
@click.option("--township", required=True)
@click.option("--name", required=True)
@click.option("--code", required=True)
@click.option("--county", default=None)
@with_appcontext
def create_village(township: str, name: str, code: str, county: str | None) -> None:
    """Create a village under a township."""
    try:
        village = villages.create_village(
            db.session, township=township, name=name, code=code, county=county
        )
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{village.code}\t{village.name}")


@click.command("list-villages")
@with_appcontext
def list_villages() -> None:
    """Print every village: code and name, one a line."""
    for village in db.session.scalars(select(Village).order_by(Village.code)):
        click.echo(f"{village.code}\t{village.name}")


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--village", "village_code", default=None, help="Village code (village roles).")
@click.option("--region-id", type=int, default=None, help="Region id (county/township roles).")
@click.option("--name", "display_name", default="")
@click.option("--household-id", type=int, default=None, help="The household the user lives in.")
@click.password_option()
@with_appcontext
def create_user(
    username: str,
    role: str,
    village_code: str | None,
    region_id: int | None,
    display_name: str,
    household_id: int | None,
    password: str,
) -> None:
    """Create a staff login."""
    village_id = _village(village_code).id if village_code else None
    try:
        user = users.create_user(
            db.session,
            username=username,
            password=password,
            role=role,
            display_name=display_name,
            village_id=village_id,
            region_id=region_id,
            household_id=household_id,
        )
    except DomainError as exc:
        _fail(exc)
    click.echo(f"User {user.username} ({user.role}) created.")


@click.command("load-preset")
@click.option("--village", "village_code", required=True)
@click.argument("preset")
@with_appcontext
def load_preset(village_code: str, preset: str) -> None:
    """Load a preset catalogue (merit_bank, family_bank or a TOML file) as a scheme."""
    try:
        scheme = rules.load_preset_into(db.session, _village(village_code), preset)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Scheme {scheme.name} loaded with {len(scheme.rules)} rules.")


@click.command("post-due")
@click.option("--village", "village_code", default=None)
@with_appcontext
def post_due(village_code: str | None) -> None:
    """Post every claim whose notice has ended (safe to run from cron)."""
    village_id = _village(village_code).id if village_code else None
    count = workflow.post_due(db.session, village_id=village_id)
    click.echo(f"{count} claims posted.")


@click.command("verify-ledger")
@click.option("--village", "village_code", default=None)
@with_appcontext
def verify_ledger(village_code: str | None) -> None:
    """Check hash chains and balances; exit 1 with a report when anything is broken."""
    try:
        report = ledger.verify(db.session, village_code)
    except DomainError as exc:
        _fail(exc)
    for problem in report.problems:
        click.echo(f"[{problem.village_code}] {problem.kind}: {problem.message}")
    click.echo(
        f"{report.villages} villages, {report.entries} entries, {report.accounts} "
        f"accounts checked; {len(report.problems)} problems."
    )
    sys.exit(0 if report.ok else 1)


@click.command("rebuild-balances")
@click.option("--village", "village_code", default=None)
@with_appcontext
def rebuild_balances(village_code: str | None) -> None:
    """Recompute balances and period totals from the ledger entries."""
    try:
        changed = ledger.rebuild_balances(db.session, village_code)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{changed} rows corrected.")


COMMANDS = (
    init_db,
    load_demo,
    create_village,
    list_villages,
    create_user,
    load_preset,
    post_due,
    verify_ledger,
    rebuild_balances,
)


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in COMMANDS:
        app.cli.add_command(command)
