"""What the township, integrity and proposal pages share: the period and file downloads."""

from __future__ import annotations

from flask import Response, request

from credits.clock import current_period
from credits.oversight.periods import Period, keys_of_month, parse_period


def period_arg() -> Period:
    """The `?period=` of the request, this month by default (ValidationError if bad)."""
    raw = request.args.get("period", "")
    return parse_period(raw[:10] if raw else keys_of_month(current_period())[0])


def period_choices(period: Period) -> list[tuple[str, str]]:
    """This month, quarter and year of the period, and the month before: quick links."""
    month, quarter, year, _ = keys_of_month(period.last)
    previous = period.first - 1 if period.first % 100 > 1 else period.first - 89
    return [(k, k) for k in (keys_of_month(previous)[0], month, quarter, year)]


def download(data: bytes | str, filename: str, mimetype: str) -> Response:
    """A file the browser saves, never cached (it holds figures of named people)."""
    body = data.encode("utf-8") if isinstance(data, str) else data
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
