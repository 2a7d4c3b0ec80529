"""Staff login and logout over server-side sessions; the user loader for Flask-Login.

The id Flask-Login keeps in the session cookie and the remember-me cookie is
"<user id>:<session token>"; the loader accepts it only while the session's record
on the server is live, so logout, a password change or reset and disabling the user
end every copy of every cookie.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.extensions import SAFE_METHODS, db, limiter, login_manager
from app.i18n import _safe_next
from app.web import client_ip, home_url, translate_error
from credits import sessions
from credits.db import utcnow
from credits.errors import DomainError
from credits.models import User
from credits.users import login as open_login
from credits.users import record_logout

bp = Blueprint("auth", __name__)

# Pages a user who must change their password may still open.
OPEN_WHILE_MUST_CHANGE = frozenset({"account.password", "auth.logout", "static", "i18n.set_locale"})
SEEN_EVERY = timedelta(minutes=1)


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=50)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Stay logged in on this device"))


def init_app(app: Flask) -> None:
    """Attach Flask-Login and the per-request session checks."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    app.before_request(_session_checks)
    app.after_request(_note_seen)


def _idle() -> timedelta:
    return timedelta(hours=float(current_app.config["SESSION_IDLE_HOURS"]))


def _seen_in_cookie() -> datetime | None:
    raw = session.get("seen")
    try:
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Return the user of a live server-side session named by a cookie's id."""
    uid, _sep, token = (user_id or "").partition(":")
    if not uid.isdigit() or len(uid) > 18 or not token or len(token) > 100:
        return None
    found = sessions.live_user(db.session, int(uid), token, seen=_seen_in_cookie(), idle=_idle())
    if found is None:
        return None
    user, record = found
    user._session_token = token  # type: ignore[attr-defined]
    g.staff_session = record
    return user


def _session_checks() -> Response | None:
    """Move the session's last-seen time on writes; send must-change users to the form."""
    if not current_user.is_authenticated:
        return None
    record = g.get("staff_session")
    if record is not None and request.method not in SAFE_METHODS:
        sessions.touch(db.session, record, ip=client_ip())
    if current_user.must_change_password and request.endpoint not in OPEN_WHILE_MUST_CHANGE:
        flash(_("Choose a new password before you go on."), "warning")
        return redirect(url_for("account.password"))
    return None


def _note_seen(response: Response) -> Response:
    # The signed cookie carries the last request time, so reading keeps a session alive
    # without writing to the database on a GET.
    if current_user.is_authenticated:
        seen = _seen_in_cookie()
        now = utcnow()
        if seen is None or now - seen >= SEEN_EVERY:
            session["seen"] = now.isoformat()
    return response


def _login_key() -> str:
    name = (request.form.get("username") or "").strip().lower()[:50]
    return f"{client_ip()}|{name}"


def _login_failed(response: Response) -> bool:
    return response.status_code == 401


@bp.route("/", methods=["GET"])
def index() -> Response:
    """Send staff to their home, everyone else to the login page."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ACCOUNT"],
    key_func=_login_key,
    methods=["POST"],
    deduct_when=_login_failed,
    scope="login-account",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_login_failed,
    scope="login-address",
)
def login() -> Response | str | tuple[str, int]:
    """Show the login form and log a user in."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user, token = open_login(
                db.session,
                form.username.data or "",
                form.password.data or "",
                ip=client_ip(),
                device=request.headers.get("User-Agent", ""),
                remember=bool(form.remember.data),
            )
        except DomainError as exc:
            flash(translate_error(exc), "error")
            return render_template("auth/login.html", form=form), exc.status
        session.clear()  # a new login starts a new cookie session (no fixation)
        user._session_token = token  # type: ignore[attr-defined]
        login_user(user, remember=bool(form.remember.data))
        session["seen"] = utcnow().isoformat()
        if user.must_change_password:
            return redirect(url_for("account.password"))
        return redirect(
            _safe_next(request.args.get("next")) if request.args.get("next") else home_url(user)
        )
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Log the user out: the session ends on the server, not only in this browser."""
    token = getattr(current_user, "_session_token", None)
    record_logout(db.session, current_user, token=token, ip=client_ip())
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))
