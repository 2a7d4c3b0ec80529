"""Board commands: `flask --app app honour-roll …` and `certificate …`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.common import fail, say, village_by_code
from app.extensions import db
from credits.boards.closing import closed_board, find_closed
from credits.boards.pages import certificate_data
from credits.clock import today
from credits.documents.certificate import TITLES, render_certificate
from credits.documents.honour_roll import SIZES, board_url, render_honour_roll
from credits.errors import DomainError
from credits.i18n import N_


@click.command("honour-roll")
@click.option("--village", "village_code", required=True, help="Village code.")
@click.option("--scheme", "scheme_key", required=True, help="Scheme key, e.g. merit_bank.")
@click.option("--period", required=True, help="A closed month or quarter: 2026-11, 2026-Q4.")
@click.option("--size", type=click.Choice(SIZES), default="a3", show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def honour_roll(village_code: str, scheme_key: str, period: str, size: str, out: Path) -> None:
    """Print the honour roll (光荣榜) of a closed period as a PDF."""
    village = village_by_code(village_code)
    try:
        closed = find_closed(db.session, village.id, scheme_key, period)
        data = closed_board(db.session, village.id, closed.id)
    except DomainError as exc:
        fail(exc)
    render_honour_roll(out, data, size=size, url=board_url(current_app.config["BASE_URL"], data))
    say(
        N_("%(out)s: honour roll %(label)s, %(n)s households, %(size)s."),
        out=str(out),
        label=closed.label,
        n=len(data.overall),
        size=size.upper(),
    )


@click.command("certificate")
@click.option("--village", "village_code", required=True, help="Village code.")
@click.option("--household", "household_id", type=int, required=True, help="Household id.")
@click.option("--title", type=click.Choice(sorted(TITLES)), required=True)
@click.option("--scheme", "scheme_key", default=None, help="Scheme key (default: the last).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def certificate(
    village_code: str, household_id: int, title: str, scheme_key: str | None, out: Path
) -> None:
    """Print a family-tradition certificate (最美家庭 / 好家风家庭) for one household."""
    village = village_by_code(village_code)
    try:
        data = certificate_data(
            db.session, village, household_id, title, today=today(), scheme_key=scheme_key
        )
    except DomainError as exc:
        fail(exc)
    render_certificate(out, data)
    say(N_("%(out)s: certificate for household %(id)s."), out=str(out), id=household_id)


COMMANDS = (honour_roll, certificate)
