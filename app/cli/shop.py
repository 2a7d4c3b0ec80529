"""The shop's command: `flask --app app shop-report --village CODE --month 2026-11 --out FILE`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.cli.common import fail, refuse, say, village_by_code
from app.extensions import db
from credits.documents.reconciliation import render_reconciliation
from credits.errors import DomainError
from credits.i18n import N_
from credits.shop.reconciliation import parse_month, reconcile, to_csv, to_xlsx


@click.command("shop-report")
@click.option("--village", "code", required=True, help="Village code.")
@click.option("--month", required=True, help="Month, e.g. 2026-11.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file: .xlsx, .csv or .pdf.",
)
@with_appcontext
def shop_report(code: str, month: str, out: Path) -> None:
    """Write a village's monthly shop reconciliation as XLSX, CSV or PDF."""
    village = village_by_code(code)
    suffix = out.suffix.lower()
    if suffix not in (".xlsx", ".csv", ".pdf"):
        refuse(N_("--out must end in .xlsx, .csv or .pdf."))
    try:
        rec = reconcile(db.session, village, parse_month(month))
    except DomainError as exc:
        fail(exc)
    if suffix == ".xlsx":
        out.write_bytes(to_xlsx(rec))
    elif suffix == ".csv":
        out.write_text(to_csv(rec), encoding="utf-8")
    else:
        render_reconciliation(rec, out)
    say(
        N_(
            "%(out)s: %(items)s items, %(redemptions)s redemptions, %(net)s points redeemed "
            "net, %(outstanding)s outstanding, the shelf honours %(shelf)s."
        ),
        out=str(out),
        items=len(rec.rows),
        redemptions=rec.redemptions,
        net=rec.points_net,
        outstanding=rec.points_outstanding,
        shelf=rec.shelf_points,
    )
    if rec.outrun:
        say(N_("Warning: the points outstanding outrun what the shelf can honour."))


COMMANDS = (shop_report,)
