"""A household's ledger entries, and the correction page that proposes a 更正 claim."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from app.extensions import db
from app.scope import owned, require_permission
from app.web import client_ip, translate_error
from credits import entries, queries
from credits.access import Permission
from credits.errors import AlreadyReversed, DomainError
from credits.models import Household, LedgerEntry
from credits.workflow import correction_target, pending_corrections, propose_correction
from credits.workflow.corrections import may_propose

bp = Blueprint("ledger", __name__)

MAX_REASON = 500


class CorrectionForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is this entry wrong?"),
        validators=[
            DataRequired(_l("A reason is required to reverse an entry.")),
            Length(max=MAX_REASON, message=_l("The reason is too long.")),
        ],
    )


def _recused(household: Household) -> bool:
    return current_user.household_id is not None and current_user.household_id == household.id


@bp.get("/v/<code>/households/<int:household_id>/entries")
def household_entries(household_id: int) -> tuple[str, int]:
    """List a household's ledger entries, newest first, reversals and corrections shown."""
    require_permission(Permission.VIEW)
    household = owned(Household, household_id)
    scheme_id = request.args.get("scheme", type=int)
    totals = queries.household_totals(db.session, household)
    if scheme_id not in {t.scheme.id for t in totals}:
        scheme_id = None
    page = entries.household_entries(
        db.session,
        g.village.id,
        household.id,
        scheme_id=scheme_id,
        page=request.args.get("page", 1, type=int),
        per_page=20,
    )
    pending = pending_corrections(db.session, g.village.id, [r.entry.id for r in page.items])
    return render_template(
        "ledger/entries.html",
        village=g.village,
        household=household,
        totals=totals,
        scheme_id=scheme_id,
        page=page,
        pending=pending,
        can_correct=may_propose(current_user),
        recused=_recused(household),
    ), 200


def _render_correction(entry_id: int, form: CorrectionForm, status: int = 200) -> tuple[str, int]:
    target = correction_target(db.session, g.village.id, entry_id)
    household = owned(Household, target.entry.household_id)
    return render_template(
        "ledger/correct.html",
        village=g.village,
        household=household,
        target=target,
        form=form,
        can_correct=may_propose(current_user),
        recused=_recused(household),
    ), status


@bp.get("/v/<code>/entries/<int:entry_id>/correct")
def correct(entry_id: int) -> tuple[str, int]:
    """The correction page of one entry: what it is, what corrects it, the reason form."""
    require_permission(Permission.VIEW)
    entry = owned(LedgerEntry, entry_id)
    return _render_correction(entry.id, CorrectionForm(formdata=None))


@bp.post("/v/<code>/entries/<int:entry_id>/correct")
def propose(entry_id: int) -> Response | tuple[str, int]:
    """Propose a correction of a posted entry: a second person decides, the village sees it."""
    entry = owned(LedgerEntry, entry_id)
    form = CorrectionForm()
    back = url_for("ledger.household_entries", household_id=entry.household_id)
    if not form.validate():
        flash(str(next(iter(form.reason.errors), _("The input is not valid."))), "error")
        return _render_correction(entry.id, form, 400)
    try:
        propose_correction(
            db.session,
            actor=current_user,
            entry_id=entry.id,
            reason=form.reason.data or "",
            ip=client_ip(),
        )
    except AlreadyReversed as exc:
        # A double tap, or someone proposed it first: nothing more to do.
        db.session.rollback()
        flash(translate_error(exc), "info")
        return redirect(back)
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "error")
        return _render_correction(entry.id, form, exc.status)
    flash(
        _(
            "The correction was proposed. Another reviewer decides it; it then goes on "
            "public notice and counts when the notice ends."
        ),
        "success",
    )
    return redirect(back)
