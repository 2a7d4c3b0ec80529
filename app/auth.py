"""Staff login and logout; the user loader for Flask-Login."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.extensions import db, login_manager
from app.i18n import _safe_next
from app.web import client_ip, home_url, translate_error
from credits.errors import DomainError
from credits.models import User
from credits.users import authenticate, record_logout

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=50)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Stay logged in on this device"))


def init_app(app: Flask) -> None:
    """Attach Flask-Login."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


@bp.route("/", methods=["GET"])
def index() -> Response:
    """Send staff to their home, everyone else to the login page."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """Show the login form and log a user in."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(
                db.session, form.username.data or "", form.password.data or "", ip=client_ip()
            )
        except DomainError as exc:
            flash(translate_error(exc), "error")
            return render_template("auth/login.html", form=form), exc.status
        login_user(user, remember=bool(form.remember.data))
        return redirect(
            _safe_next(request.args.get("next")) if request.args.get("next") else home_url(user)
        )
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Log the user out."""
    record_logout(db.session, current_user, ip=client_ip())
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))
