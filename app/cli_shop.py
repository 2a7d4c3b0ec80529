"""The shop's CLI: `flask --app app shop-report --village CODE --month 2026-11 --out FILE`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from app.extensions import db
from credits.documents.reconciliation import render_reconciliation
from credits.errors import DomainError
from credits.notice import public_village
from credits.shop.reconciliation import parse_month, reconcile, to_csv, to_xlsx


@click.command("shop-report")
@with_appcontext
@click.option("--village", "code", required=True, help="Village code.")
@click.option("--month", required=True, help="Month, e.g. 2026-11.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file: .xlsx, .csv or .pdf.",
)
def shop_report(code: str, month: str, out: Path) -> None:
    """Write a village's monthly shop reconciliation as XLSX, CSV or PDF."""
    village = public_village(db.session, code)
    if village is None:
        click.echo(f"No village has the code {code}.", err=True)
        sys.exit(2)
    try:
        rec = reconcile(db.session, village, parse_month(month))
    except DomainError as exc:
        click.echo(exc.translated(), err=True)
        sys.exit(2)
    suffix = out.suffix.lower()
    if suffix == ".xlsx":
        out.write_bytes(to_xlsx(rec))
    elif suffix == ".csv":
        out.write_text(to_csv(rec), encoding="utf-8")
    elif suffix == ".pdf":
        render_reconciliation(rec, out)
    else:
        click.echo("--out must end in .xlsx, .csv or .pdf", err=True)
        sys.exit(2)
    warn = "  WARNING: points outrun the shelf" if rec.outrun else ""
    click.echo(
        f"{out}: {len(rec.rows)} items, {rec.redemptions} redemptions, "
        f"{rec.points_net} points redeemed net, {rec.points_outstanding} outstanding, "
        f"shelf honours {rec.shelf_points}.{warn}"
    )


def init_app(app: Flask) -> None:
    """Register the shop's commands."""
    app.cli.add_command(shop_report)
