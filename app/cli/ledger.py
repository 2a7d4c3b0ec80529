"""The ledger: posting due claims, verifying, rebuilding totals, witnessing checkpoints."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.common import fail, refuse, say, village_by_code
from app.extensions import db
from credits import ledger, workflow
from credits.errors import DomainError
from credits.i18n import N_, gettext
from credits.ledger.witness import witness as pull_witness
from credits.oversight import aggregates

KINDS = {
    "chain": N_("chain"),
    "head": N_("chain head"),
    "reference": N_("rows behind an entry"),
    "checkpoint": N_("signed checkpoints"),
    "balance": N_("balance"),
    "period": N_("period totals"),
}


@click.command("post-due")
@click.option("--village", "village_code", default=None)
@with_appcontext
def post_due(village_code: str | None) -> None:
    """Post every claim whose notice has ended (safe to run from cron)."""
    village_id = village_by_code(village_code).id if village_code else None
    count = workflow.post_due(db.session, village_id=village_id)
    say(N_("%(count)s claims posted."), count=count)


@click.command("verify-ledger")
@click.option("--village", "village_code", default=None)
@click.option(
    "--head", "head", default=None, help="A head code printed on paper, e.g. '#1234 3F9A-…'."
)
@with_appcontext
def verify_ledger(village_code: str | None, head: str | None) -> None:
    """Check chains, the rows behind entries, checkpoints and balances; exit 1 if broken.

    With --head, also say whether the ledger still matches a printed head code.
    """
    if head is not None and not village_code:
        refuse(N_("--head needs --village: a head code belongs to one village."))
    try:
        report = ledger.verify(db.session, village_code)
        checked = ledger.check_head(db.session, village_code, head) if head else None
    except DomainError as exc:
        fail(exc)
    for problem in report.problems:
        kind = gettext(KINDS.get(problem.kind, problem.kind))
        click.echo(f"[{problem.village_code}] {kind}: {problem.text()}")
    say(
        N_(
            "%(villages)s villages, %(entries)s entries, %(accounts)s accounts, "
            "%(checkpoints)s checkpoints checked; %(problems)s problems."
        ),
        villages=report.villages,
        entries=report.entries,
        accounts=report.accounts,
        checkpoints=report.checkpoints,
        problems=len(report.problems),
    )
    if checked is not None:
        if checked.matches:
            say(N_("The ledger matches the printed code %(code)s."), code=checked.printed)
        else:
            say(
                N_("The ledger does NOT match the printed code %(code)s: %(reason)s"),
                code=checked.printed,
                reason=gettext(checked.reason),
            )
        say(N_("The ledger's head code now: %(code)s"), code=checked.current)
    sys.exit(0 if report.ok and (checked is None or checked.matches) else 1)


@click.command("rebuild-balances")
@click.option("--village", "village_code", default=None)
@click.option("--force", is_flag=True, help="Rebuild even though the chain fails verification.")
@with_appcontext
def rebuild_balances(village_code: str | None, force: bool) -> None:
    """Recompute balances and period totals from the ledger entries."""
    if village_code:
        village_by_code(village_code)
    try:
        changed = ledger.rebuild_balances(db.session, village_code, force=force)
    except DomainError as exc:
        fail(exc)
    say(N_("%(count)s rows corrected."), count=changed)


@click.command("witness")
@click.option("--url", required=True, help="http://host/p/CODE/ledger/checkpoints.json")
@click.option(
    "--store",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the copies (default: instance/witness).",
)
@click.option("--timeout", type=float, default=10.0, show_default=True)
@with_appcontext
def witness(url: str, store: Path | None, timeout: float) -> None:
    """Keep a copy of another installation's checkpoints; exit 1 when its history forked."""
    folder = store or Path(current_app.instance_path) / "witness"
    try:
        result = pull_witness(url, folder, timeout=timeout)
    except DomainError as exc:
        fail(exc)
    for finding in result.findings:
        click.echo(finding.text(), err=True)
    say(
        N_(
            "%(village)s: %(published)s checkpoints published, up to seq %(last)s; "
            "%(new)s new sequence numbers; copy in %(store)s."
        ),
        village=result.village,
        published=result.published,
        last=result.last_seq,
        new=result.new,
        store=str(result.store),
    )
    if result.fork:
        say(N_("The history of this ledger FORKED: it was rewritten."), err=True)
        sys.exit(1)


@click.command("rebuild-stats")
@with_appcontext
def rebuild_stats() -> None:
    """Recompute the township aggregates from the ledger (after a restore, say)."""
    with db.session.begin():
        count = aggregates.rebuild(db.session.connection())
    say(N_("Township aggregates rebuilt from %(n)s ledger entries."), n=count)


COMMANDS = (post_due, verify_ledger, rebuild_balances, witness, rebuild_stats)
