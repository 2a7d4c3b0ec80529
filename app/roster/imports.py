"""Roster import and export: upload a 花名册, preview it line by line, import it; download it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from flask import current_app, flash, g, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.roster.blueprint import _invalid_form, _refused, bp
from app.roster.forms import ConfirmForm, ExportForm, UploadForm
from app.scope import require_permission
from app.web import client_ip
from credits import roster_import
from credits.access import Permission
from credits.errors import DomainError


def _upload_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def _preview_page(plan: roster_import.Preview, token: str, status: int = 200) -> Any:
    confirm = ConfirmForm(formdata=None)
    confirm.token.data = token
    return (
        render_template(
            "roster/import_preview.html",
            village=g.village,
            plan=plan,
            confirm=confirm,
            labels=IMPORT_FIELD_LABELS,
        ),
        status,
    )


IMPORT_FIELD_LABELS = {
    "group": _l("Group"),
    "house_number": _l("House no."),
    "phone": _l("Phone"),
    "special_needs": _l("Special needs"),
    "relation": _l("Relation"),
    "gender": _l("Gender"),
    "birth_year": _l("Birth year"),
}


@bp.route("/v/<code>/roster/import", methods=["GET", "POST"])
def import_upload() -> Any:
    """Upload a 花名册 and see, line by line, what is wrong and what the import would do."""
    require_permission(Permission.RECORD)
    form = UploadForm()
    if not form.is_submitted():
        return render_template("roster/import.html", village=g.village, form=form)
    if not form.validate():
        _invalid_form()
        return render_template("roster/import.html", village=g.village, form=form), 400
    upload = form.file.data
    try:
        plan, stored = roster_import.preview_upload(
            db.session,
            g.village,
            current_user,
            _upload_root(),
            upload.stream,
            upload.filename,
        )
    except DomainError as exc:
        db.session.rollback()
        _refused(exc)
        return render_template("roster/import.html", village=g.village, form=form), exc.status
    return _preview_page(plan, stored.token)


@bp.post("/v/<code>/roster/import/confirm")
def import_confirm() -> Any:
    """Import the previewed file: every row or nothing."""
    require_permission(Permission.RECORD)
    form = ConfirmForm()
    stored = (
        roster_import.stored_upload(_upload_root(), g.village, current_user, form.token.data or "")
        if form.validate()
        else None
    )
    if stored is None:
        flash(_("This upload has expired or was already imported; upload the file again."), "error")
        return redirect(url_for("roster.import_upload"))
    try:
        plan = roster_import.import_upload(
            db.session, current_user, g.village, stored, ip=client_ip()
        )
    except DomainError as exc:
        db.session.rollback()
        _refused(exc)
        plan = roster_import.preview_stored(db.session, g.village, stored)
        return _preview_page(plan, stored.token, exc.status)
    if plan.changes_anything:
        flash(
            _(
                "Imported: %(created)s households added, %(updated)s updated, "
                "%(members)s members added.",
                created=plan.count("create"),
                updated=plan.count("update"),
                members=plan.member_count("create"),
            ),
            "success",
        )
    else:
        flash(_("The roster already matches this file; nothing was changed."), "info")
    return redirect(url_for("roster.index"))


@bp.post("/v/<code>/roster/export")
def export() -> Any:
    """Download the roster as an XLSX 花名册 (the same columns the import reads).

    A POST: the export of personal data is audited, and a GET never writes.
    """
    require_permission(Permission.RECORD)
    if not ExportForm().validate():
        _invalid_form()
        return redirect(url_for("roster.index"))
    data = roster_import.export_roster(db.session, g.village, actor=current_user, ip=client_ip())
    name = roster_import.export_filename(g.village)
    response = send_file(
        io.BytesIO(data),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=name,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- command line ----
