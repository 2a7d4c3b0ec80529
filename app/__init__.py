"""The Flask web layer: a thin shell over the `credits` domain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from app import (
    admin,
    auth,
    cards,
    cli,
    config,
    errors,
    evidence,
    extensions,
    i18n,
    integrity,
    ledger,
    notice,
    passbook,
    proposals,
    record,
    region,
    review,
    roster,
    rules,
    scope,
    templating,
    village,
)

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = (
    auth,
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
    region,
    integrity,
    proposals,
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, CLI, error handlers."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    config.load(app, test_config)
    extensions.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    scope.init_app(app)
    templating.init_app(app)
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    cli.init_app(app)
    errors.init_app(app)
    return app
