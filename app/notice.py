"""Public notice (公示): the staff page, the public page, objections and the notice sheet."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from app.extensions import db, limiter
from app.scope import owned, require_permission
from app.web import client_ip, translate_error
from credits import notice, objections, queries
from credits.access import Permission, has_permission
from credits.clock import to_local
from credits.db import utcnow
from credits.documents.notice_sheet import render_notice_sheet
from credits.errors import DomainError
from credits.models import Claim, Group, Objection, Scheme, Village

bp = Blueprint("notice", __name__, cli_group=None)
ID = "int(max=2147483647)"  # larger ids are a 404 before they reach the database


class ObjectionForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[
            DataRequired(_l("Please write your name.")),
            Length(max=objections.MAX_NAME, message=_l("The name is too long.")),
        ],
    )
    contact = StringField(
        _l("How to reach you (optional)"),
        description=_l("A phone number or where you live, so the committee can ask you."),
        validators=[Length(max=objections.MAX_CONTACT, message=_l("This is too long."))],
    )
    reason = TextAreaField(
        _l("What is wrong with this item?"),
        validators=[
            DataRequired(_l("Please write what is wrong with this claim.")),
            Length(max=objections.MAX_REASON, message=_l("The reason is too long.")),
        ],
    )


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        _l("Why the objection is reopened"),
        validators=[
            DataRequired(_l("A reason is required to reopen an objection.")),
            Length(max=objections.MAX_REASON, message=_l("The reason is too long.")),
        ],
    )


class ResolveForm(FlaskForm):
    decision = StringField(validators=[AnyOf(["uphold", "dismiss"])])
    reason = TextAreaField(
        _l("Reason for the decision"),
        validators=[
            DataRequired(_l("A reason is required to decide an objection.")),
            Length(max=objections.MAX_REASON, message=_l("The reason is too long.")),
        ],
    )


def _int_arg(name: str) -> int | None:
    return request.args.get(name, type=int)


def _scheme_and_group(village: Village) -> tuple[list[Scheme], Scheme | None, Group | None]:
    """Read ?scheme= and ?group= of the village, ignoring ids of anything else."""
    schemes = queries.schemes_of(db.session, village.id)
    scheme_id, group_id = _int_arg("scheme"), _int_arg("group")
    scheme = next((s for s in schemes if s.id == scheme_id), None)
    group = db.session.get(Group, group_id) if group_id else None
    if group is not None and group.village_id != village.id:
        group = None
    return schemes, scheme, group


# ---- staff ------------------------------------------------------------------------


def _render_index(
    status: int = 200, failed: int | None = None, form: ResolveForm | None = None
) -> tuple[str, int]:
    village = g.village
    schemes, scheme, group = _scheme_and_group(village)
    page = notice.staff_notice(
        db.session,
        village.id,
        now=utcnow(),
        viewer=current_user,
        scheme_id=scheme.id if scheme else None,
        group_id=group.id if group else None,
    )
    return render_template(
        "notice/index.html",
        village=village,
        page=page,
        schemes=schemes,
        scheme=scheme,
        groups=queries.groups_of(db.session, village.id),
        group=group,
        can_review=has_permission(current_user, Permission.REVIEW),
        can_record=has_permission(current_user, Permission.RECORD)
        or has_permission(current_user, Permission.REVIEW),
        can_print=has_permission(current_user, Permission.PRINT),
        failed=failed,
        failed_form=form,
    ), status


@bp.get("/v/<code>/notice")
def index() -> tuple[str, int]:
    """Show claims on notice, open objections to decide and the print button."""
    require_permission(Permission.VIEW)
    return _render_index()


@bp.post(f"/v/<code>/notice/objections/<{ID}:objection_id>/resolve")
def resolve(objection_id: int) -> Response | tuple[str, int]:
    """Uphold or dismiss an objection with a reason."""
    require_permission(Permission.REVIEW)
    objection = owned(Objection, objection_id)
    form = ResolveForm()
    if not form.validate():
        message = next(iter(form.reason.errors), None) or _("Choose to uphold or dismiss.")
        flash(str(message), "error")
        return _render_index(400, objection.id, form)
    uphold = form.decision.data == "uphold"
    try:
        objections.resolve_objection(
            db.session,
            actor=current_user,
            objection_id=objection.id,
            uphold=uphold,
            reason=form.reason.data or "",
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "error")
        return _render_index(exc.status, objection.id, form)
    if uphold:
        flash(_("The objection was upheld; the claim is withdrawn."), "success")
    else:
        flash(_("The objection was dismissed."), "success")
    return redirect(url_for("notice.index"))


@bp.post(f"/v/<code>/notice/objections/<{ID}:objection_id>/reopen")
def reopen(objection_id: int) -> Response | tuple[str, int]:
    """Reopen a dismissed objection with a reason: it holds the claim again."""
    require_permission(Permission.REVIEW)
    objection = owned(Objection, objection_id)
    form = ReopenForm()
    if not form.validate():
        flash(str(next(iter(form.reason.errors), "")), "error")
        return _render_index(400)
    try:
        objections.reopen_objection(
            db.session,
            actor=current_user,
            objection_id=objection.id,
            reason=form.reason.data or "",
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "error")
        return _render_index(exc.status)
    flash(_("The objection was reopened; the claim is held until it is decided again."), "success")
    return redirect(url_for("notice.index"))


@bp.route(f"/v/<code>/notice/claims/<{ID}:claim_id>/paper-objection", methods=["GET", "POST"])
def paper_objection(claim_id: int) -> Response | tuple[str, int]:
    """Record an objection received on paper or in person."""
    if not (
        has_permission(current_user, Permission.RECORD)
        or has_permission(current_user, Permission.REVIEW)
    ):
        abort(403)
    claim = owned(Claim, claim_id)
    form = ObjectionForm()
    form.name.label.text = _("Name of the objector")
    form.contact.label.text = _("How to reach the objector")
    form.contact.description = ""
    form.reason.label.text = _("The objection")
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            try:
                objections.record_paper_objection(
                    db.session,
                    actor=current_user,
                    claim_id=claim.id,
                    name=form.name.data or "",
                    contact=form.contact.data or "",
                    reason=form.reason.data or "",
                    ip=client_ip(),
                )
            except DomainError as exc:
                db.session.rollback()
                flash(translate_error(exc), "error")
                status = exc.status
            else:
                flash(_("The objection was recorded; the claim is held."), "success")
                return redirect(url_for("notice.index"))
        else:
            flash(_("Please correct the marked fields."), "error")
    return render_template(
        "notice/paper_objection.html", village=g.village, claim=claim, form=form
    ), status


@bp.get("/v/<code>/notice/sheet.pdf")
def sheet() -> Response:
    """Download the notice sheet (公示表) as a PDF, for the village or one group."""
    require_permission(Permission.PRINT)
    village = g.village
    _schemes, scheme, group = _scheme_and_group(village)
    now = utcnow()
    buffer = io.BytesIO()
    render_notice_sheet(
        db.session,
        village,
        buffer,
        now=now,
        base_url=current_app.config["BASE_URL"],
        group=group,
        scheme=scheme,
    )
    buffer.seek(0)
    parts = [village.name, group.name if group else "", scheme.name if scheme else ""]
    name = "".join(parts) + f"公示表-{to_local(now).date().isoformat()}.pdf"
    return send_file(buffer, mimetype="application/pdf", as_attachment=True, download_name=name)


# ---- public (no login) --------------------------------------------------------------


def _public_village(village_code: str) -> Village:
    village = notice.public_village(db.session, village_code)
    if village is None:
        abort(
            Response(render_template("notice/public_missing.html", village_code=village_code), 404)
        )
    return village


@bp.get("/p/<village_code>/notice")
def public(village_code: str) -> str:
    """The public notice page: claims on notice with masked names, per scheme and group."""
    village = _public_village(village_code)
    schemes, scheme, group = _scheme_and_group(village)
    if scheme is None and schemes:
        scheme = schemes[0]
    now = utcnow()
    board = notice.notice_board(
        db.session,
        village.id,
        scheme.id if scheme else None,
        group.id if group else None,
        now=now,
    )
    return render_template(
        "notice/public.html",
        village=village,
        board=board,
        now=now,
        schemes=schemes,
        scheme=scheme,
        groups=queries.groups_of(db.session, village.id),
        group=group,
    )


@bp.route(
    f"/p/<village_code>/notice/claims/<{ID}:claim_id>/object",
    methods=["GET", "POST"],
    endpoint="object",
)
@limiter.limit(
    lambda: current_app.config["OBJECTIONS_PER_ADDRESS"], methods=["POST"], scope="objection"
)
def object_form(village_code: str, claim_id: int) -> Response | tuple[str, int]:
    """Let anyone object to a claim on notice: name, how to reach them, the reason."""
    village = _public_village(village_code)
    now = utcnow()
    try:
        item = notice.item_to_object(db.session, village.id, claim_id, now=now)
    except DomainError as exc:
        db.session.rollback()
        return render_template(
            "notice/object_closed.html", village=village, message=translate_error(exc)
        ), exc.status
    form = ObjectionForm()
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            try:
                objections.raise_objection(
                    db.session,
                    claim_id=claim_id,
                    village_id=village.id,
                    name=form.name.data or "",
                    contact=form.contact.data or "",
                    reason=form.reason.data or "",
                    ip=client_ip(),
                    now=now,
                )
            except DomainError as exc:
                db.session.rollback()
                flash(translate_error(exc), "error")
                status = exc.status
            else:
                return redirect(
                    url_for("notice.object_sent", village_code=village.code, claim_id=claim_id)
                )
        else:
            flash(_("Please correct the marked fields."), "error")
    return render_template("notice/object.html", village=village, item=item, form=form), status


@bp.get(f"/p/<village_code>/notice/claims/<{ID}:claim_id>/object/sent")
def object_sent(village_code: str, claim_id: int) -> str:
    """Thank the objector and say what happens next."""
    village = _public_village(village_code)
    claim = db.session.get(Claim, claim_id)
    if claim is None or claim.village_id != village.id:
        abort(404)
    return render_template("notice/object_sent.html", village=village, claim_id=claim_id)
