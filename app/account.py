"""A staff user's own account: change the password, see and end open sessions."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from app.extensions import db
from app.web import client_ip, home_url, translate_error
from credits import sessions, staff
from credits.errors import DomainError, NotFound
from credits.i18n import N_

bp = Blueprint("account", __name__)


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=200)],
        description=_l(
            "At least 10 characters; not a common password. A short sentence you can "
            "remember works well."
        ),
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(),
            EqualTo("new", message=_l("The two new passwords are not the same.")),
        ],
    )


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> Response | str | tuple[str, int]:
    """Change one's own password; every other device is logged out."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            token = staff.change_own_password(
                db.session,
                user=current_user,
                current=form.current.data or "",
                new=form.new.data or "",
                ip=client_ip(),
                device=request.headers.get("User-Agent", ""),
            )
        except DomainError as exc:
            flash(translate_error(exc), "error")
            return render_template("account/password.html", form=form), exc.status
        current_user._session_token = token
        login_user(current_user._get_current_object())
        flash(_("Your password is changed. Other devices have been logged out."), "success")
        return redirect(home_url(current_user))
    status = 400 if form.is_submitted() else 200
    return render_template("account/password.html", form=form), status


@bp.get("/account/sessions")
@login_required
def sessions_page() -> str:
    """List the user's open sessions: device, address, last seen."""
    token = getattr(current_user, "_session_token", None)
    rows = [
        (record, sessions.is_current(record, token))
        for record in sessions.open_sessions(db.session, current_user)
    ]
    return render_template("account/sessions.html", rows=rows)


@bp.post("/account/sessions/end")
@login_required
def end_session() -> Response:
    """End one of the user's sessions (a lost or shared tablet)."""
    raw = str(request.form.get("session", ""))
    try:
        if not raw.isdigit() or len(raw) > 18:
            raise NotFound(N_("No such session."))
        sessions.end_own_session(db.session, current_user, int(raw), ip=client_ip())
    except DomainError as exc:
        flash(translate_error(exc), "error")
        return redirect(url_for("account.sessions_page"))
    flash(_("That session has ended; the device must log in again."), "success")
    return redirect(url_for("account.sessions_page"))


_SYSTEMS = (
    ("iPad", "iPad"),
    ("iPhone", "iPhone"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
_BROWSERS = (
    ("MicroMessenger", "微信"),
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)


@bp.app_template_filter("device_label")
def device_label(user_agent: str) -> str:
    """Name a device from its User-Agent in a few words (e.g. "Android · Chrome")."""
    agent = user_agent or ""
    system = next((name for key, name in _SYSTEMS if key in agent), "")
    browser = next((name for key, name in _BROWSERS if key in agent), "")
    return " · ".join(part for part in (system, browser) if part) or _("Unknown device")
