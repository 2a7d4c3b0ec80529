"""Small helpers every view shares: the client's address, error text, home links."""

from __future__ import annotations

from flask import request, url_for
from flask_babel import get_locale

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
