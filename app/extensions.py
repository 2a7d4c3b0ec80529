"""Flask extensions, created unbound and attached in the app factory."""

from pathlib import Path

from flask import Flask, g, request
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from credits.db import Base, configure_engine, start_reading, stop_reading

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


def _begin_request() -> None:
    # A GET never writes (DESIGN §4.10): its SQLite transactions begin DEFERRED.
    if request.method in SAFE_METHODS:
        g.reading_token = start_reading()


def _end_request(_exc: BaseException | None) -> None:
    token = g.pop("reading_token", None)
    if token is not None:
        stop_reading(token)


def init_reads(app: Flask) -> None:
    """Mark safe requests as read-only before anything touches the database."""
    app.before_request(_begin_request)
    app.teardown_request(_end_request)
