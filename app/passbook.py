"""The villager's passbook, opened from the card's QR code (public: the card is the key)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.extensions import db
from credits import cards, passbook, proposals
from credits.cards import CardStatus
from credits.documents.passbook import print_passbook
from credits.errors import DomainError
from credits.models import Household

bp = Blueprint("passbook", __name__, cli_group=None)

# The URL is the household's key: keep it out of caches, search engines and referrers.
PRIVATE_HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


@bp.get("/C/<token>")
def show_upper_case(token: str) -> Response:
    """Scanners in capitals mode type /C/…: send them to the one canonical address."""
    return redirect(url_for("passbook.show", token=token, **request.args), 301)


@bp.get("/c/<token>")
def show(token: str) -> tuple[str, int, dict[str, str]]:
    """Show a household's passbook, or say why this card opens nothing."""
    result = cards.resolve(db.session, token)
    if result.status == CardStatus.INVALID or result.household is None:
        if result.status in (CardStatus.REPLACED, CardStatus.REVOKED, CardStatus.INACTIVE):
            # Nothing of the household: only what happened to the card.
            return (
                render_template("passbook/closed.html", status=result.status.value),
                410,
                PRIVATE_HEADERS,
            )
        return render_template("passbook/invalid.html"), 404, PRIVATE_HEADERS
    book = passbook.passbook(
        db.session,
        result.household,
        scheme_key=request.args.get("s", "")[:40] or None,
        page=request.args.get("page", 1, type=int) or 1,
    )
    return (
        render_template(
            "passbook/show.html",
            pb=book,
            token=token,
            can_object="notice.object" in current_app.view_functions,
            proposals=proposals.for_household(db.session, result.household),
        ),
        200,
        PRIVATE_HEADERS,
    )


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date like 2026-01-31", param_hint=name
        ) from None


@bp.cli.command("passbook")
@click.option("--household", "household_id", type=int, required=True, help="Household id.")
@click.option("--from", "date_from", default=None, help="First day, e.g. 2026-01-01.")
@click.option("--to", "date_to", default=None, help="Last day (default: today).")
@click.option("--scheme", "scheme_key", default=None, help="Only this scheme, by key.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def passbook_command(
    household_id: int, date_from: str | None, date_to: str | None, scheme_key: str | None, out: Path
) -> None:
    """Print a household's passbook statement (存折) as a PDF."""
    household = db.session.get(Household, household_id)
    if household is None:
        click.echo(f"No household has the id {household_id}.", err=True)
        sys.exit(2)
    try:
        result = print_passbook(
            db.session,
            household,
            out,
            date_from=_date(date_from, "--from"),
            date_to=_date(date_to, "--to"),
            scheme_key=scheme_key,
        )
    except DomainError as exc:
        click.echo(exc.translated(), err=True)
        sys.exit(2)
    click.echo(f"{out}: {result.pages} pages, {result.statements} schemes, {result.lines} entries.")
