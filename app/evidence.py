"""Evidence photos for staff of their village only (the `<code>` scope sees to that)."""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, send_file
from flask_login import current_user
from werkzeug.wrappers import Response

from app.scope import owned
from credits.evidence import LocalPhotoStore, PhotoStore
from credits.models import Evidence

bp = Blueprint("evidence", __name__)


def photo_store() -> PhotoStore:
    """The app's photo store: a folder under UPLOAD_DIR (an object store could replace it)."""
    return LocalPhotoStore(current_app.config["UPLOAD_DIR"])


def _send(evidence: Evidence, key: str) -> Response:
    # A photo not yet attached to a claim is its uploader's alone.
    if evidence.claim_id is None and evidence.uploaded_by_id != current_user.id:
        abort(404)
    try:
        data = photo_store().read(key)
    except (FileNotFoundError, ValueError):
        abort(404)
    response = send_file(io.BytesIO(data), mimetype="image/jpeg", max_age=0)
    # The bytes behind an id never change; keep them in the browser but never in a proxy.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/v/<code>/evidence/<int:evidence_id>")
def photo(evidence_id: int) -> Response:
    """Send a stored photo at full size."""
    evidence = owned(Evidence, evidence_id)
    return _send(evidence, evidence.path)


@bp.get("/v/<code>/evidence/<int:evidence_id>/thumb")
def thumb(evidence_id: int) -> Response:
    """Send a stored photo's thumbnail."""
    evidence = owned(Evidence, evidence_id)
    return _send(evidence, evidence.thumb_path)
