"""The village home: schemes, households with score and balance, the rules catalogue."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.scope import owned
from credits import queries
from credits.access import Permission, has_permission, visible_villages
from credits.models import Scheme, Village
from credits.oversight.integrity import may_read as may_read_integrity
from credits.rules import rules_by_category
from credits.shop.reconciliation import outrun_villages

bp = Blueprint("village", __name__)


@bp.get("/villages")
@login_required
def index() -> str:
    """List the villages a user may see (township and county staff land here)."""
    villages = db.session.scalars(
        select(Village).where(Village.id.in_(visible_villages(current_user))).order_by(Village.code)
    ).all()
    villages = list(villages)
    outrun = outrun_villages(db.session, [v.id for v in villages])
    return render_template("village/index.html", villages=villages, shop_outrun=outrun)


@bp.get("/v/<code>/")
def home() -> str:
    """Show the village's schemes and every household's score and balance."""
    village = g.village
    schemes = queries.schemes_of(db.session, village.id)
    q = request.args.get("q", "")[:50]
    group_id = request.args.get("group", type=int)
    page = queries.household_page(
        db.session,
        village.id,
        schemes,
        q=q,
        group_id=group_id,
        page=request.args.get("page", 1, type=int),
    )
    return render_template(
        "village/home.html",
        admin_links=_admin_links(),
        village=village,
        schemes=schemes,
        page=page,
        q=q,
        group_id=group_id,
        groups=queries.groups_of(db.session, village.id),
        stats=queries.village_stats(db.session, village.id),
    )


def _admin_links() -> list[tuple[str, str]]:
    """Links to the pages of the administration the user may open."""
    links = [(_("Boards"), url_for("boards.index"))]
    if has_permission(current_user, Permission.MANAGE_USERS):
        links.append((_("Staff accounts"), url_for("users.index")))
    if has_permission(current_user, Permission.AUDIT):
        links.append((_("Audit log"), url_for("admin.audit")))
    if has_permission(current_user, Permission.RECORD):
        links.append((_("Villagers' proposals"), url_for("proposals.queue")))
    if may_read_integrity(db.session, current_user, g.village.id):
        links.append((_("Integrity report"), url_for("integrity.index")))
    if has_permission(current_user, Permission.PRINT):
        links.append((_("Print household cards"), url_for("cards.index")))
        links.append((_("Print the notice sheet"), url_for("notice.sheet")))
    return links


@bp.get("/v/<code>/schemes/<int:scheme_id>/rules")
def rules(scheme_id: int) -> str:
    """Show a scheme's rules catalogue by category."""
    scheme = owned(Scheme, scheme_id)
    return render_template(
        "village/rules.html",
        village=g.village,
        scheme=scheme,
        categories=rules_by_category(db.session, scheme),
        can_manage=has_permission(current_user, Permission.MANAGE),
    )
