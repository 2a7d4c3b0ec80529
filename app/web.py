"""Small helpers every view shares: the client's address, error text, home links."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from credits.errors import DomainError
from credits.models import User


def client_ip() -> str:
    """Return the client's address (the proxy sets X-Forwarded-For when ProxyFix is on)."""
    return (request.remote_addr or "")[:45]


def translate_error(exc: DomainError) -> str:
    """Translate a domain error's message in the current locale."""
    locale = get_locale()
    return exc.translated("en" if locale is not None and locale.language == "en" else "zh_CN")


def home_url(user: User) -> str:
    """Return where a user lands after login."""
    if user.village is not None:
        return url_for("village.home", code=user.village.code)
    return url_for("village.index")


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})


def print_address() -> tuple[str, str | None]:
    """The address QR codes on paper will carry, and a warning when phones cannot open it."""
    base = str(current_app.config.get("BASE_URL") or "")
    host = (urlsplit(base).hostname or "").lower()
    here = (urlsplit(request.host_url).hostname or "").lower()
    if host in LOOPBACK:
        return base, _(
            "BASE_URL is %(url)s, an address of this computer only: phones scanning the "
            "printed codes will open nothing. Set BASE_URL to the address the village uses.",
            url=base,
        )
    if host != here:
        return base, _(
            "The printed codes will point to %(url)s, but this page was opened at %(here)s. "
            "Check that phones in the village can open %(url)s before printing.",
            url=base,
            here=request.host_url.rstrip("/"),
        )
    return base, None
