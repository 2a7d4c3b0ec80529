"""Flask extensions, created unbound and attached in the app factory."""

from pathlib import Path

from flask import Flask
from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from credits.db import Base, configure_engine

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
compress = Compress()  # slow village connections: pages, CSS and JS go compressed
migrate = Migrate()


def init_app(app: Flask) -> None:
    """Attach the database and migrations, and give SQLite our engine settings."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    compress.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
