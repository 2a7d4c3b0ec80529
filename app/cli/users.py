"""Operator commands for staff logins: list, reset a password, disable or enable."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.cli.common import fail, say, village_by_code
from app.extensions import db
from credits import staff
from credits.errors import DomainError
from credits.i18n import N_


@click.command("list-users")
@click.option("--village", "village_code", default=None, help="Only this village's staff.")
@with_appcontext
def list_users(village_code: str | None) -> None:
    """Print staff users: name, role, village, active, last login (tab-separated)."""
    village_id = village_by_code(village_code).id if village_code else None
    for user in staff.list_staff(db.session, village_id):
        place = user.village.code if user.village else (user.region.name if user.region else "")
        last = user.last_login_at.isoformat(sep=" ") if user.last_login_at else "-"
        state = "active" if user.active else "disabled"
        click.echo(f"{user.username}\t{user.role}\t{place}\t{state}\t{last}")


@click.command("reset-password")
@click.option("--username", required=True)
@with_appcontext
def reset_password(username: str) -> None:
    """Give a user a one-time password (printed once); their sessions end."""
    try:
        user, password = staff.operator_reset_password(db.session, username)
    except DomainError as exc:
        fail(exc)
    say(
        N_("One-time password for %(name)s: %(password)s (to be changed at the next login)"),
        name=user.username,
        password=password,
    )


@click.command("disable-user")
@click.option("--username", required=True)
@click.option("--enable", is_flag=True, help="Enable the user again instead.")
@with_appcontext
def disable_user(username: str, enable: bool) -> None:
    """Disable a user (logging them out everywhere), or enable them again."""
    try:
        user = staff.operator_set_active(db.session, username, active=enable)
    except DomainError as exc:
        fail(exc)
    if enable:
        say(N_("%(name)s can log in again."), name=user.username)
    else:
        say(N_("%(name)s is disabled and logged out everywhere."), name=user.username)


COMMANDS = (list_users, reset_password, disable_user)
