"""Configuration from defaults, the environment and the instance folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask


def _secret_key(instance: Path) -> str:
    """Read the instance's secret key, generating it on first run (never committed)."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Fill app.config: defaults, then environment, then the caller's overrides."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'merit.db'}"
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=database_url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        BASE_URL=os.environ.get("BASE_URL", "http://127.0.0.1:5000"),
        UPLOAD_DIR=os.environ.get("UPLOAD_DIR", str(instance / "uploads")),
        BABEL_DEFAULT_LOCALE="zh_CN",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(app.root_path).parent / "translations"),
        LANGUAGES=("zh_CN", "en"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        PAGE_SIZE=30,
    )
    if overrides is None or "SECRET_KEY" not in overrides:
        app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or _secret_key(instance)
    if overrides:
        app.config.update(overrides)
