"""The Flask web layer: a thin shell over the `credits` domain."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import (
    account,
    admin,
    anchor,
    auth,
    boards,
    cards,
    cli,
    config,
    errors,
    evidence,
    extensions,
    i18n,
    inputs,
    integrity,
    ledger,
    notice,
    passbook,
    proposals,
    public_ledger,
    record,
    region,
    review,
    roster,
    rules,
    scope,
    security,
    shop,
    templating,
    users,
    village,
)

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = (
    auth,
    account,
    users,
    i18n,
    village,
    rules,
    admin,
    notice,
    ledger,
    roster,
    record,
    review,
    evidence,
    cards,
    passbook,
    public_ledger,
    shop,
    boards,
    region,
    integrity,
    proposals,
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, CLI, error handlers."""
    instance = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=str(instance or ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    config.load(app, test_config)
    inputs.init_app(app)

    _trust_proxies(app)
    extensions.init_app(app)
    anchor.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    scope.init_app(app)
    templating.init_app(app)
    security.init_app(app)
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    cli.init_app(app)
    errors.init_app(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For/-Proto from exactly the configured number of proxies."""
    count = int(app.config.get("TRUSTED_PROXIES") or 0)
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
