"""Configuration from defaults, the environment and the instance folder."""

from __future__ import annotations

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask


def _secret_key(instance: Path) -> str:
    """Read the instance's secret key, generating it on first run (never committed).

    The key is written to a private temporary file and linked into place, so it is
    never readable by others, and workers starting together all end up with the
    one key that won (a link cannot replace an existing file).
    """
    path = instance / "secret_key"
    if not path.exists():
        tmp = instance / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
            with contextlib.suppress(FileExistsError):  # another worker was first
                os.link(tmp, path)
        finally:
            tmp.unlink()
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty; delete it to generate a new secret key")
    return key


def _trusted_proxies(value: str | None) -> int:
    """Read TRUSTED_PROXIES: how many reverse proxies stand in front of the app."""
    try:
        count = int((value or "0").strip())
    except ValueError:
        count = -1
    if count < 0:
        raise RuntimeError(f"TRUSTED_PROXIES must be a number of proxies, 0 or more: {value!r}")
    return count


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
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_DURATION=timedelta(days=int(os.environ.get("REMEMBER_DAYS", "30"))),
        # A staff session ends after this long without a request (a lost tablet).
        SESSION_IDLE_HOURS=float(os.environ.get("SESSION_IDLE_HOURS", "12")),
        PREFERRED_URL_SCHEME=os.environ.get("PREFERRED_URL_SCHEME", "http"),
        REDIS_URL=os.environ.get("REDIS_URL", ""),
        # Failed logins allowed before the address waits (per account, and in all).
        LOGIN_FAILURES_PER_ACCOUNT=os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "5 per 15 minutes"),
        # Unknown card tokens from one address (someone guessing), and objections sent.
        CARD_FAILURES_PER_ADDRESS=os.environ.get("CARD_FAILURES_PER_ADDRESS", "30 per 10 minutes"),
        OBJECTIONS_PER_ADDRESS=os.environ.get("OBJECTIONS_PER_ADDRESS", "20 per hour"),
        LOGIN_FAILURES_PER_ADDRESS=os.environ.get(
            "LOGIN_FAILURES_PER_ADDRESS", "10 per 15 minutes"
        ),
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        PAGE_SIZE=30,
        # Behind nginx set 1: the client address then comes from X-Forwarded-For.
        TRUSTED_PROXIES=_trusted_proxies(os.environ.get("TRUSTED_PROXIES")),
        # Signed ledger checkpoints live outside the database (docs/DEPLOYMENT.md).
        CHECKPOINT_DIR=os.environ.get("CHECKPOINT_DIR", str(instance / "checkpoints")),
        LEDGER_KEY_FILE=os.environ.get("LEDGER_KEY_FILE", str(instance / "ledger_signing_key")),
        LEDGER_SIGNING_KEY=os.environ.get("LEDGER_SIGNING_KEY") or None,
    )
    if overrides is None or "SECRET_KEY" not in overrides:
        app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or _secret_key(instance)
    if overrides:
        app.config.update(overrides)
    secure = app.config["PREFERRED_URL_SCHEME"] == "https"
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if not (overrides and key in overrides):
            app.config[key] = secure
    if app.config.get("TESTING") and "CHECKPOINT_DIR" not in (overrides or {}):
        app.config["CHECKPOINT_DIR"] = None  # tests opt in with a folder of their own
