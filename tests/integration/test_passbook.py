"""The passbook read model: balances, ranks, running balance, reversals, claims on notice."""

from __future__ import annotations

import subprocess
import uuid
from datetime import date, datetime, timedelta

import pytest
from conftest import NOW, correct_entry
from sqlalchemy import event, select

from credits import passbook
from credits.documents.passbook import print_passbook
from credits.errors import ValidationError
from credits.ledger import append_entry, verify
from credits.models import Account, Claim, EntryKind, LedgerEntry, Objection
from credits.workflow import ClaimInput, approve_claim, post_due, record_claim

TODAY = NOW.date()  # 2026-11-20


def _claim(session, world, rule, household, when, *, note="", member=False, approve=True):
    home = world.households[household]
    claim = record_claim(
        session,
        actor=world.users["clerk"],
        now=when,
        data=ClaimInput(
            household_id=home.id,
            rule_id=world.rule(rule).id,
            deed_date=when.date(),
            idempotency_key=uuid.uuid4().hex,
            note=note,
            member_id=home.members[1].id if member else None,
        ),
    )
    if approve:
        approve_claim(session, actor=world.users["reviewer"], claim_id=claim.id, now=when)
    return claim


def _post(session, when):
    post_due(session, now=when)


def _entry(session, world, household, when, *, kind, points, spends=False, title=""):
    account = session.scalar(
        select(Account).where(Account.household_id == world.households[household].id)
    )
    append_entry(
        session,
        account,
        kind=kind,
        points=points,
        score_delta=0 if spends else points,
        balance_delta=points,
        deed_date=when.date(),
        now=when,
        title=title,
    )
    session.commit()


def _redeem(session, world, household, points, when):
    _entry(
        session,
        world,
        household,
        when,
        kind=EntryKind.REDEMPTION,
        points=-points,
        spends=True,
        title="兑换：肥皂",
    )


@pytest.fixture
def story(session, world):
    """Household 0: +5, +10 (by a member), −10 reversed, −3 spent; household 1: +10."""
    _claim(session, world, "JY01", 0, datetime(2026, 10, 5, 9))
    _post(session, datetime(2026, 10, 13, 9))
    _claim(session, world, "YF03", 0, datetime(2026, 11, 2, 9), member=True)
    _claim(session, world, "YF03", 1, datetime(2026, 11, 3, 9))
    _post(session, datetime(2026, 11, 11, 9))
    deduction = _claim(session, world, "KF03", 0, datetime(2026, 11, 5, 9), note="吵架")
    _post(session, datetime(2026, 11, 13, 9))
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.claim_id == deduction.id))
    # A correction decided at a committee meeting of a scheme without notice posts at once.
    world.scheme.notice_days = 0
    session.commit()
    correct_entry(session, world, entry.id, "误记", now=datetime(2026, 11, 14, 9))
    world.scheme.notice_days = 7
    session.commit()
    _redeem(session, world, 0, 3, datetime(2026, 11, 15, 9))
    # Still on notice today: approved yesterday, seven days of notice.
    _claim(session, world, "XL01", 0, NOW - timedelta(days=1), member=True)
    return world


def test_balances_and_scores(session, story):
    book = passbook.passbook(session, story.households[0], on=TODAY)
    assert [b.key for b in book.schemes] == [story.scheme.key]
    box = book.current
    assert (box.score, box.balance) == (15, 12)  # spending lowers the balance only
    assert book.head == "张*华"
    assert book.house_number == "1号" and book.group_name == "一组"
    assert verify(session).ok


def test_history_runs_newest_first_with_the_balance_after_each_line(session, story):
    lines = passbook.passbook(session, story.households[0], on=TODAY).history.items
    assert [(x.kind, x.points, x.balance_after) for x in lines] == [
        ("redemption", -3, 12),
        ("reversal", 10, 15),
        ("deduction", -10, 5),
        ("award", 10, 15),
        ("award", 5, 5),
    ]
    reversal, deduction = lines[1], lines[2]
    assert reversal.is_reversal and reversal.title == "邻里吵架斗殴"
    assert deduction.reversed_later and not deduction.is_reversal
    assert lines[3].member == "张*明"  # masked on the public page
    assert lines[0].day == date(2026, 11, 15)


@pytest.mark.parametrize(
    ("page", "expected"),
    [(1, [12, 15]), (2, [5, 15]), (3, [5]), (4, [5])],  # past the end: the last page
)
def test_later_pages_continue_the_running_balance(session, story, page, expected):
    history = passbook.passbook(
        session, story.households[0], on=TODAY, page=page, per_page=2
    ).history
    assert [x.balance_after for x in history.items] == expected
    assert history.total == 5 and history.pages == 3


def test_ranks_this_month_and_year_in_village_and_group(session, story):
    first = passbook.passbook(session, story.households[0], on=TODAY).current.standings
    second = passbook.passbook(session, story.households[1], on=TODAY).current.standings
    third = passbook.passbook(session, story.households[2], on=TODAY).current.standings
    # This month both earned 10 (household 0: +10 −10 +10): they share first place.
    assert (first.month_village.rank, first.month_village.points, first.month_village.tied) == (
        1,
        10,
        True,
    )
    assert (second.month_village.rank, second.month_village.of) == (1, 3)
    assert (third.month_village.rank, third.month_village.points) == (3, 0)
    # This year household 0 also has October's +5; spending 3 does not count.
    assert (first.year_village.rank, first.year_village.points) == (1, 15)
    assert (second.year_village.rank, third.year_village.rank) == (2, 3)
    assert first.year_group == first.year_village  # one group: the same standings
    assert first.month == 202611 and first.year == 2026


def test_next_year_starts_from_zero(session, story):
    standings = passbook.passbook(
        session, story.households[0], on=date(2027, 1, 5)
    ).current.standings
    assert standings.year_village.points == 0 and standings.month_village.points == 0


def test_claims_on_notice_are_listed_with_their_objection_state(session, story):
    book = passbook.passbook(session, story.households[0], on=TODAY)
    assert len(book.notices) == 1
    notice = book.notices[0]
    assert notice.points == 10 and notice.member == "张*明" and not notice.objected
    assert notice.notice_until == TODAY + timedelta(days=6)
    session.add(
        Objection(
            village_id=story.village.id,
            claim_id=notice.claim_id,
            name="李四",
            reason="没有这回事",
        )
    )
    session.commit()
    assert passbook.passbook(session, story.households[0], on=TODAY).notices[0].objected
    assert passbook.passbook(session, story.households[1], on=TODAY).notices == []


def test_a_claim_whose_notice_ended_shows_as_awaiting_posting_until_it_posts(session, story):
    [line] = passbook.passbook(session, story.households[0], on=TODAY, now=NOW).notices
    assert not line.due
    claim = session.get(Claim, line.claim_id)
    assert claim is not None and claim.notice_until is not None
    later = claim.notice_until + timedelta(minutes=1)
    [line] = passbook.passbook(session, story.households[0], on=TODAY, now=later).notices
    assert line.due and not line.objected
    assert post_due(session, now=later) == 1
    assert passbook.passbook(session, story.households[0], on=TODAY, now=later).notices == []


def test_a_household_without_entries_has_an_empty_passbook(session, world):
    book = passbook.passbook(session, world.households[2], on=TODAY)
    assert (book.current.score, book.current.balance) == (0, 0)
    assert book.history.items == [] and book.history.total == 0
    assert book.current.standings.month_village.rank == 1  # everyone has 0


def test_the_printed_statement_has_opening_lines_and_closing(session, story):
    [statement] = passbook.statements(
        session,
        story.households[0],
        date_from=date(2026, 11, 1),
        date_to=date(2026, 11, 14),
    )
    assert statement.opening == 5
    assert [(x.points, x.balance_after) for x in statement.lines] == [(10, 15), (-10, 5), (10, 15)]
    assert statement.closing == 15 and statement.score == 15
    assert (statement.credits, statement.debits) == (20, 10)
    assert statement.lines[0].member == "张小明"  # the household's own paper: full names
    [whole] = passbook.statements(session, story.households[0], date_to=TODAY)
    assert whole.opening == 0 and whole.closing == 12 and len(whole.lines) == 5


def test_statement_dates_must_be_in_order(session, world):
    with pytest.raises(ValidationError):
        passbook.statements(
            session, world.households[0], date_from=date(2026, 2, 1), date_to=date(2026, 1, 1)
        )


def _statements(session, fn):
    seen = []
    engine = session.get_bind()

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_passbook_reads_do_not_grow_with_the_ledger(session, story):
    household = story.households[0]

    def read():
        session.expire_all()
        book = passbook.passbook(session, household, on=TODAY, per_page=5)
        assert len(book.history.items) == 5

    before = _statements(session, read)
    for day in range(40):
        when = datetime(2026, 9, 1, 9) + timedelta(hours=day)
        _redeem(session, story, 1, 1, when)
        _entry(session, story, 0, when, kind=EntryKind.ADJUSTMENT, points=1, title="补记")
    after = _statements(session, read)
    assert len(after) == len(before)
    # Ranks come from period totals; the ledger is read for this one account only.
    on_ledger = [sql for sql in after if "ledger_entry" in sql]
    assert on_ledger and all("ledger_entry.account_id = " in sql for sql in on_ledger)


def _pdf_text(path):
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_printed_passbook_reads_like_a_bank_passbook(session, story, tmp_path):
    out = tmp_path / "passbook.pdf"
    result = print_passbook(
        session,
        story.households[0],
        out,
        date_from=date(2026, 11, 1),
        date_to=date(2026, 11, 30),
    )
    assert (result.pages, result.statements, result.lines) == (1, 1, 4)
    text = _pdf_text(out)
    for expected in (
        "积分存折",
        "桃源村",
        "张建华",
        "1号",
        f"VA-{story.households[0].id:04d}-1",
        "功德银行",
        "2026年11月1日 至 2026年11月30日",
        "上期结余",
        "本期结余",
        "更正：邻里吵架斗殴",
        "邻里吵架斗殴（已更正）",
        "兑换：肥皂",
        "张小明",
        "账本校验码",
    ):
        assert expected in text, expected
    rows = [line.split() for line in text.splitlines()]
    opening = next(r for r in rows if r and r[0] == "上期结余")
    closing = next(r for r in rows if r and r[0] == "本期结余")
    assert opening[-1] == "5" and closing[-1] == "12"
    assert closing[1:3] == ["+20", "\u221213"]  # in and out over the period


def test_a_long_printed_passbook_runs_over_pages(session, story, tmp_path):
    for hour in range(75):
        when = datetime(2026, 11, 16, 0) + timedelta(hours=hour)
        _entry(session, story, 0, when, kind=EntryKind.ADJUSTMENT, points=1, title="补记")
    out = tmp_path / "long.pdf"
    result = print_passbook(session, story.households[0], out, date_to=date(2026, 11, 30))
    assert result.lines == 80 and result.pages == 3
    text = _pdf_text(out)
    assert text.count("功德银行（续）") == 2
    assert "期初余额" in text and text.count("本期结余") == 1
    last = [line.split() for line in text.splitlines() if "本期结余" in line][0]
    assert last[-1] == str(12 + 75)
