"""The clerk's recording page (who, what, details and send), batch awards and withdrawals.

Everything works as plain HTML forms; static/js/record.js turns the page into three steps
without page loads (typeahead search, card scan, submit by fetch) when JavaScript runs.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from app.cards import SCAN_MESSAGES
from app.evidence import photo_store
from app.extensions import db
from app.record_forms import BatchForm, RecordForm, parse_date
from app.scope import owned, require_permission
from app.web import client_ip, translate_error
from credits import cards, queries, search
from credits.access import Permission
from credits.clock import today
from credits.errors import DomainError, ValidationError
from credits.evidence import MAX_BYTES, check_photo_count, store_photo
from credits.i18n import N_
from credits.models import Claim, Evidence, Household
from credits.workflow import (
    BatchRefused,
    ClaimInput,
    record_batch,
    record_claim,
    withdraw_claim,
)

bp = Blueprint("record", __name__)
RECENT = 6
ROSTER_SEARCH_RULE = "/v/<code>/roster/search"


def refusal_text(exc: DomainError) -> str:
    """Translate a refusal; a refused batch names the item and translates its own reason."""
    if isinstance(exc, BatchRefused):
        return _(exc.message, subject=exc.subject, reason=refusal_text(exc.cause))
    return translate_error(exc)


def new_key() -> str:
    """A fresh idempotency key for a form."""
    return uuid.uuid4().hex


def wants_json() -> bool:
    """Tell whether the page's script sent the request (it asks for JSON)."""
    return request.accept_mimetypes.best == "application/json"


def roster_search_url() -> str | None:
    """The roster's as-you-type search (JSON), when the roster is installed."""
    for rule in current_app.url_map.iter_rules():
        if rule.rule == ROSTER_SEARCH_RULE:
            return url_for(rule.endpoint)
    return None


def uploads() -> list[FileStorage]:
    """The photo files of the request (an empty file field sends an empty part)."""
    return [f for f in request.files.getlist("photos") if f and f.filename]


def read_upload(upload: FileStorage) -> bytes:
    """Read at most one byte more than allowed: enough to refuse a file that is too large."""
    return upload.stream.read(MAX_BYTES + 1)


def store_uploads(files: list[FileStorage], key: str | None, stored: list[int]) -> None:
    """Store each photo; `stored` collects the ids even when a later photo is refused."""
    store = photo_store()
    key = key or None
    for upload in files:
        evidence = store_photo(
            db.session,
            g.village.id,
            read_upload(upload),
            store,
            actor=current_user,
            submission_key=key,
            ip=client_ip(),
        )
        stored.append(evidence.id)


def pending_photos(ids: list[int]) -> list[Evidence]:
    """The user's own photos not yet attached, to keep them on a form shown again."""
    photos = []
    for evidence_id in ids:
        evidence = db.session.get(Evidence, evidence_id)
        if (
            evidence is not None
            and evidence.village_id == g.village.id
            and evidence.claim_id is None
            and evidence.uploaded_by_id == current_user.id
        ):
            photos.append(evidence)
    return photos


def household_card(household: Household) -> dict[str, Any]:
    """The household as the page's card shows it (the roster search's JSON shape)."""
    points = search.month_points(db.session, g.village.id, [household.id])
    return search.household_json(household, points.get(household.id, 0))


def _recent() -> list[Claim]:
    return queries.recent_claims(db.session, g.village.id, current_user.id, RECENT)


def _render(form: RecordForm, *, q: str = "", done: Claim | None = None, status: int = 200):
    village = g.village
    chosen = None
    results: list[dict[str, Any]] = []
    if form.household_id:
        household = owned(Household, form.household_id)
        if household.active:
            chosen = household_card(household)
    elif q.strip():
        results = search.search_json(db.session, village.id, q, limit=10)["households"]
        if len(results) == 1:
            chosen, results = results[0], []
    return (
        render_template(
            "record/index.html",
            village=village,
            form=form,
            q=q,
            results=results,
            chosen=chosen,
            schemes=queries.recordable_rules(db.session, village.id),
            photos=pending_photos(form.evidence_ids),
            recent=_recent(),
            done=done,
            today=today(),
            search_url=roster_search_url(),
        ),
        status,
    )


@bp.route("/v/<code>/record", methods=["GET", "POST"])
def index() -> Any:
    """The recording page; a POST records one claim."""
    require_permission(Permission.RECORD)
    if request.method == "POST":
        return _submit()
    done = None
    done_id = request.args.get("done", type=int)
    if done_id:
        claim = owned(Claim, done_id)
        done = claim if claim.recorded_by_id == current_user.id else None
    form = RecordForm(
        key=new_key(),
        household_id=request.args.get("household", type=int),
        rule_id=request.args.get("rule", type=int),
        deed_date=today().isoformat(),
    )
    scanned = request.args.get("u", "").strip()[:300]
    status = 200
    if scanned:
        # A hardware scanner typed a card and pressed Enter on a page without JavaScript.
        result = cards.resolve_in_village(db.session, g.village, scanned)
        if result.household is not None:
            form.household_id = result.household.id
        else:
            status, message = SCAN_MESSAGES[result.status]
            flash(_(message), "error")
    return _render(form, q=request.args.get("q", "")[:50], done=done, status=status)


def _claim_input(form: RecordForm) -> ClaimInput:
    if not form.key:
        raise ValidationError(N_("The form has no valid submission key. Reload the page."))
    if form.household_id is None:
        raise ValidationError(N_("Choose a household first: scan its card or search for it."))
    household = owned(Household, form.household_id)
    if form.rule_id is None:
        raise ValidationError(N_("Choose what the points are for."))
    return ClaimInput(
        household_id=household.id,
        rule_id=form.rule_id,
        deed_date=parse_date(form.deed_date),
        idempotency_key=form.key,
        member_id=form.member_id,
        note=form.note,
    )


def _submit() -> Any:
    form = RecordForm.from_request()
    stored: list[int] = []
    try:
        # Photos first: a form refused for another reason keeps them for the next try.
        files = uploads()
        check_photo_count(len(files) + len(form.evidence_ids))
        store_uploads(files, form.key, stored)
        form.evidence_ids = list(dict.fromkeys(form.evidence_ids + stored))
        data = _claim_input(form)
        claim = record_claim(
            db.session,
            actor=current_user,
            data=replace(data, evidence_ids=tuple(form.evidence_ids)),
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        form.evidence_ids = list(dict.fromkeys(form.evidence_ids + stored))
        message = refusal_text(exc)
        if wants_json():
            return jsonify(error=message), exc.status
        flash(message, "error")
        return _render(form, status=exc.status)
    if wants_json():
        return jsonify(
            ok=True,
            claim=claim.id,
            key=new_key(),
            strip=render_template("record/_strip.html", claim=claim),
            recent=render_template("record/_recent.html", recent=_recent()),
        )
    return redirect(url_for("record.index", done=claim.id), 303)


@bp.post("/v/<code>/record/claims/<int:claim_id>/withdraw")
def withdraw(claim_id: int) -> Any:
    """Withdraw one's own claim while it still waits for review."""
    require_permission(Permission.RECORD)
    claim = owned(Claim, claim_id)
    try:
        withdraw_claim(db.session, actor=current_user, claim_id=claim.id, ip=client_ip())
    except DomainError as exc:
        db.session.rollback()
        if wants_json():
            return jsonify(error=refusal_text(exc)), exc.status
        flash(refusal_text(exc), "error")
        # Answer with the refusal's status (409 when the claim moved on), not a redirect.
        return _render(RecordForm(key=new_key(), deed_date=today().isoformat()), status=exc.status)
    if wants_json():
        return jsonify(
            ok=True,
            strip=render_template("record/_strip.html", claim=claim),
            recent=render_template("record/_recent.html", recent=_recent()),
        )
    flash(_("The claim was withdrawn."), "success")
    return redirect(url_for("record.index", done=claim.id), 303)


# ---- batch award ----


def _render_batch(form: BatchForm, group_id: int | None, status: int = 200) -> Any:
    village = g.village
    ticked = set(form.households) | set(form.members)
    households = queries.batch_households(db.session, village.id, group_id, ticked)
    return (
        render_template(
            "record/batch.html",
            village=village,
            form=form,
            group_id=group_id,
            groups=queries.groups_of(db.session, village.id),
            households=households,
            ticked=ticked,
            schemes=queries.recordable_rules(db.session, village.id),
            photos=pending_photos(form.evidence_ids),
            today=today(),
        ),
        status,
    )


@bp.route("/v/<code>/record/batch", methods=["GET", "POST"])
def batch() -> Any:
    """Batch award: one rule and date for many households or members, sent at once."""
    require_permission(Permission.RECORD)
    group_id = request.values.get("group", type=int)
    if request.method == "GET":
        form = BatchForm(
            key=new_key(), rule_id=request.args.get("rule", type=int), deed_date=today().isoformat()
        )
        return _render_batch(form, group_id)
    form = BatchForm.from_request()
    stored: list[int] = []
    try:
        files = uploads()
        check_photo_count(len(files) + len(form.evidence_ids))
        store_uploads(files, form.key, stored)
        form.evidence_ids = list(dict.fromkeys(form.evidence_ids + stored))
        if form.rule_id is None:
            raise ValidationError(N_("Choose what the points are for."))
        deed_date = parse_date(form.deed_date)
        claims = record_batch(
            db.session,
            actor=current_user,
            rule_id=form.rule_id,
            deed_date=deed_date,
            targets=form.targets(),
            note=form.note,
            idempotency_key=form.key,
            evidence_ids=form.evidence_ids,
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        form.evidence_ids = list(dict.fromkeys(form.evidence_ids + stored))
        flash(refusal_text(exc), "error")
        return _render_batch(form, group_id, status=exc.status)
    households = len({c.household_id for c in claims})
    flash(
        ngettext(
            "Recorded %(claims)s claims for %(num)s household; they now wait for review.",
            "Recorded %(claims)s claims for %(num)s households; they now wait for review.",
            households,
            claims=len(claims),
        ),
        "success",
    )
    return redirect(url_for("record.batch", group=group_id), 303)
