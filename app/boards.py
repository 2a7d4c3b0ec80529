"""Boards and honour: staff boards, period close, scheme policy, kiosk links, public boards
and rules, the hall TV, exports, the honour roll and the certificate."""

from __future__ import annotations

import io
from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.extensions import db
from app.scope import owned, require_permission
from app.web import client_ip, translate_error
from credits.access import Permission, has_permission
from credits.boards import kiosk as kiosk_links
from credits.boards.closing import close_period, closed_board
from credits.boards.exports import board_rows, to_csv, to_xlsx
from credits.boards.pages import (
    BoardQuery,
    board_page,
    certificate_data,
    kiosk,
    public_village,
    rules_catalogue,
)
from credits.boards.periods import last_day, period_title
from credits.boards.policies import Policy, load_policy, parse_groups, save_policy
from credits.boards.stars import BADGES
from credits.clock import today
from credits.documents.certificate import TITLES, render_certificate
from credits.documents.honour_roll import SIZES, board_url, render_honour_roll
from credits.errors import DomainError
from credits.models import ClosedPeriod, KioskLink, Scheme

bp = Blueprint("boards", __name__, cli_group=None)
KIOSK_SECONDS = 18  # each board stays this long on the hall TV


def _context(page, **extra):  # noqa: ANN001, ANN202
    return dict(page=page, badges=BADGES, period_title=period_title, **extra)


def _first_day(page) -> date:  # noqa: ANN001
    first = page.spec.first if page.spec.kind != "all" else 190001
    return date(first // 100, first % 100, 1)


# ---- staff ---------------------------------------------------------------------------


@bp.get("/v/<code>/boards")
def index() -> str:
    """The village's boards with filters: scheme, period, group, category, who."""
    require_permission(Permission.VIEW)
    page = board_page(db.session, g.village, BoardQuery.from_args(request.args), today=today())
    return render_template(
        "boards/index.html",
        **_context(
            page,
            village=g.village,
            can_manage=has_permission(current_user, Permission.MANAGE),
            can_print=has_permission(current_user, Permission.PRINT),
            titles=TITLES,
            args={k: v for k, v in request.args.items() if k in BoardQuery.__dataclass_fields__},
        ),
    )


@bp.get("/v/<code>/boards.<any(csv, xlsx):fmt>")
def export(fmt: str) -> Response:
    """The board on the page as CSV (UTF-8 BOM) or XLSX: the same rows and numbers."""
    require_permission(Permission.VIEW)
    page = board_page(
        db.session,
        g.village,
        BoardQuery.from_args(request.args),
        today=today(),
        every_line=True,
    )
    end = last_day(page.spec) if page.spec.kind != "all" else today()
    rows = board_rows(page.board, _first_day(page), end)
    name = f"{g.village.code}-{page.scheme.key}-{page.spec.label}-{page.who}.{fmt}"
    if fmt == "csv":
        data, mime = to_csv(rows), "text/csv; charset=utf-8"
    else:
        data = to_xlsx(rows, page.spec.label)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=name)


@bp.route("/v/<code>/boards/close", methods=["GET", "POST"])
def close() -> Response | tuple[str, int]:
    """Close a month or quarter (village admins) and list the closed periods."""
    require_permission(Permission.VIEW)
    page = board_page(db.session, g.village, BoardQuery.from_args(request.args), today=today())
    status = 200
    if request.method == "POST":
        require_permission(Permission.MANAGE)
        try:
            closed = close_period(
                db.session,
                actor=current_user,
                scheme_id=page.scheme.id,
                label=(request.form.get("period") or "")[:20],
                ip=client_ip(),
            )
        except DomainError as exc:
            db.session.rollback()
            flash(translate_error(exc), "error")
            status = exc.status
        else:
            flash(_("The period %(label)s is closed.", label=closed.label), "success")
            return redirect(url_for("boards.close", scheme=page.scheme.key))
    return render_template(
        "boards/close.html",
        **_context(
            page,
            village=g.village,
            sizes=SIZES,
            can_manage=has_permission(current_user, Permission.MANAGE),
        ),
    ), status


@bp.get("/v/<code>/boards/closed/<int:closed_id>/honour-roll.pdf")
def honour_roll(closed_id: int) -> Response:
    """The honour roll of a closed period (A3 landscape or A4 portrait)."""
    require_permission(Permission.PRINT)
    closed = owned(ClosedPeriod, closed_id)
    size = request.args.get("size", "a3")
    if size not in SIZES:
        abort(404)
    data = closed_board(db.session, g.village.id, closed.id)
    out = io.BytesIO()
    render_honour_roll(out, data, size=size, url=board_url(current_app.config["BASE_URL"], data))
    name = f"{g.village.code}-{data.scheme_key}-{closed.label}-{size}.pdf"
    out.seek(0)
    return send_file(out, mimetype="application/pdf", as_attachment=True, download_name=name)


@bp.get("/v/<code>/boards/certificate.pdf")
def certificate() -> Response:
    """A household's family-tradition certificate (最美家庭 / 好家风家庭)."""
    require_permission(Permission.PRINT)
    data = certificate_data(
        db.session,
        g.village,
        request.args.get("household", type=int),
        request.args.get("title"),
        today=today(),
        scheme_key=request.args.get("scheme"),
    )
    out = io.BytesIO()
    render_certificate(out, data)
    out.seek(0)
    name = f"{g.village.code}-{data.head_name}-{data.title}.pdf"
    return send_file(out, mimetype="application/pdf", as_attachment=True, download_name=name)


class PolicyForm(FlaskForm):
    base_score = IntegerField(
        _l("Base score every household starts from"),
        validators=[InputRequired(), NumberRange(min=0, max=100000)],
        default=0,
    )
    threshold = IntegerField(
        _l("Threshold below which a household loses benefits"),
        validators=[Optional(), NumberRange(min=-100000, max=100000)],
    )
    reset = SelectField(
        _l("At the end of a year"),
        choices=[("carry", _l("Points carry over")), ("yearly", _l("Reset to the base score"))],
    )
    expiry_years = IntegerField(
        _l("Points expire after this many years"),
        validators=[Optional(), NumberRange(min=1, max=20)],
    )
    star_kind = SelectField(
        _l("Stars"),
        choices=[
            ("none", _l("No stars")),
            ("category", _l("One star per category with enough points in the year")),
            ("score", _l("Stars by yearly points")),
        ],
    )
    star_min_points = IntegerField(
        _l("Points a category needs for its star"),
        validators=[Optional(), NumberRange(min=1, max=100000)],
        default=20,
    )
    star_levels = StringField(
        _l("Yearly points for one, two, … stars (e.g. 50, 100, 200)"),
        validators=[Length(max=60)],
    )
    adopted_on = DateField(
        _l("Date the villagers' congress adopted the rules"), validators=[Optional()]
    )
    committee = StringField(_l("Committee named on the honour roll"), validators=[Length(max=100)])
    mask_red_names = BooleanField(_l("Mask names on the public red board"))
    black_board = BooleanField(_l("Show the black board publicly (masked names)"))
    groups = TextAreaField(
        _l("Exclusive groups: one a line, “name: CODE1, CODE2”"), validators=[Length(max=2000)]
    )

    def policy(self) -> Policy:
        text = (self.star_levels.data or "").replace("，", ",")
        try:
            levels = tuple(int(v) for v in text.split(",") if v.strip())
        except ValueError:
            levels = (-1,)
        return Policy(
            base_score=self.base_score.data or 0,
            threshold=self.threshold.data,
            reset=self.reset.data or "carry",
            expiry_years=self.expiry_years.data,
            star_kind=self.star_kind.data or "none",
            star_min_points=self.star_min_points.data or 20,
            star_levels=levels,
            adopted_on=self.adopted_on.data,
            mask_red_names=bool(self.mask_red_names.data),
            black_board=bool(self.black_board.data),
            committee=(self.committee.data or "").strip(),
            groups=parse_groups(self.groups.data or ""),
        )


def _fill(form: PolicyForm, policy: Policy) -> None:
    for name in ("base_score", "threshold", "reset", "expiry_years", "star_kind"):
        getattr(form, name).data = getattr(policy, name)
    form.star_min_points.data = policy.star_min_points
    form.star_levels.data = ", ".join(str(v) for v in policy.star_levels)
    form.adopted_on.data = policy.adopted_on
    form.committee.data = policy.committee
    form.mask_red_names.data = policy.mask_red_names
    form.black_board.data = policy.black_board
    form.groups.data = "\n".join(f"{k}: {', '.join(v)}" for k, v in policy.groups.items())


@bp.route("/v/<code>/schemes/<int:scheme_id>/policy", methods=["GET", "POST"])
def policy(scheme_id: int) -> Response | tuple[str, int]:
    """Edit a scheme's policy (village admins; every change is audited)."""
    require_permission(Permission.MANAGE)
    scheme = owned(Scheme, scheme_id)
    form = PolicyForm()
    status = 200
    if form.validate_on_submit():
        try:
            save_policy(
                db.session,
                actor=current_user,
                scheme_id=scheme.id,
                policy=form.policy(),
                ip=client_ip(),
            )
        except DomainError as exc:
            db.session.rollback()
            flash(translate_error(exc), "error")
            status = exc.status
        else:
            flash(_("The policy was saved."), "success")
            return redirect(url_for("boards.policy", scheme_id=scheme.id))
    elif form.is_submitted():
        status = 400
    else:
        _fill(form, load_policy(db.session, scheme))
    return render_template(
        "boards/policy.html", village=g.village, scheme=scheme, form=form
    ), status


@bp.route("/v/<code>/kiosk-links", methods=["GET", "POST"])
def kiosk_index() -> Response | tuple[str, int]:
    """Create and list the signed links that open the hall TV page."""
    require_permission(Permission.MANAGE)
    status = 200
    if request.method == "POST":
        try:
            kiosk_links.create_link(
                db.session,
                actor=current_user,
                village_id=g.village.id,
                label=(request.form.get("label") or "")[:200],
                ip=client_ip(),
            )
        except DomainError as exc:
            db.session.rollback()
            flash(translate_error(exc), "error")
            status = exc.status
        else:
            flash(_("The kiosk link was created."), "success")
            return redirect(url_for("boards.kiosk_index"))
    links = [
        (link, kiosk_links.token_for(g.village, link))
        for link in kiosk_links.links(db.session, g.village.id)
    ]
    return render_template("boards/kiosk_links.html", village=g.village, links=links), status


@bp.post("/v/<code>/kiosk-links/<int:link_id>/revoke")
def kiosk_revoke(link_id: int) -> Response:
    """Revoke a kiosk link."""
    require_permission(Permission.MANAGE)
    link = owned(KioskLink, link_id)
    kiosk_links.revoke_link(
        db.session, actor=current_user, village_id=g.village.id, link_id=link.id, ip=client_ip()
    )
    flash(_("The kiosk link was revoked."), "success")
    return redirect(url_for("boards.kiosk_index"))


# ---- public (no login, no JavaScript needed) -----------------------------------------


@bp.get("/p/<village_code>/boards")
def public(village_code: str) -> str:
    """The village's public boards: the red board, and the black board if switched on."""
    village = public_village(db.session, village_code)
    page = board_page(
        db.session, village, BoardQuery.from_args(request.args), today=today(), public=True
    )
    return render_template("boards/public.html", **_context(page, village=village))


@bp.get("/p/<village_code>/rules")
def public_rules(village_code: str) -> str:
    """The public rules catalogue (积分细则) with the date it was adopted."""
    village = public_village(db.session, village_code)
    catalogue = rules_catalogue(db.session, village, request.args.get("scheme"))
    return render_template("boards/rules.html", cat=catalogue, village=village)


@bp.get("/p/<village_code>/kiosk/<token>")
def kiosk_page(village_code: str, token: str) -> tuple[str, int, dict[str, str]]:
    """The hall TV: one board at a time, rotating by refreshing, the latest awards below."""
    village = kiosk_links.resolve(db.session, village_code, token)
    slide = request.args.get("slide", "0")
    index = int(slide) if slide.isdigit() and len(slide) < 6 else 0
    view = kiosk(db.session, village, today=today(), index=index)
    nxt = url_for("boards.kiosk_page", village_code=village.code, token=token, slide=view.index + 1)
    return (
        render_template(
            "boards/kiosk.html",
            view=view,
            next_url=nxt,
            seconds=KIOSK_SECONDS,
            period_title=period_title,
            today=today(),
        ),
        200,
        {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"},
    )
