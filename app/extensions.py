"""Flask extensions, created unbound and attached in the app factory."""

import logging
from pathlib import Path

from flask import Flask, has_request_context, request
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from credits.db import Base, configure_engine, set_reading_probe

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
compress = Compress()  # slow village connections: pages, CSS and JS go compressed
migrate = Migrate()


def _client_address() -> str:
    # ProxyFix (TRUSTED_PROXIES) has already put the real client address here.
    return request.remote_addr or "unknown"


# Memory storage in one process; Redis (REDIS_URL) shares the counts between workers.
limiter = Limiter(_client_address, storage_uri="memory://", headers_enabled=False)


def init_app(app: Flask) -> None:
    """Attach the database and migrations, and give SQLite our engine settings."""
    db.init_app(app)
    init_reads(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    compress.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    limiter.init_app(app)
    with app.app_context():
        configure_engine(db.engine)


def _safe_request() -> bool:
    # A GET never writes (DESIGN §4.10): its transactions begin DEFERRED on SQLite and
    # READ ONLY on PostgreSQL, also while a streamed body is produced after the view.
    return has_request_context() and request.method in SAFE_METHODS


def init_reads(app: Flask) -> None:
    """Mark safe requests as read-only before anything touches the database."""
    set_reading_probe(_safe_request)
    # Downloads (exports) are reads, so they go to this log instead of the audit table.
    if not app.logger.level:
        app.logger.setLevel(logging.INFO)
