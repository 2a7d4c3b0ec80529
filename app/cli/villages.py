"""Villages and staff logins."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.cli.common import fail, say, village_by_code
from app.extensions import db
from credits import users, villages
from credits.errors import DomainError
from credits.i18n import N_
from credits.models import Role, Village


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
        fail(exc)
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
    village_id = village_by_code(village_code).id if village_code else None
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
        fail(exc)
    say(N_("User %(username)s (%(role)s) created."), username=user.username, role=user.role)


COMMANDS = (create_village, list_villages, create_user)
