"""Security headers on every response of the URL map; no inline script or style anywhere;
static files cached for a year under content-hashed URLs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import login
from flask import url_for
from werkzeug.routing import IntegerConverter

from app.security import CSP

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _urls(app) -> list[str]:
    """One URL for every GET rule: ids filled with 1, village codes with VA, text with x."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        values = {}
        for arg, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                values[arg] = 1
            elif arg in ("code", "village_code"):
                values[arg] = "VA"
            elif getattr(converter, "items", None):  # <any(csv, xlsx):fmt>
                values[arg] = sorted(converter.items)[0]
            else:
                values[arg] = "x"
        with app.test_request_context():
            urls.append(url_for(rule.endpoint, **values))
    return sorted(set(urls))


def _check(response, url):
    headers = response.headers
    assert headers.get("X-Content-Type-Options") == "nosniff", url
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors" in csp and "'unsafe-inline'" not in csp.split("style-src")[0], url
    if response.mimetype != "image/svg+xml":
        assert csp == CSP, url
        assert headers.get("X-Frame-Options") == "DENY", url
    expected = "no-referrer" if url.startswith("/c/") else "same-origin"
    assert headers.get("Referrer-Policy") == expected, url


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_every_response_carries_the_security_headers(app, client, web_world, who):
    if who == "admin":
        login(client, web_world.users["admin"])
    urls = _urls(app)
    assert len(urls) > 30
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        _check(response, url)


def test_hsts_only_over_https(app, client, web_world):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> block"),
    (re.compile(r"\sstyle=\"", re.I), "a style= attribute"),
    (re.compile(r"\son[a-z]+=\"", re.I), "an inline event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_templates_carry_no_inline_script_or_style(template):
    text = template.read_text(encoding="utf-8")
    for pattern, what in INLINE:
        found = pattern.search(text)
        assert found is None, f"{template.relative_to(TEMPLATES)} has {what}: {found.group(0)}"


def test_static_urls_carry_a_content_digest_and_are_cached_for_a_year(app, client):
    page = client.get("/login").get_data(as_text=True)
    css = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', page)
    assert css, page
    cached = client.get(css.group(1))
    assert cached.status_code == 200
    assert cached.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = client.get("/static/css/app.css")
    assert plain.headers["Cache-Control"] == "no-cache"
    assert client.get("/static/../app/__init__.py").status_code == 404
