"""The township and county view: villages of a region side by side, charts and exports."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.extensions import db
from app.oversight_web import CSV, XLSX, download, period_arg, period_choices
from app.templating import locale_code
from app.web import translate_error
from credits.errors import DomainError
from credits.oversight import charts, exports
from credits.oversight.township import COLUMNS, PER_PAGE, township_table

bp = Blueprint("region", __name__, cli_group=None)


def _table(paged: bool = True):  # type: ignore[no-untyped-def]
    period = period_arg()
    per_page = request.args.get("per_page", PER_PAGE, type=int) or PER_PAGE
    return township_table(
        db.session,
        current_user,
        period,
        sort=request.args.get("sort", "rank")[:30],
        page=request.args.get("page", 1, type=int) or 1,
        per_page=per_page if paged else 10**9,
    )


@bp.get("/region/")
@login_required
def index() -> str | tuple[str, int]:
    """Compare the villages below the user's region for a month, quarter or year."""
    try:
        table = _table()
        year = table.period.year
        category_svg = charts.category_chart(
            charts.category_months(db.session, current_user, year),
            title=_("Points per month by category"),
            empty=_("No points yet this year"),
        )
        grid = charts.participation_grid(
            db.session, current_user, [(r.village_id, r.name) for r in table.page.items], year
        )
    except DomainError as exc:
        if exc.status == 403:
            abort(403)
        return render_template("region/error.html", message=translate_error(exc)), exc.status
    return render_template(
        "region/index.html",
        table=table,
        columns=COLUMNS,
        choices=period_choices(table.period),
        category_svg=category_svg,
        participation_svg=charts.participation_chart(grid, title=_("Participation by month")),
        shown_in_grid=min(len(grid.villages), 30),
    )


def _export(kind: str) -> Response:
    try:
        table = _table(paged=False)
    except DomainError as exc:
        abort(exc.status)
    locale = locale_code()
    headers, rows = exports.township_sheet(table, locale)
    sheets = [(table.period.key, headers, rows)]
    name = f"township-{table.period.key}"
    if kind == "xlsx":
        return download(exports.to_xlsx(sheets), f"{name}.xlsx", XLSX)
    return download(exports.to_csv(sheets), f"{name}.csv", CSV)


@bp.get("/region/villages.xlsx")
@login_required
def export_xlsx() -> Response:
    """The township table as a workbook: the total row, then every village."""
    return _export("xlsx")


@bp.get("/region/villages.csv")
@login_required
def export_csv() -> Response:
    """The township table as CSV (UTF-8 with BOM, ISO dates)."""
    return _export("csv")


@bp.context_processor
def _cells() -> dict[str, object]:
    # The page shows the very cells the exports write, so their numbers cannot differ.
    return {
        "village_cells": exports.village_cells,
        "township_headers": lambda: [_(h) for h in exports.TOWNSHIP_HEADERS],
    }
