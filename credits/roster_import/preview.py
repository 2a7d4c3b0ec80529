"""Previewing a roster file: read, plan and check it, and say line by line what an import does."""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy.orm import Session

from credits import clock
from credits.access import Permission, require
from credits.documents.fonts import FontMissingError, missing_glyphs
from credits.i18n import N_
from credits.models import User, Village
from credits.roster_import.compare import KnownRoster, compare
from credits.roster_import.households import assemble
from credits.roster_import.plan import ERROR, WARNING, Preview
from credits.roster_import.read import RosterSource, read_bytes, read_tables
from credits.roster_import.rows import read_rows


def preview(
    session: Session,
    village: Village,
    file: RosterSource,
    *,
    filename: str = "",
    actor: User | None = None,
    today: date | None = None,
) -> Preview:
    """Read a roster file and say, line by line, what is wrong and what an import would do."""
    if actor is not None:
        require(session, actor, Permission.RECORD, village.id)
    data, name = read_bytes(file)
    tables = read_tables(data)
    result = Preview(filename=filename or name, digest=hashlib.sha256(data).hexdigest())
    rows = read_rows(tables, result, today or clock.today())
    known = KnownRoster(session, village.id)
    assemble(rows, result, known.by_head())
    check_glyphs(result)
    compare(result, known)
    _tidy(result)
    return result


def check_glyphs(result: Preview) -> None:
    """Warn about names with characters (生僻字) the print font lacks."""
    checked: dict[str, list[str]] = {}
    for household in result.households:
        for member in household.members:
            name = member.name
            if name not in checked:
                try:
                    checked[name] = missing_glyphs(name)
                except FontMissingError:
                    return  # no fonts installed: the printing pages say so themselves
            if checked[name]:
                result.note(
                    member.line,
                    WARNING,
                    N_(
                        "%(name)s has %(chars)s, which the print font lacks: cards and "
                        "notices will show a box with its code instead."
                    ),
                    sheet=household.sheet,
                    name=name,
                    chars="".join(checked[name]),
                )


def _tidy(result: Preview) -> None:
    """Problems in file order; sheet names only when the file has more than one sheet."""
    if len(result.sheets) <= 1:
        for problem in result.problems:
            problem.sheet = ""
        for household in result.households:
            household.sheet = ""
    sheet_order = {name: i for i, name in enumerate(result.sheets)}
    result.problems.sort(key=lambda p: (sheet_order.get(p.sheet, -1), p.line, p.severity != ERROR))
