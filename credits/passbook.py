"""The household passbook (存折) read model: balances, ranks, history and claims on notice.

Two readers: the public page opened from the card (masked names, nothing personal; the only
free text is the committee's published reasons) and the printed statement for the counter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits.boards.stars import PassbookHonours, passbook_honours
from credits.clock import local_date, today, utc_start_of
from credits.db import utcnow
from credits.errors import ValidationError
from credits.i18n import N_
from credits.models import (
    Account,
    Balance,
    Claim,
    ClaimState,
    EntryKind,
    Household,
    LedgerEntry,
    Member,
    Objection,
    ObjectionState,
    Scheme,
)
from credits.objections import DecidedItem, household_outcomes
from credits.paging import Page
from credits.privacy import mask_name
from credits.queries import schemes_of
from credits.ranking import Standings, household_standings

PER_PAGE = 20


@dataclass(frozen=True)
class SchemeBox:
    """One scheme's two numbers and the household's standings in it."""

    scheme_id: int
    key: str
    name: str
    unit: str
    score: int  # 荣誉积分: earned, never reduced by spending
    balance: int  # 可用积分: what the shop accepts
    standings: Standings
    honours: PassbookHonours | None = None  # stars, badges, standing score (boards)


@dataclass(frozen=True)
class HistoryLine:
    """One ledger entry as a line of the passbook, newest first."""

    entry_id: int
    day: date  # the posting day: the balance column runs in this order
    deed_date: date
    kind: str
    title: str
    member: str  # masked on the public page, in full on the printed statement
    points: int
    balance_after: int
    is_reversal: bool
    reversed_later: bool  # a later correction cancelled this entry
    reason: str = ""  # why a correction (reversal) was made


@dataclass(frozen=True)
class NoticeLine:
    """A claim of the household now in its public notice window."""

    claim_id: int
    scheme_name: str
    title: str
    member: str
    points: int
    deed_date: date
    notice_until: date
    objected: bool  # an open objection holds it
    due: bool = False  # notice over unopposed, not yet posted by `post-due` (待入账)
    is_correction: bool = False  # 更正 of a posted entry, its points negated
    reason: str = ""  # a correction's reason


@dataclass
class Passbook:
    """Everything the public passbook page shows, and nothing more."""

    village_name: str
    village_code: str
    township: str
    head: str  # masked
    house_number: str
    group_name: str
    schemes: list[SchemeBox]
    current: SchemeBox | None
    history: Page[HistoryLine]
    notices: list[NoticeLine] = field(default_factory=list)
    outcomes: list[DecidedItem] = field(default_factory=list)  # decisions on objections
    today: date = field(default_factory=today)


def _accounts(session: Session, household: Household) -> dict[int, tuple[int, int, int]]:
    """Map scheme id → (account id, score, balance) for a household."""
    rows = session.execute(
        select(Account.scheme_id, Account.id, Balance.score, Balance.balance)
        .outerjoin(Balance, Balance.account_id == Account.id)
        .where(Account.village_id == household.village_id, Account.household_id == household.id)
    )
    return {
        scheme_id: (account_id, int(score or 0), int(balance or 0))
        for scheme_id, account_id, score, balance in rows
    }


def _member_names(session: Session, household: Household, *, masked: bool) -> dict[int, str]:
    rows = session.execute(
        select(Member.id, Member.name).where(
            Member.village_id == household.village_id, Member.household_id == household.id
        )
    )
    return {mid: mask_name(name) if masked else name for mid, name in rows}


def _reversed_ids(session: Session, village_id: int, account_id: int, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(
        session.scalars(
            select(LedgerEntry.reverses_id).where(
                LedgerEntry.village_id == village_id,
                LedgerEntry.account_id == account_id,
                LedgerEntry.reverses_id.in_(ids),
            )
        )
    )


def _lines(
    entries: list[LedgerEntry],
    top_balance: int,
    members: dict[int, str],
    reversed_ids: set[int],
    *,
    newest_first: bool,
) -> list[HistoryLine]:
    """Turn entries into lines with the balance after each; top_balance is the first's."""
    lines: list[HistoryLine] = []
    running = top_balance
    for entry in entries:
        if not newest_first:
            running += entry.balance_delta
        lines.append(
            HistoryLine(
                entry_id=entry.id,
                day=local_date(entry.posted_at),
                deed_date=entry.deed_date,
                kind=entry.kind,
                title=entry.title,
                member=members.get(entry.member_id, "") if entry.member_id else "",
                points=entry.points,
                balance_after=running,
                is_reversal=entry.kind == EntryKind.REVERSAL,
                reversed_later=entry.id in reversed_ids,
                reason=entry.reason if entry.kind == EntryKind.REVERSAL else "",
            )
        )
        if newest_first:
            running -= entry.balance_delta
    return lines


def history_page(
    session: Session,
    household: Household,
    account_id: int | None,
    balance: int,
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[HistoryLine]:
    """One page of an account's entries, newest first, each with the balance after it.

    The balance after the page's newest entry is today's balance minus what the newer
    entries (the earlier pages) moved, so a page reads only as far back as it shows.
    """
    page = max(1, page)
    if account_id is None:
        return Page(items=[], page=1, per_page=per_page, total=0)
    where = (LedgerEntry.village_id == household.village_id, LedgerEntry.account_id == account_id)
    total = int(session.scalar(select(func.count(LedgerEntry.id)).where(*where)) or 0)
    page = min(page, max(1, -(-total // per_page)))  # past the end: the last page
    entries = list(
        session.scalars(
            select(LedgerEntry)
            .where(*where)
            .order_by(LedgerEntry.seq.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    if not entries:
        return Page(items=[], page=page, per_page=per_page, total=total)
    newer = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.balance_delta), 0)).where(
            *where, LedgerEntry.seq > entries[0].seq
        )
    )
    members = _member_names(session, household, masked=True)
    reversed_ids = _reversed_ids(session, household.village_id, account_id, [e.id for e in entries])
    lines = _lines(entries, balance - int(newer or 0), members, reversed_ids, newest_first=True)
    return Page(items=lines, page=page, per_page=per_page, total=total)


def notices(
    session: Session, household: Household, *, now: datetime | None = None
) -> list[NoticeLine]:
    """The household's claims on notice or awaiting posting, soonest end first."""
    now = now or utcnow()
    claims = session.scalars(
        select(Claim)
        .where(
            Claim.village_id == household.village_id,
            Claim.household_id == household.id,
            Claim.state == ClaimState.NOTICED,
        )
        .order_by(Claim.notice_until, Claim.id)
    ).all()
    if not claims:
        return []
    objected = set(
        session.scalars(
            select(Objection.claim_id).where(
                Objection.village_id == household.village_id,
                Objection.claim_id.in_([c.id for c in claims]),
                Objection.state == ObjectionState.OPEN,
            )
        )
    )
    members = _member_names(session, household, masked=True)
    return [
        NoticeLine(
            claim_id=c.id,
            scheme_name=c.scheme.name,
            title=c.rule_version.title,
            member=members.get(c.member_id, "") if c.member_id else "",
            points=c.points,
            deed_date=c.deed_date,
            notice_until=local_date(c.notice_until) if c.notice_until else c.deed_date,
            objected=c.id in objected,
            due=c.id not in objected and c.notice_until is not None and c.notice_until <= now,
            is_correction=c.is_correction,
            reason=c.note if c.is_correction else "",
        )
        for c in claims
    ]


def passbook(
    session: Session,
    household: Household,
    *,
    scheme_key: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
    on: date | None = None,
    now: datetime | None = None,
) -> Passbook:
    """Build the public passbook of a household; `scheme_key` picks the history shown."""
    on = on or today()
    accounts = _accounts(session, household)
    boxes = []
    for scheme in schemes_of(session, household.village_id):
        _, score, balance = accounts.get(scheme.id, (None, 0, 0))
        boxes.append(
            SchemeBox(
                scheme_id=scheme.id,
                key=scheme.key,
                name=scheme.name,
                unit=scheme.unit,
                score=score,
                balance=balance,
                standings=household_standings(session, household, scheme.id, today=on),
                honours=passbook_honours(session, household.id, scheme, on),
            )
        )
    current = next((b for b in boxes if b.key == scheme_key), boxes[0] if boxes else None)
    if current is not None:
        account_id = accounts.get(current.scheme_id, (None, 0, 0))[0]
        history = history_page(
            session, household, account_id, current.balance, page=page, per_page=per_page
        )
    else:
        history = Page(items=[], page=1, per_page=per_page, total=0)
    village = household.village
    return Passbook(
        village_name=village.name,
        village_code=village.code,
        township=village.township_name,
        head=mask_name(household.head_name),
        house_number=household.house_number,
        group_name=household.group.name if household.group else "",
        schemes=boxes,
        current=current,
        history=history,
        notices=notices(session, household, now=now),
        outcomes=household_outcomes(session, household, now=utc_start_of(on + timedelta(days=1))),
        today=on,
    )


# ---- the printed statement ---------------------------------------------------------


@dataclass
class Statement:
    """One scheme's printed passbook for a date range: opening, lines, closing."""

    scheme_name: str
    unit: str
    date_from: date | None
    date_to: date
    opening: int
    closing: int
    score: int  # honour score at the end of the range
    lines: list[HistoryLine]

    @property
    def credits(self) -> int:
        return sum(line.points for line in self.lines if line.points > 0)

    @property
    def debits(self) -> int:
        return sum(-line.points for line in self.lines if line.points < 0)


def statements(
    session: Session,
    household: Household,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    scheme_key: str | None = None,
) -> list[Statement]:
    """Build the printed passbook of a household: one statement per scheme it has."""
    date_to = date_to or today()
    if date_from is not None and date_from > date_to:
        raise ValidationError(N_("The start date must not be after the end date."))
    schemes: list[Scheme] = schemes_of(session, household.village_id)
    if scheme_key:
        schemes = [s for s in schemes if s.key == scheme_key]
        if not schemes:
            raise ValidationError(N_("This village has no scheme %(key)s."), key=scheme_key)
    accounts = _accounts(session, household)
    members = _member_names(session, household, masked=False)
    end = utc_start_of(date_to + timedelta(days=1))
    start = utc_start_of(date_from) if date_from else None
    result = []
    for scheme in schemes:
        account_id = accounts.get(scheme.id, (None, 0, 0))[0]
        opening = score = 0
        entries: list[LedgerEntry] = []
        if account_id is not None:
            where = (
                LedgerEntry.village_id == household.village_id,
                LedgerEntry.account_id == account_id,
            )
            if start is not None:
                opening = int(
                    session.scalar(
                        select(func.coalesce(func.sum(LedgerEntry.balance_delta), 0)).where(
                            *where, LedgerEntry.posted_at < start
                        )
                    )
                    or 0
                )
            in_range = [LedgerEntry.posted_at < end]
            if start is not None:
                in_range.append(LedgerEntry.posted_at >= start)
            entries = list(
                session.scalars(
                    select(LedgerEntry).where(*where, *in_range).order_by(LedgerEntry.seq)
                )
            )
            score = int(
                session.scalar(
                    select(func.coalesce(func.sum(LedgerEntry.score_delta), 0)).where(
                        *where, LedgerEntry.posted_at < end
                    )
                )
                or 0
            )
            reversed_ids = _reversed_ids(
                session, household.village_id, account_id, [e.id for e in entries]
            )
        else:
            reversed_ids = set()
        lines = _lines(entries, opening, members, reversed_ids, newest_first=False)
        result.append(
            Statement(
                scheme_name=scheme.name,
                unit=scheme.unit,
                date_from=date_from,
                date_to=date_to,
                opening=opening,
                closing=lines[-1].balance_after if lines else opening,
                score=score,
                lines=lines,
            )
        )
    return result
