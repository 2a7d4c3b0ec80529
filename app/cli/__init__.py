"""Operator commands: `flask --app app <command>` (kebab-case), one module per area.

setup (schema, demo, presets) · villages (villages, users) · ledger (posting, verify,
rebuild, witness) · printing (cards, passbooks, notice sheets) · roster (import) ·
users (list, reset, disable) · backup (backup, restore).
"""

from __future__ import annotations

from flask import Flask

from app.cli import backup, boards, ledger, printing, roster, setup, shop, users, villages

COMMANDS = (
    *setup.COMMANDS,
    *villages.COMMANDS,
    *ledger.COMMANDS,
    *printing.COMMANDS,
    *roster.COMMANDS,
    *users.COMMANDS,
    *backup.COMMANDS,
    *shop.COMMANDS,
    *boards.COMMANDS,
)


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in COMMANDS:
        app.cli.add_command(command)
