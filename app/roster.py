"""The roster (户籍) pages: households and members, search, import and export of the 花名册."""

from __future__ import annotations

import io
import json
import re
import secrets
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import click
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
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
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional

from app.extensions import db
from app.scope import owned, require_permission
from app.web import client_ip, translate_error
from credits import queries, roster, roster_import, search
from credits.access import Permission, has_permission
from credits.errors import DomainError
from credits.models import Household, Member, Village
from credits.paging import paginate

bp = Blueprint("roster", __name__, cli_group=None)

STATUSES = ("active", "inactive", "all")
IMPORT_DIR = "roster-imports"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
UPLOAD_MAX_AGE = 24 * 3600
# Pages of other areas a household page links to, when those areas are installed.
HOUSEHOLD_LINKS = (
    ("cards.household", _l("Household card")),
    ("cards.passbook_pdf", _l("Printed passbook")),
)


# ---- forms ----

GENDER_CHOICES = [SelectChoice("男"), SelectChoice("女"), SelectChoice("", _l("Not given"))]


class HouseholdForm(FlaskForm):
    head_name = StringField(_l("Head of household"), validators=[DataRequired(), Length(max=50)])
    group = SelectField(_l("Group"), choices=[], validate_choice=False)
    new_group = StringField(
        _l("Or a new group"), validators=[Length(max=50)], description=_l("For example 四组")
    )
    house_number = StringField(_l("House no."), validators=[Length(max=50)])
    phone = StringField(_l("Phone"), validators=[Length(max=30)])
    head_gender = RadioField(
        _l("Gender of the head"), choices=GENDER_CHOICES, default="", validators=[Optional()]
    )
    head_birth_year = StringField(
        _l("Birth year of the head"),
        validators=[Length(max=20)],
        description=_l("For example 1965 or 1965.03"),
    )
    elderly_alone = BooleanField(_l("Elderly living alone"))
    disabled = BooleanField(_l("Disabled"))
    key = HiddenField()

    def special_needs(self) -> tuple[str, ...]:
        chosen = [
            (self.elderly_alone.data, roster.ELDERLY_ALONE),
            (self.disabled.data, roster.DISABLED),
        ]
        return tuple(flag for on, flag in chosen if on)

    def group_name(self) -> str:
        return (self.new_group.data or "").strip() or (self.group.data or "")


class HouseholdEditForm(FlaskForm):
    head_name = StringField(_l("Head of household"), validators=[DataRequired(), Length(max=50)])
    house_number = StringField(_l("House no."), validators=[Length(max=50)])
    phone = StringField(_l("Phone"), validators=[Length(max=30)])
    elderly_alone = BooleanField(_l("Elderly living alone"))
    disabled = BooleanField(_l("Disabled"))

    special_needs = HouseholdForm.special_needs


class MemberForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=50)])
    relation = StringField(
        _l("Relation to the head"),
        validators=[Length(max=20)],
        description=_l("For example 配偶, 子, 女, 儿媳, 孙子"),
    )
    gender = RadioField(_l("Gender"), choices=GENDER_CHOICES, default="", validators=[Optional()])
    birth_year = StringField(
        _l("Birth year"), validators=[Length(max=20)], description=_l("For example 1965 or 1965.03")
    )
    phone = StringField(_l("Phone"), validators=[Length(max=30)])
    key = HiddenField()


class MoveForm(FlaskForm):
    group = SelectField(_l("Move to group"), choices=[], validate_choice=False)
    new_group = StringField(_l("Or a new group"), validators=[Length(max=50)])

    def group_name(self) -> str:
        return (self.new_group.data or "").strip() or (self.group.data or "")


class ActiveForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Length(max=200)])


class UploadForm(FlaskForm):
    file = FileField(_l("Roster file (.xlsx or .csv)"), validators=[FileRequired()])


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


# ---- helpers ----


def _group_choices() -> list[SelectChoice]:
    groups = queries.groups_of(db.session, g.village.id)
    return [SelectChoice("", _("No group"))] + [SelectChoice(grp.name) for grp in groups]


def _refused(exc: DomainError, form: FlaskForm | None = None) -> None:
    """Flash a refusal and mark each field it concerns."""
    for error in getattr(exc, "errors", None) or [exc]:
        message = translate_error(error)
        flash(message, "error")
        name = getattr(error, "field", None)
        if form is not None and name and name in form._fields:
            form._fields[name].errors = [*form._fields[name].errors, message]


def _invalid_form() -> None:
    flash(_("Some fields need correcting; see the marks below."), "error")


def household_links(household: Household) -> list[tuple[str, str]]:
    """(label, url) of the card and passbook pages, for the areas that exist."""
    links = []
    for endpoint, label in HOUSEHOLD_LINKS:
        if endpoint not in current_app.view_functions:
            continue
        try:
            links.append((str(label), url_for(endpoint, household_id=household.id)))
        except BuildError:
            continue
    return links


def can(permission: Permission) -> bool:
    return has_permission(current_user, permission)


# ---- list, search, household ----


@bp.get("/v/<code>/roster")
def index() -> str:
    """The roster: households found by name, initials, house number or group; works without JS."""
    q = request.args.get("q", "")[: search.MAX_QUERY]
    group_id = request.args.get("group", type=int)
    status = request.args.get("status", "active")
    status = status if status in STATUSES else "active"
    query = search.household_query(g.village.id, q, group_id=group_id, status=status)
    page = paginate(
        db.session,
        query.options(selectinload(Household.members)),
        request.args.get("page", 1, type=int),
        current_app.config.get("PAGE_SIZE", 30),
    )
    return render_template(
        "roster/index.html",
        village=g.village,
        page=page,
        q=q,
        group_id=group_id,
        status=status,
        groups=queries.groups_of(db.session, g.village.id),
        can_manage=can(Permission.MANAGE),
        can_import=can(Permission.RECORD),
        can_print=can(Permission.PRINT),
    )


@bp.get("/v/<code>/roster/search")
def search_json() -> Response:
    """As-you-type search: {"households": [household_json, ...]}, best matches first."""
    limit = request.args.get("limit", 10, type=int)
    data = search.search_json(db.session, g.village.id, request.args.get("q", ""), limit)
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


def _household_page(
    household: Household, *, move: MoveForm | None = None, status: int = 200
) -> Any:
    move = move or MoveForm(formdata=None)
    move.group.choices = _group_choices()
    if not move.is_submitted():
        move.group.data = household.group.name if household.group else ""
    return (
        render_template(
            "roster/household.html",
            village=g.village,
            h=household,
            members=sorted(
                household.members, key=lambda m: (not m.active, m.relation != roster.HEAD, m.id)
            ),
            needs=roster.special_needs_of(household),
            totals=queries.household_totals(db.session, household),
            claims=roster.recent_claims(db.session, household),
            entries=roster.recent_entries(db.session, household),
            links=household_links(household),
            move=move,
            active_form=ActiveForm(formdata=None),
            can_manage=can(Permission.MANAGE),
            month=search.month_points(db.session, g.village.id, [household.id]).get(
                household.id, 0
            ),
        ),
        status,
    )


@bp.get("/v/<code>/roster/<int:household_id>")
def household(household_id: int) -> Any:
    """A household: head, group, members, special needs, points, recent claims and entries."""
    return _household_page(owned(Household, household_id))


@bp.route("/v/<code>/roster/new", methods=["GET", "POST"])
def new_household() -> Any:
    """Add a household (its head becomes the first member)."""
    require_permission(Permission.MANAGE)
    form = HouseholdForm()
    form.group.choices = _group_choices()
    if not form.is_submitted():
        form.key.data = uuid.uuid4().hex
    elif form.validate():
        try:
            created = roster.create_household(
                db.session,
                actor=current_user,
                village_id=g.village.id,
                data=roster.HouseholdData(
                    head_name=form.head_name.data or "",
                    house_number=form.house_number.data or "",
                    phone=form.phone.data or "",
                    special_needs=form.special_needs(),
                    group=form.group_name(),
                    head_gender=form.head_gender.data or "",
                    head_birth_year=form.head_birth_year.data or None,
                ),
                idempotency_key=form.key.data or None,
                ip=client_ip(),
            )
        except DomainError as exc:
            db.session.rollback()
            _refused(exc, form)
            return render_template(
                "roster/household_form.html", form=form, village=g.village, h=None
            ), exc.status
        flash(_("The household of %(name)s was added.", name=created.head_name), "success")
        return redirect(url_for("roster.household", household_id=created.id))
    else:
        _invalid_form()
        return render_template(
            "roster/household_form.html", form=form, village=g.village, h=None
        ), 400
    return render_template("roster/household_form.html", form=form, village=g.village, h=None)


@bp.route("/v/<code>/roster/<int:household_id>/edit", methods=["GET", "POST"])
def edit_household(household_id: int) -> Any:
    """Change the head's name, house number, phone and special needs."""
    require_permission(Permission.MANAGE)
    home = owned(Household, household_id)
    form = HouseholdEditForm()
    if not form.is_submitted():
        form.process(obj=home)
        needs = roster.special_needs_of(home)
        form.elderly_alone.data = roster.ELDERLY_ALONE in needs
        form.disabled.data = roster.DISABLED in needs
    elif form.validate():
        try:
            roster.update_household(
                db.session,
                actor=current_user,
                household_id=home.id,
                data=roster.HouseholdData(
                    head_name=form.head_name.data or "",
                    house_number=form.house_number.data or "",
                    phone=form.phone.data or "",
                    special_needs=form.special_needs(),
                ),
                ip=client_ip(),
            )
        except DomainError as exc:
            db.session.rollback()
            _refused(exc, form)
            return render_template(
                "roster/household_form.html", form=form, village=g.village, h=home
            ), exc.status
        flash(_("The household was saved."), "success")
        return redirect(url_for("roster.household", household_id=home.id))
    else:
        _invalid_form()
        return render_template(
            "roster/household_form.html", form=form, village=g.village, h=home
        ), 400
    return render_template("roster/household_form.html", form=form, village=g.village, h=home)


@bp.post("/v/<code>/roster/<int:household_id>/move")
def move_household(household_id: int) -> Any:
    """Move a household to another group."""
    require_permission(Permission.MANAGE)
    home = owned(Household, household_id)
    form = MoveForm()
    form.group.choices = _group_choices()
    if not form.validate():
        _invalid_form()
        return _household_page(home, move=form, status=400)
    try:
        roster.move_household(
            db.session,
            actor=current_user,
            household_id=home.id,
            group=form.group_name(),
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        _refused(exc, form)
        return _household_page(owned(Household, household_id), move=form, status=exc.status)
    flash(
        _("The household is now in %(group)s.", group=home.group.name if home.group else ""),
        "success",
    )
    return redirect(url_for("roster.household", household_id=home.id))


def _set_active(household_id: int, active: bool) -> Any:
    require_permission(Permission.MANAGE)
    home = owned(Household, household_id)
    form = ActiveForm()
    if not form.validate():
        _invalid_form()
        return _household_page(home, status=400)
    try:
        roster.set_household_active(
            db.session,
            actor=current_user,
            household_id=home.id,
            active=active,
            reason=form.reason.data or "",
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        _refused(exc)
        return _household_page(owned(Household, household_id), status=exc.status)
    flash(
        _("The household was deactivated.") if not active else _("The household is active again."),
        "success",
    )
    return redirect(url_for("roster.household", household_id=home.id))


@bp.post("/v/<code>/roster/<int:household_id>/deactivate")
def deactivate_household(household_id: int) -> Any:
    """Deactivate a household (nothing is deleted; its history stays)."""
    return _set_active(household_id, False)


@bp.post("/v/<code>/roster/<int:household_id>/reactivate")
def reactivate_household(household_id: int) -> Any:
    """Bring a deactivated household back."""
    return _set_active(household_id, True)


# ---- members ----


def _member_data(form: MemberForm) -> roster.MemberData:
    return roster.MemberData(
        name=form.name.data or "",
        relation=form.relation.data or "",
        gender=form.gender.data or "",
        birth_year=form.birth_year.data or None,
        phone=form.phone.data or "",
    )


def _member_form(
    form: MemberForm, home: Household, member: Member | None, status: int = 200
) -> Any:
    return (
        render_template(
            "roster/member_form.html",
            form=form,
            village=g.village,
            h=home,
            member=member,
            relations=roster.RELATIONS,
            member_active=ActiveForm(formdata=None),
        ),
        status,
    )


@bp.route("/v/<code>/roster/<int:household_id>/members/new", methods=["GET", "POST"])
def new_member(household_id: int) -> Any:
    """Add a member to a household."""
    require_permission(Permission.MANAGE)
    home = owned(Household, household_id)
    form = MemberForm()
    if not form.is_submitted():
        form.key.data = uuid.uuid4().hex
        return _member_form(form, home, None)
    if not form.validate():
        _invalid_form()
        return _member_form(form, home, None, 400)
    try:
        member = roster.add_member(
            db.session,
            actor=current_user,
            household_id=home.id,
            data=_member_data(form),
            idempotency_key=form.key.data or None,
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        _refused(exc, form)
        return _member_form(form, owned(Household, household_id), None, exc.status)
    flash(_("%(name)s was added to the household.", name=member.name), "success")
    return redirect(url_for("roster.household", household_id=home.id))


@bp.route(
    "/v/<code>/roster/<int:household_id>/members/<int:member_id>/edit", methods=["GET", "POST"]
)
def edit_member(household_id: int, member_id: int) -> Any:
    """Change a member's name, relation, gender, birth year or phone."""
    require_permission(Permission.MANAGE)
    home = owned(Household, household_id)
    member = owned(Member, member_id)
    if member.household_id != home.id:
        return _member_form(MemberForm(formdata=None), home, None, 404)
    form = MemberForm()
    if not form.is_submitted():
        form.process(obj=member)
        form.birth_year.data = str(member.birth_year) if member.birth_year else ""
        return _member_form(form, home, member)
    if not form.validate():
        _invalid_form()
        return _member_form(form, home, member, 400)
    try:
        roster.update_member(
            db.session,
            actor=current_user,
            member_id=member.id,
            data=_member_data(form),
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        _refused(exc, form)
        return _member_form(
            form, owned(Household, household_id), owned(Member, member_id), exc.status
        )
    flash(_("The member was saved."), "success")
    return redirect(url_for("roster.household", household_id=home.id))


def _set_member_active(household_id: int, member_id: int, active: bool) -> Any:
    require_permission(Permission.MANAGE)
    home = owned(Household, household_id)
    member = owned(Member, member_id)
    if member.household_id != home.id or not ActiveForm().validate():
        return redirect(url_for("roster.household", household_id=home.id))
    try:
        roster.set_member_active(
            db.session, actor=current_user, member_id=member.id, active=active, ip=client_ip()
        )
    except DomainError as exc:
        db.session.rollback()
        _refused(exc)
        return _household_page(owned(Household, household_id), status=exc.status)
    flash(
        _("%(name)s was marked as no longer in the household.", name=member.name)
        if not active
        else _("%(name)s is in the household again.", name=member.name),
        "success",
    )
    return redirect(url_for("roster.household", household_id=home.id))


@bp.post("/v/<code>/roster/<int:household_id>/members/<int:member_id>/deactivate")
def deactivate_member(household_id: int, member_id: int) -> Any:
    """Mark a member as gone (moved out, deceased)."""
    return _set_member_active(household_id, member_id, False)


@bp.post("/v/<code>/roster/<int:household_id>/members/<int:member_id>/reactivate")
def reactivate_member(household_id: int, member_id: int) -> Any:
    """Bring a member back."""
    return _set_member_active(household_id, member_id, True)


# ---- import and export ----


def _upload_dir(village: Village) -> Path:
    path = Path(current_app.config["UPLOAD_DIR"]) / IMPORT_DIR / str(village.id)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sweep(folder: Path) -> None:
    """Forget uploads nobody confirmed within a day."""
    cutoff = time.time() - UPLOAD_MAX_AGE
    for old in folder.glob("*"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)


def _stored(token: str) -> tuple[Path, dict[str, Any]] | None:
    """The uploaded file of a token, if it belongs to this village and this user."""
    if not TOKEN_RE.match(token or ""):
        return None
    folder = _upload_dir(g.village)
    data, meta = folder / f"{token}.bin", folder / f"{token}.json"
    if not data.is_file() or not meta.is_file():
        return None
    info = json.loads(meta.read_text(encoding="utf-8"))
    if info.get("user_id") != current_user.id:
        return None
    return data, info


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
    data = upload.stream.read(roster_import.MAX_FILE_BYTES + 1)
    filename = Path(upload.filename or "").name[:100]
    try:
        plan = roster_import.preview(
            db.session, g.village, data, filename=filename, actor=current_user
        )
    except DomainError as exc:
        db.session.rollback()
        _refused(exc)
        return render_template("roster/import.html", village=g.village, form=form), exc.status
    folder = _upload_dir(g.village)
    _sweep(folder)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.bin").write_bytes(data)
    (folder / f"{token}.json").write_text(
        json.dumps({"filename": filename, "user_id": current_user.id}), encoding="utf-8"
    )
    return _preview_page(plan, token)


@bp.post("/v/<code>/roster/import/confirm")
def import_confirm() -> Any:
    """Import the previewed file: every row or nothing."""
    require_permission(Permission.RECORD)
    form = ConfirmForm()
    stored = _stored(form.token.data or "") if form.validate() else None
    if stored is None:
        flash(_("This upload has expired or was already imported; upload the file again."), "error")
        return redirect(url_for("roster.import_upload"))
    path, info = stored
    try:
        plan = roster_import.import_roster(
            db.session,
            current_user,
            g.village,
            path.read_bytes(),
            filename=info.get("filename", ""),
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        _refused(exc)
        plan = roster_import.preview(
            db.session, g.village, path.read_bytes(), filename=info.get("filename", "")
        )
        return _preview_page(plan, form.token.data or "", exc.status)
    path.unlink(missing_ok=True)
    path.with_suffix(".json").unlink(missing_ok=True)
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


@bp.get("/v/<code>/roster/export")
def export() -> Response:
    """Download the roster as an XLSX 花名册 (the same columns the import reads)."""
    require_permission(Permission.RECORD)
    # A GET writes nothing (DESIGN §4.10): the download goes to the log, not the audit table.
    data = roster_import.export_roster(db.session, g.village)
    current_app.logger.info(
        "roster.export village=%s user=%s ip=%s", g.village.code, current_user.id, client_ip()
    )
    name = f"{g.village.name}花名册-{time.strftime('%Y%m%d')}.xlsx"
    response = send_file(
        io.BytesIO(data),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=name,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- command line ----


@bp.cli.command("import-roster")
@click.option("--village", "village_code", required=True, help="Village code, e.g. TY001.")
@click.option("--dry-run", is_flag=True, help="Only show the problems and what would change.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_roster_command(village_code: str, dry_run: bool, file: Path) -> None:
    """Import a 花名册 (XLSX or CSV) into a village's roster; all rows or nothing."""
    village = db.session.scalar(select(Village).where(Village.code == village_code))
    if village is None:
        click.echo(f"No village has the code {village_code}.", err=True)
        sys.exit(2)
    data = file.read_bytes()
    try:
        plan = roster_import.preview(db.session, village, data, filename=file.name)
    except DomainError as exc:
        click.echo(exc.translated(), err=True)
        sys.exit(2)
    for problem in plan.problems:
        where = f"{problem.sheet}!" if problem.sheet else ""
        column = f" [{problem.column}]" if problem.column else ""
        click.echo(f"{where}{problem.line}: {problem.severity}{column} {problem.text()}")
    summary = plan.summary()
    click.echo(
        f"{summary['rows']} rows: {summary['households_created']} households to add, "
        f"{summary['households_updated']} to update, {summary['households_unchanged']} unchanged; "
        f"{summary['members_created']} members to add, {summary['members_updated']} to update; "
        f"{summary['groups_created']} new groups; {summary['errors']} errors, "
        f"{summary['warnings']} warnings."
    )
    db.session.rollback()
    if plan.errors:
        click.echo("Nothing was imported: fix the errors and run again.", err=True)
        sys.exit(2)
    if dry_run:
        click.echo("Dry run: nothing was written.")
        return
    changing = sum(1 for h in plan.households if h.action != "unchanged")
    with click.progressbar(length=len(plan.households), label="Importing") as bar:
        try:
            done = roster_import.import_roster(
                db.session, None, village, data, filename=file.name, progress=bar.update
            )
        except DomainError as exc:
            click.echo(exc.translated(), err=True)
            sys.exit(2)
    if done.changes_anything:
        click.echo(f"Imported: {changing} households added or updated.")
    else:
        click.echo("The roster already matches this file; nothing was changed.")
