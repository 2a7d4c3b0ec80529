"""The integrity report on a constructed village: its numbers, its flags, who may read it."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import PASSWORD, build_township, correct_entry, new_claim

from credits.errors import PermissionDenied
from credits.models import LedgerEntry, Role
from credits.oversight import exports
from credits.oversight.integrity import build_report
from credits.oversight.periods import parse_period
from credits.users import create_user
from credits.workflow import approve_claim, post_due, reject_claim

WORKDAY = datetime(2026, 11, 20, 2, 0)  # Friday 10:00 in the village
SATURDAY = datetime(2026, 11, 21, 2, 0)  # Saturday 10:00 in the village
NOV = parse_period("2026-11")


@pytest.fixture
def village(session):
    """VA with three recorders: two ordinary clerks and 张伟, who favours 张建华 at weekends."""
    town = build_township(session)
    w = town.a
    w.users["zhang"] = create_user(
        session,
        username="va-zhang",
        password=PASSWORD,
        role=Role.CLERK,
        display_name="张伟",
        village_id=w.village.id,
    )
    session.commit()
    for household in (1, 2, 1, 2):
        new_claim(session, w, rule="JY01", household=household, now=WORKDAY, approve_by="reviewer")
    for household in (1, 1, 1):
        new_claim(session, w, rule="JY01", household=household, now=WORKDAY, approve_by="reviewer2")
    for _ in range(4):
        new_claim(
            session, w, rule="JY01", household=0, clerk="zhang", now=SATURDAY, approve_by="reviewer"
        )
    clerk2 = [
        new_claim(session, w, rule="JY01", household=h, clerk="clerk2", now=WORKDAY)
        for h in (1, 2, 1, 2)
    ]
    for claim in clerk2[:2]:
        reject_claim(session, actor=w.users["admin"], claim_id=claim.id, reason="不实", now=WORKDAY)
    for claim in clerk2[2:]:
        approve_claim(session, actor=w.users["admin"], claim_id=claim.id, now=WORKDAY)
    # The village admin also records one award (reviewed by a reviewer).
    new_claim(
        session, w, rule="JY01", household=1, clerk="admin", now=WORKDAY, approve_by="reviewer"
    )
    post_due(session, now=datetime(2026, 11, 29))
    first = (
        session.query(LedgerEntry).filter_by(village_id=w.village.id, claim_id=clerk2[2].id).one()
    )
    correct_entry(session, w, first.id, "重复", now=datetime(2026, 11, 29, 3))
    return town


def _by_name(rows):
    return {r.name: r for r in rows}


def test_the_report_counts_what_each_recorder_did(session, village):
    report = build_report(session, village.admin, village.a.village.id, NOV)
    rows = _by_name(report.recorders)
    clerk, clerk2, zhang = rows["桃源村clerk"], rows["桃源村clerk2"], rows["张伟"]
    assert (clerk.awards, clerk.points, clerk.kin_awards, clerk.off_hours) == (7, 35, 0, 0)
    assert exports.pct(clerk.top5_share) == 100.0
    assert (zhang.awards, zhang.kin_awards, zhang.off_hours) == (4, 4, 4)
    assert (clerk2.awards, clerk2.rejected, clerk2.reversed) == (4, 2, 1)
    assert exports.pct(clerk2.undone_share) == 75.0


def test_outliers_are_flagged_against_the_villages_other_recorders(session, village):
    report = build_report(session, village.admin, village.a.village.id, NOV)
    rows = _by_name(report.recorders)
    assert rows["张伟"].flags == {"kin_share", "off_hours_share"}
    assert rows["桃源村clerk2"].flags == {"undone_share"}
    assert rows["桃源村clerk"].flags == set()
    assert rows["桃源村admin"].flags == set()  # one award: too few to compare


def test_a_reviewer_whose_approval_rate_stands_apart_is_flagged(session, village):
    report = build_report(session, village.admin, village.a.village.id, NOV)
    rows = _by_name(report.reviewers)
    admin, reviewer, reviewer2 = (
        rows["桃源村admin"],
        rows["桃源村reviewer"],
        rows["桃源村reviewer2"],
    )
    assert (admin.approved, admin.rejected) == (2, 2)
    assert (reviewer.approved, reviewer2.approved) == (9, 3)
    assert admin.flags == {"approval_rate"}
    assert reviewer.flags == set() and reviewer2.flags == set()


@pytest.mark.parametrize("viewer", ["reviewer", "admin", "reviewer2"])
def test_nobody_sees_a_row_about_themselves(session, village, viewer):
    user = village.a.users[viewer]
    report = build_report(session, user, village.a.village.id, NOV)
    ids = {r.user_id for r in report.recorders} | {r.user_id for r in report.reviewers}
    assert user.id not in ids
    assert len(report.reviewers) == 2
    # The rest is unchanged: the flags were computed with everyone.
    assert _by_name(report.recorders)["张伟"].flags == {"kin_share", "off_hours_share"}


@pytest.mark.parametrize("role", ["clerk", "cashier", "zhang"])
def test_clerks_and_cashiers_may_not_read_the_report(session, village, role):
    with pytest.raises(PermissionDenied):
        build_report(session, village.a.users[role], village.a.village.id, NOV)


def test_another_townships_admin_may_not_read_the_report(session, village):
    with pytest.raises(PermissionDenied):
        build_report(session, village.other_admin, village.a.village.id, NOV)
    with pytest.raises(PermissionDenied):
        build_report(session, village.b.users["reviewer"], village.a.village.id, NOV)


def test_the_xlsx_export_has_the_numbers_of_the_report(session, village):
    report = build_report(session, village.admin, village.a.village.id, NOV)
    book = exports.read_xlsx(exports.to_xlsx(exports.integrity_sheets(report, "zh_CN")))
    recorders = {row[0]: row for row in book["Recorders" if "Recorders" in book else "录入员"][1:]}
    assert recorders["张伟"][:8] == ["张伟", 4, 20, 100.0, 4, 100.0, 4, 100.0]
    assert recorders["张伟"][-1]  # the flags in words
