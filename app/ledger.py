"""A household's ledger entries, and corrections (reversals) by a reviewer."""

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
from credits.access import Permission, has_permission
from credits.errors import AlreadyReversed, DomainError
from credits.ledger import reverse_entry
from credits.models import Household, LedgerEntry

bp = Blueprint("ledger", __name__)

MAX_REASON = 500


class ReverseForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is this entry wrong?"),
        validators=[
            DataRequired(_l("A reason is required to reverse an entry.")),
            Length(max=MAX_REASON, message=_l("The reason is too long.")),
        ],
    )


def _render_entries(
    household: Household,
    status: int = 200,
    failed: int | None = None,
    form: ReverseForm | None = None,
) -> tuple[str, int]:
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
    recused = current_user.household_id is not None and current_user.household_id == household.id
    return render_template(
        "ledger/entries.html",
        village=g.village,
        household=household,
        totals=totals,
        scheme_id=scheme_id,
        page=page,
        can_reverse=has_permission(current_user, Permission.REVIEW),
        recused=recused,
        failed=failed,
        failed_form=form,
    ), status


@bp.get("/v/<code>/households/<int:household_id>/entries")
def household_entries(household_id: int) -> tuple[str, int]:
    """List a household's ledger entries, newest first, reversals shown as such."""
    require_permission(Permission.VIEW)
    return _render_entries(owned(Household, household_id))


@bp.post("/v/<code>/entries/<int:entry_id>/reverse")
def reverse(entry_id: int) -> Response | tuple[str, int]:
    """Reverse a posted entry with a reason (a new entry; the old one stays)."""
    entry = owned(LedgerEntry, entry_id)
    household = owned(Household, entry.household_id)
    form = ReverseForm()
    back = url_for("ledger.household_entries", household_id=household.id)
    if not form.validate():
        flash(str(next(iter(form.reason.errors), _("The input is not valid."))), "error")
        return _render_entries(household, 400, entry.id, form)
    try:
        reverse_entry(
            db.session,
            actor=current_user,
            entry_id=entry.id,
            reason=form.reason.data or "",
            ip=client_ip(),
        )
    except AlreadyReversed:
        # A double tap: the first request did it.
        db.session.rollback()
        flash(_("This entry has already been reversed."), "info")
        return redirect(back)
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "error")
        return _render_entries(household, exc.status, entry.id, form)
    flash(_("The entry was reversed. Both entries stay in the ledger."), "success")
    return redirect(back)
