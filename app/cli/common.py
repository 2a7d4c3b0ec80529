"""What every command shares: messages through the catalogue, one village lookup, exits."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from sqlalchemy import select

from app.extensions import db
from credits.errors import DomainError
from credits.i18n import N_, gettext
from credits.models import Village

UNKNOWN_VILLAGE = N_("No village has the code %(code)s.")


def say(msgid: str, *, err: bool = False, **params: object) -> None:
    """Print a message in the operator's language (zh_CN)."""
    click.echo(gettext(msgid, **params), err=err)


def refuse(msgid: str, **params: object) -> NoReturn:
    """Print a refusal on stderr and exit 2 (bad input; nothing was changed)."""
    say(msgid, err=True, **params)
    sys.exit(2)


def fail(exc: DomainError) -> NoReturn:
    """Print a domain refusal on stderr and exit 2."""
    click.echo(exc.translated(), err=True)
    sys.exit(2)


def village_by_code(code: str) -> Village:
    """Return the village with a code, or refuse clearly (exit 2)."""
    village = db.session.scalar(select(Village).where(Village.code == code))
    if village is None:
        refuse(UNKNOWN_VILLAGE, code=code)
    return village
