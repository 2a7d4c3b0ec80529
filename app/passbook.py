"""The villager's passbook, opened from the card's QR code (public: the card is the key)."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.extensions import db, limiter
from credits import cards, passbook, proposals
from credits.cards import CardStatus

bp = Blueprint("passbook", __name__, cli_group=None)

# The URL is the household's key: keep it out of caches, search engines and referrers.
PRIVATE_HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


@bp.get("/C/<token>")
def show_upper_case(token: str) -> Response:
    """Scanners in capitals mode type /C/…: send them to the one canonical address."""
    return redirect(url_for("passbook.show", token=token, **request.args), 301)


@bp.get("/c/<token>")
@limiter.limit(
    lambda: current_app.config["CARD_FAILURES_PER_ADDRESS"],
    deduct_when=lambda response: response.status_code == 404,
    scope="card-guess",
)
def show(token: str) -> tuple[str, int, dict[str, str]]:
    """Show a household's passbook, or say why this card opens nothing."""
    result = cards.resolve(db.session, token)
    if result.status == CardStatus.INVALID or result.household is None:
        if result.status in (CardStatus.REPLACED, CardStatus.REVOKED, CardStatus.INACTIVE):
            # Nothing of the household: only what happened to the card.
            return (
                render_template("passbook/closed.html", status=result.status.value),
                410,
                PRIVATE_HEADERS,
            )
        return render_template("passbook/invalid.html"), 404, PRIVATE_HEADERS
    book = passbook.passbook(
        db.session,
        result.household,
        scheme_key=request.args.get("s", "")[:40] or None,
        page=request.args.get("page", 1, type=int) or 1,
    )
    return (
        render_template(
            "passbook/show.html",
            pb=book,
            token=token,
            can_object="notice.object" in current_app.view_functions,
            proposals=proposals.for_household(db.session, result.household),
        ),
        200,
        PRIVATE_HEADERS,
    )
