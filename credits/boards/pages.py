"""What the board pages read: filters checked once, then one call per page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from credits.boards.closing import closed_periods
from credits.boards.kiosk import RecentAward, recent_awards
from credits.boards.periods import KINDS, PeriodSpec, current_spec, parse_period, period_choices
from credits.boards.policies import Policy, load_policy
from credits.boards.ranking import WHO, BlackLine, Board, Line, black_board, board, red_board
from credits.documents.certificate import TITLES, CertificateData
from credits.errors import NotFound, ValidationError
from credits.i18n import N_, gettext
from credits.models import ClosedPeriod, Group, Household, Rule, Scheme, Village
from credits.queries import groups_of, schemes_of
from credits.rules import rules_by_category
from credits.shop.catalogue import NewStock, newest_stock

MAX_ID = 2**31 - 1  # anything larger is no row of ours (and would overflow PostgreSQL)
MAX_TEXT = 50


@dataclass(frozen=True)
class BoardQuery:
    """The filters of a board page, as plain text from the query string."""

    scheme: str | None = None  # scheme key
    kind: str | None = None
    period: str | None = None
    group: str | None = None  # group id
    category: str | None = None
    who: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> BoardQuery:
        return cls(**{name: args.get(name) or None for name in cls.__dataclass_fields__})


def _clean(value: str | None) -> str | None:
    """Refuse text no filter can hold (NUL bytes, very long values)."""
    if value is None:
        return None
    if "\x00" in value or len(value) > MAX_TEXT:
        raise ValidationError(N_("The filter is not valid."))
    return value.strip() or None


def _id(value: str | None) -> int | None:
    value = _clean(value)
    if value is None:
        return None
    if not value.isdigit() or int(value) > MAX_ID:
        raise NotFound()
    return int(value)


@dataclass
class BoardPage:
    """Everything a board page shows."""

    village: Village
    schemes: list[Scheme]
    scheme: Scheme
    policy: Policy
    groups: list[Group]
    group: Group | None
    categories: list[str]
    category: str | None
    kind: str
    who: str
    spec: PeriodSpec
    board: Board
    red: list[Line] = field(default_factory=list)
    black: list[BlackLine] = field(default_factory=list)
    closed: list[ClosedPeriod] = field(default_factory=list)
    choices: list[PeriodSpec] = field(default_factory=list)  # periods the filter offers


def _categories(session: Session, scheme: Scheme) -> list[str]:
    return list(
        dict.fromkeys(
            session.scalars(
                select(Rule.category)
                .where(Rule.village_id == scheme.village_id, Rule.scheme_id == scheme.id)
                .order_by(Rule.position, Rule.id)
            )
        )
    )


STAFF_LINES = 100  # lines a staff board page shows; the exports carry every line


def board_page(
    session: Session,
    village: Village,
    query: BoardQuery,
    *,
    today: date,
    public: bool = False,
    every_line: bool = False,
) -> BoardPage:
    """Check the filters and read the board they ask for (public pages: households only).

    The page shows the first STAFF_LINES lines; `every_line` (exports) decorates them all.
    """
    schemes = schemes_of(session, village.id)
    if not schemes:
        raise NotFound(N_("This village has no points scheme yet."))
    key = _clean(query.scheme)
    scheme = next((s for s in schemes if s.key == key), None) if key else schemes[0]
    if scheme is None:
        raise NotFound()
    kind = _clean(query.kind) or "month"
    if kind not in KINDS:
        raise ValidationError(N_("Choose month, quarter, year or all."))
    label = _clean(query.period)
    spec = parse_period(label) if label else current_spec(kind, today)
    kind = spec.kind
    groups = groups_of(session, village.id)
    group_id = _id(query.group)
    group = next((g for g in groups if g.id == group_id), None)
    if group_id is not None and group is None:
        raise NotFound()
    categories = _categories(session, scheme)
    category = _clean(query.category)
    if category is not None and category not in categories:
        raise NotFound()
    who = _clean(query.who) or "households"
    if who not in WHO or (public and who != "households"):
        raise ValidationError(N_("Choose households or members."))
    policy = load_policy(session, scheme)
    full = board(
        session,
        village.id,
        scheme.id,
        spec,
        policy,
        today=today,
        who=who,
        group_id=group_id,
        category=category,
        decorate=None if every_line else STAFF_LINES,
    )
    page = BoardPage(
        village=village,
        schemes=schemes,
        scheme=scheme,
        policy=policy,
        groups=groups,
        group=group,
        categories=categories,
        category=category,
        kind=kind,
        who=who,
        spec=spec,
        board=full,
    )
    page.choices = period_choices(today)
    if spec not in page.choices:
        page.choices.insert(0, spec)
    page.red = red_board(full, policy) if public else full.active[:STAFF_LINES]
    if policy.black_board or not public:
        page.black = black_board(session, village.id, scheme.id, spec)
    if not public:
        page.closed = closed_periods(session, village.id, scheme.id)
    return page


def public_village(session: Session, code: str) -> Village:
    """The village of a public page by its code, or NotFound."""
    if not code or len(code) > 32 or "\x00" in code:
        raise NotFound()
    village = session.scalar(select(Village).where(Village.code == code))
    if village is None:
        raise NotFound()
    return village


@dataclass
class Catalogue:
    """A scheme's public rules catalogue with the date it was adopted."""

    village: Village
    schemes: list[Scheme]
    scheme: Scheme
    adopted_on: date | None
    categories: list[tuple[str, list[Rule]]]


def rules_catalogue(session: Session, village: Village, scheme_key: str | None) -> Catalogue:
    """The active rules of a scheme by category, for the public page."""
    schemes = schemes_of(session, village.id)
    key = _clean(scheme_key)
    scheme = next((s for s in schemes if s.key == key), None) if key else None
    if scheme is None and key is None and schemes:
        scheme = schemes[0]
    if scheme is None:
        raise NotFound()
    categories = [
        (name, [r for r in rules if r.active]) for name, rules in rules_by_category(session, scheme)
    ]
    return Catalogue(
        village=village,
        schemes=schemes,
        scheme=scheme,
        adopted_on=load_policy(session, scheme).adopted_on,
        categories=[(n, rs) for n, rs in categories if rs],
    )


@dataclass
class Slide:
    """One screen of the kiosk's rotation."""

    title: str
    scheme: Scheme
    spec: PeriodSpec
    lines: list[Line]


@dataclass
class Kiosk:
    village: Village
    slide: Slide | None
    index: int
    count: int
    awards: list[RecentAward]
    new_stock: list[NewStock] = field(default_factory=list)  # the shop's latest arrivals


def kiosk(session: Session, village: Village, *, today: date, index: int) -> Kiosk:
    """The kiosk's slide `index` (of month and year boards per scheme) and the latest awards."""
    plan = [(s, kind) for s in schemes_of(session, village.id) for kind in ("month", "year")]
    awards = recent_awards(session, village.id)
    arrivals = newest_stock(session, village.id)
    if not plan:
        return Kiosk(village, None, 0, 0, awards, arrivals)
    index = index % len(plan)
    scheme, kind = plan[index]
    policy = load_policy(session, scheme)
    spec = current_spec(kind, today)
    full = board(session, village.id, scheme.id, spec, policy, today=today)
    slide = Slide(kind, scheme, spec, red_board(full, policy, top=8))
    return Kiosk(village, slide, index, len(plan), awards, arrivals)


def certificate_data(
    session: Session,
    village: Village,
    household_id: int | None,
    title: str | None,
    *,
    today: date,
    scheme_key: str | None = None,
) -> CertificateData:
    """What a household's certificate says (the household must be of this village)."""
    if household_id is None or household_id > MAX_ID:
        raise NotFound()
    household = session.get(Household, household_id)
    if household is None or household.village_id != village.id:
        raise NotFound()
    if title not in TITLES:
        raise ValidationError(N_("Choose the title of the certificate."))
    schemes = schemes_of(session, village.id)
    scheme = next((s for s in schemes if s.key == scheme_key), schemes[-1] if schemes else None)
    if scheme is None:
        raise NotFound()
    committee = load_policy(session, scheme).committee
    return CertificateData(
        title=title,
        head_name=household.head_name,
        house_number=household.house_number,
        village_name=village.name,
        scheme_name=scheme.name,
        year=today.year,
        committee=committee
        or gettext("%(village)s village committee", "zh_CN", village=village.name),
        issued_on=today,
    )
