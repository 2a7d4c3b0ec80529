"""One gate for input from the web: every query parameter, form field and URL id passes here.

- Text: NUL and other control characters (tab and line breaks aside) are refused with a
  clear message before any view runs, and so is a value longer than any field allows.
- Whole numbers: `request.args.get(name, type=int)` (and the same on forms) gives the
  default for anything that is not a plain number within the database's integer range,
  so `?page=10**23` or `?group=-999999999999` is simply ignored; `<int:...>` in a URL
  accepts only numbers in that range (anything larger is a 404, like an unknown id).
- What slips through (a date beyond the calendar, a number the database refuses) is
  answered with 400 and a message, and the transaction rolled back — never a 500.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Request, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

from credits.errors import ValidationError
from credits.i18n import N_

INT_MAX = 2**31 - 1  # PostgreSQL's integer; ids and counts fit in it
MAX_VALUE = 20_000  # characters in one field (the longest text a form takes is far less)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INTEGER = re.compile(r"^[+-]?[0-9]{1,10}$")


def parse_int(raw: Any, default: Any = None) -> Any:
    """Return `raw` as an int within the database's range, or `default`."""
    text = str(raw).strip()
    if not _INTEGER.match(text):
        return default
    value = int(text)
    return value if -INT_MAX <= value <= INT_MAX else default


class SafeMultiDict(ImmutableMultiDict):  # type: ignore[type-arg]
    """Request args and form whose `get(..., type=int)` stays within the integer range."""

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # noqa: A002
        if type is int:
            raw = super().get(key)
            return default if raw is None else parse_int(raw, default)
        return super().get(key, default, type)


class SafeRequest(Request):
    parameter_storage_class = SafeMultiDict


class BoundedInt(IntegerConverter):
    """`<int:id>` that matches only numbers the database can hold (else: 404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


def bad_text(value: str) -> bool:
    """Tell whether a submitted value carries control characters or is absurdly long."""
    return len(value) > MAX_VALUE or _CONTROL.search(value) is not None


def _check_request() -> None:
    for source in (request.args, request.form):
        for values in source.listvalues():
            for value in values:
                if bad_text(value):
                    raise ValidationError(
                        N_(
                            "The input holds invisible control characters or is far too long. "
                            "Remove them and try again."
                        )
                    )


def init_app(app: Flask) -> None:
    """Install the bounded parameters and converter, and check every request first."""
    app.request_class = SafeRequest
    app.url_map.converters["int"] = BoundedInt
    app.before_request(_check_request)
