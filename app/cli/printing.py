"""Printouts from the command line: household cards, passbooks, notice sheets."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from app.cli.common import fail, refuse, say, village_by_code
from app.extensions import db
from credits import notice
from credits.db import utcnow
from credits.documents.cards import faces_for, render_sheets, sheet_title
from credits.documents.notice_sheet import render_notice_sheet
from credits.documents.passbook import print_passbook
from credits.errors import DomainError
from credits.i18n import N_, gettext
from credits.models import Group, Household, Scheme


@click.command("print-cards")
@click.option("--village", "village_code", required=True, help="Village code.")
@click.option("--group", "group_name", default=None, help="Only this group (村民小组), by name.")
@click.option(
    "--household", "household_id", type=int, default=None, help="One household (reprint)."
)
@click.option("--base-url", default=None, help="URL the cards point to (default: BASE_URL).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def print_cards(
    village_code: str,
    group_name: str | None,
    household_id: int | None,
    base_url: str | None,
    out: Path,
) -> None:
    """Print household QR cards, ten to an A4 page with crop marks."""
    village = village_by_code(village_code)
    group = None
    if group_name:
        group = db.session.scalar(
            select(Group).where(Group.village_id == village.id, Group.name == group_name)
        )
        if group is None:
            refuse(
                N_("Village %(code)s has no group named %(group)s."),
                code=village_code,
                group=group_name,
            )
    base = base_url or current_app.config["BASE_URL"]
    try:
        faces, warnings = faces_for(
            db.session, village, base, group=group, household_id=household_id
        )
    except DomainError as exc:
        fail(exc)
    with click.progressbar(length=len(faces), label=gettext(N_("Printing cards"))) as bar:
        pages = render_sheets(out, faces, title=sheet_title(village, group), progress=bar.update)
    for warning in warnings:
        say(N_("WARNING: %(warning)s"), err=True, warning=warning)
    say(
        N_("%(out)s: %(cards)s cards on %(pages)s pages, for %(base)s"),
        out=str(out),
        cards=len(faces),
        pages=pages,
        base=base,
    )
    if base.startswith("http://127.") or "localhost" in base:
        say(
            N_(
                "WARNING: the cards point to this computer only; set BASE_URL to the "
                "address phones and tablets use."
            ),
            err=True,
        )


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        message = gettext(N_("%(value)s is not a date like 2026-01-31"), value=repr(value))
        raise click.BadParameter(message, param_hint=name) from None


@click.command("passbook")
@click.option("--household", "household_id", type=int, required=True, help="Household id.")
@click.option("--from", "date_from", default=None, help="First day, e.g. 2026-01-01.")
@click.option("--to", "date_to", default=None, help="Last day (default: today).")
@click.option("--scheme", "scheme_key", default=None, help="Only this scheme, by key.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def passbook(
    household_id: int, date_from: str | None, date_to: str | None, scheme_key: str | None, out: Path
) -> None:
    """Print a household's passbook statement (存折) as a PDF."""
    household = db.session.get(Household, household_id)
    if household is None:
        refuse(N_("No household has the id %(id)s."), id=household_id)
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
        fail(exc)
    say(
        N_("%(out)s: %(pages)s pages, %(schemes)s schemes, %(lines)s entries."),
        out=str(out),
        pages=result.pages,
        schemes=result.statements,
        lines=result.lines,
    )


@click.command("notice-sheet")
@click.option("--village", "village_code", required=True, help="Village code.")
@click.option("--group", "group_name", default=None, help="Only this group (村民小组) by name.")
@click.option("--scheme", "scheme_key", default=None, help="Only this scheme, by key.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def notice_sheet(
    village_code: str, group_name: str | None, scheme_key: str | None, out: Path
) -> None:
    """Print the notice sheet (公示表) of a village or one of its groups to a PDF file."""
    village = village_by_code(village_code)
    try:
        group = notice.find_group(db.session, village.id, group_name) if group_name else None
    except DomainError as exc:
        fail(exc)
    scheme = None
    if scheme_key:
        scheme = db.session.scalar(
            select(Scheme).where(Scheme.village_id == village.id, Scheme.key == scheme_key)
        )
        if scheme is None:
            refuse(
                N_("Village %(code)s has no scheme %(scheme)s."),
                code=village_code,
                scheme=scheme_key,
            )
    summary = render_notice_sheet(
        db.session,
        village,
        out,
        now=utcnow(),
        base_url=current_app.config["BASE_URL"],
        group=group,
        scheme=scheme,
    )
    say(
        N_("%(claims)s claims on notice, %(pages)s pages written to %(out)s."),
        claims=summary.claims,
        pages=summary.pages,
        out=str(out),
    )


COMMANDS = (print_cards, passbook, notice_sheet)
