"""Security headers on every response, and static files that can be cached for a year.

One place sets them (DESIGN §4.6): a Content-Security-Policy without 'unsafe-inline'
(pages carry no inline script or style; a test reads every template for that), no
framing, no MIME sniffing, the referrer kept to this site (none at all from a card's
passbook, whose URL is the household's key), and HSTS when served over HTTPS.

Static URLs carry a digest of the file's content (`/static/css/app.css?v=3f9a1c2b`), so a
tablet on a slow link keeps every file for a year and fetches it again only when it
changes; an URL without the digest is revalidated each time.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# An SVG drawn by the app (charts) styles itself inline and runs no script.
SVG_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'"
)
YEAR = 365 * 24 * 3600
CARD_PREFIXES = ("/c/",)


@cache
def _digest(path: str, mtime_ns: int) -> str:
    del mtime_ns  # part of the cache key: a changed file gets a new digest
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def static_version(filename: str) -> str | None:
    """Return the content digest of a static file, or None when there is no such file."""
    folder = current_app.static_folder
    if not folder:
        return None
    path = (Path(folder) / filename).resolve()
    if not path.is_file() or Path(folder).resolve() not in path.parents:
        return None
    return _digest(str(path), path.stat().st_mtime_ns)


def _version_static(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = static_version(str(values["filename"]))
        if version:
            values["v"] = version


def _headers(response: Response) -> Response:
    headers = response.headers
    svg = response.mimetype == "image/svg+xml"
    headers.setdefault("Content-Security-Policy", SVG_CSP if svg else CSP)
    headers.setdefault("X-Frame-Options", "SAMEORIGIN" if svg else "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    card_page = request.path.startswith(CARD_PREFIXES)
    headers.setdefault("Referrer-Policy", "no-referrer" if card_page else "same-origin")
    if request.is_secure or current_app.config.get("PREFERRED_URL_SCHEME") == "https":
        headers.setdefault("Strict-Transport-Security", f"max-age={YEAR}")
    if request.endpoint == "static":
        if request.args.get("v"):
            headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        else:
            headers["Cache-Control"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    """Version static URLs and put the security headers on every response."""
    app.url_defaults(_version_static)
    app.after_request(_headers)
