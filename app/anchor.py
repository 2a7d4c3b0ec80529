"""Wires the ledger's signed checkpoints (credits.ledger.checkpoints) to the app's config."""

from __future__ import annotations

from flask import Flask

from app.extensions import db
from credits.ledger import checkpoints


def init_app(app: Flask) -> None:
    """Configure the checkpoint log and signing key for this app's database.

    CHECKPOINT_DIR None turns checkpoints off (tests that do not ask for them).
    """
    directory = app.config.get("CHECKPOINT_DIR")
    with app.app_context():
        if not directory:
            checkpoints.configure(None, None, bind=db.engine)
            return
        key = checkpoints.load_key(
            app.config["LEDGER_KEY_FILE"], app.config.get("LEDGER_SIGNING_KEY")
        )
        checkpoints.configure(directory, key, bind=db.engine)
