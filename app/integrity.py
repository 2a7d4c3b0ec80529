"""The integrity report (廉洁报告) of a village: for reviewers and region admins only."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import db
from app.oversight_web import CSV, XLSX, download, period_arg, period_choices
from app.templating import locale_code
from app.web import translate_error
from credits.errors import DomainError
from credits.oversight import exports, integrity

bp = Blueprint("integrity", __name__)


def _report() -> integrity.IntegrityReport:
    try:
        return integrity.build_report(db.session, current_user, g.village.id, period_arg())
    except DomainError as exc:
        if exc.status == 403:
            abort(403)
        raise


@bp.get("/v/<code>/integrity")
def index() -> str | tuple[str, int]:
    """Recorders and reviewers of the village in a period, outliers marked."""
    try:
        report = _report()
    except DomainError as exc:
        return render_template("region/error.html", message=translate_error(exc)), exc.status
    locale = locale_code()
    return render_template(
        "integrity/index.html",
        village=g.village,
        report=report,
        choices=period_choices(report.period),
        recorder_headers=[_(h) for h in exports.RECORDER_HEADERS],
        reviewer_headers=[_(h) for h in exports.REVIEWER_HEADERS],
        recorders=[(r, exports.recorder_cells(r, locale)) for r in report.recorders],
        reviewers=[(r, exports.reviewer_cells(r, locale)) for r in report.reviewers],
        rule=integrity,
    )


def _export(kind: str) -> Response:
    try:
        report = _report()
    except DomainError as exc:
        abort(exc.status)
    sheets = exports.integrity_sheets(report, locale_code())
    name = f"integrity-{g.village.code}-{report.period.key}"
    if kind == "xlsx":
        return download(exports.to_xlsx(sheets), f"{name}.xlsx", XLSX)
    return download(exports.to_csv(sheets), f"{name}.csv", CSV)


@bp.get("/v/<code>/integrity.xlsx")
def export_xlsx() -> Response:
    """The integrity report as a workbook: recorders and reviewers, one sheet each."""
    return _export("xlsx")


@bp.get("/v/<code>/integrity.csv")
def export_csv() -> Response:
    """The integrity report as CSV (UTF-8 with BOM)."""
    return _export("csv")
