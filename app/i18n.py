"""Language choice: Chinese by default, English on request, remembered in a cookie."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, redirect, request
from werkzeug.wrappers import Response

from app.extensions import babel

bp = Blueprint("i18n", __name__)
COOKIE = "lang"


def select_locale() -> str:
    """Pick the locale from the cookie, else the default (zh_CN)."""
    chosen = request.cookies.get(COOKIE)
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    """Attach Flask-Babel with our locale selector."""
    babel.init_app(app, locale_selector=select_locale)


def _safe_next(target: str | None) -> str:
    """Allow only local paths as a redirect target.

    Browsers read a backslash as a slash and drop tabs and newlines inside a URL, so
    such targets could leave the site; they fall back to the start page, as do
    "//host" and "https://host".
    """
    if (
        not target
        or not target.startswith("/")
        or "\\" in target
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in target)
    ):
        return "/"
    parts = urlsplit(target)
    if target.startswith("//") or parts.scheme or parts.netloc:
        return "/"
    return target


@bp.get("/lang/<lang>")
def set_locale(lang: str) -> Response:
    """Switch the language and go back where the user was."""
    response = redirect(_safe_next(request.args.get("next")))
    if lang in current_app.config["LANGUAGES"]:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response
