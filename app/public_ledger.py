"""Public ledger pages (no login, read only): signed checkpoints and the wall-code check."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request

from app.extensions import db
from app.web import translate_error
from credits import ledger
from credits.errors import DomainError, NotFound
from credits.ledger import publication

bp = Blueprint("public_ledger", __name__)
SHOWN = 100  # checkpoints listed on the page, newest first


def _ledger(village_code: str, **options: object) -> publication.PublicLedger:
    try:
        return publication.public_ledger(db.session, village_code, **options)  # type: ignore[arg-type]
    except NotFound:
        abort(404)


@bp.get("/p/<village_code>/ledger")
def page(village_code: str) -> str:
    """The village's signed checkpoints, its public key and what they are for."""
    public = _ledger(village_code, limit=SHOWN, newest_first=True)
    return render_template("public_ledger/page.html", public=public, village=public.village)


@bp.get("/p/<village_code>/ledger/checkpoints.json")
def checkpoints_json(village_code: str) -> Response | tuple[Response, int]:
    """The checkpoints as JSON, oldest first, paged by ?after=seq (for witnesses)."""
    try:
        after = publication.parse_after(request.args.get("after"))
    except DomainError as exc:
        return jsonify(error=exc.code, message=translate_error(exc)), exc.status
    public = _ledger(village_code, after=after)
    response = jsonify(
        village=public.village.code,
        public_key=public.public_key,
        head_code=public.head_code,
        checkpoints=public.checkpoints,
        next_after=public.next_after,
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/p/<village_code>/ledger/check")
def check(village_code: str) -> tuple[str, int]:
    """Answer whether the ledger still matches a head code copied from the wall."""
    public = _ledger(village_code, limit=0)
    text = request.args.get("code", "")
    answer, error, status = None, None, 200
    if text.strip():
        try:
            answer = ledger.check_head(db.session, public.village.code, text)
        except DomainError as exc:
            error, status = translate_error(exc), 400
    return render_template(
        "public_ledger/check.html",
        village=public.village,
        public=public,
        code=text[:200],
        answer=answer,
        error=error,
    ), status
