"""Importing a roster (花名册) from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.cli.common import fail, refuse, say, village_by_code
from app.extensions import db
from credits import roster_import
from credits.errors import DomainError
from credits.i18n import N_, gettext


@click.command("import-roster")
@click.option("--village", "village_code", required=True, help="Village code, e.g. TY001.")
@click.option("--dry-run", is_flag=True, help="Only show the problems and what would change.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_roster(village_code: str, dry_run: bool, file: Path) -> None:
    """Import a 花名册 (XLSX or CSV) into a village's roster; all rows or nothing."""
    village = village_by_code(village_code)
    data = file.read_bytes()
    try:
        plan = roster_import.preview(db.session, village, data, filename=file.name)
    except DomainError as exc:
        fail(exc)
    for problem in plan.problems:
        where = f"{problem.sheet}!" if problem.sheet else ""
        column = f" [{problem.column}]" if problem.column else ""
        click.echo(f"{where}{problem.line}: {problem.severity}{column} {problem.text()}")
    summary = plan.summary()
    say(
        N_(
            "%(rows)s rows: %(households_created)s households to add, %(households_updated)s "
            "to update, %(households_unchanged)s unchanged; %(members_created)s members to "
            "add, %(members_updated)s to update; %(groups_created)s new groups; %(errors)s "
            "errors, %(warnings)s warnings."
        ),
        **summary,
    )
    db.session.rollback()
    if plan.errors:
        refuse(N_("Nothing was imported: fix the errors and run again."))
    if dry_run:
        say(N_("Dry run: nothing was written."))
        return
    changing = sum(1 for h in plan.households if h.action != "unchanged")
    with click.progressbar(length=len(plan.households), label=gettext(N_("Importing"))) as bar:
        try:
            done = roster_import.import_roster(
                db.session, None, village, data, filename=file.name, progress=bar.update
            )
        except DomainError as exc:
            fail(exc)
    if done.changes_anything:
        say(N_("Imported: %(count)s households added or updated."), count=changing)
    else:
        say(N_("The roster already matches this file; nothing was changed."))


COMMANDS = (import_roster,)
