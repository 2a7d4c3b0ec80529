"""Error pages, and domain refusals turned into a message and a 4xx status."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.web import translate_error
from credits.errors import DomainError
from credits.models.ledger import LedgerImmutable

PAGES = {400, 403, 404, 429, 500}


def _page(status: int, message: str | None = None) -> tuple[str, int]:
    template = f"errors/{status if status in PAGES else 400}.html"
    return render_template(template, message=message), status


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Any:
        db.session.rollback()
        if request.path.endswith(".json"):
            return jsonify(error=exc.code, message=translate_error(exc)), exc.status
        return _page(exc.status, translate_error(exc))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[str, int]:
        return _page(
            400, _("The form has expired or was already sent. Reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        return _page(exc.code or 500)

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def out_of_range(_exc: Exception) -> tuple[str, int]:
        # The gate in app/inputs.py refuses most of this first; this is the net under it.
        db.session.rollback()
        return _page(400, _("A number or date in the request is out of range."))

    @app.errorhandler(LedgerImmutable)
    @app.errorhandler(500)
    def server_error(_exc: Exception) -> tuple[str, int]:
        db.session.rollback()
        return _page(500)
