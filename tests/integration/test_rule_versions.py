"""Rules are versioned: an entry keeps the points and wording it was awarded under."""

from datetime import timedelta

import pytest
from conftest import NOW, new_claim
from sqlalchemy import func, select

from credits.errors import PermissionDenied, ValidationError
from credits.models import LedgerEntry, RuleVersion
from credits.rules import RuleInput, change_rule, create_rule, set_rule_active
from credits.workflow import post_due

RAISED = RuleInput(category="孝老爱亲", title="悉心照料年迈父母", points=20, cap_month=40)


def test_an_entry_keeps_the_rule_version_it_was_recorded_under(session, world):
    rule = world.rule("XL01")
    old = new_claim(session, world, approve_by="reviewer")
    change_rule(session, actor=world.users["admin"], rule_id=rule.id, data=RAISED)
    new = new_claim(session, world, household=1, approve_by="reviewer")
    post_due(session, now=NOW + timedelta(days=8))

    entries = {e.claim_id: e for e in session.scalars(select(LedgerEntry))}
    assert (entries[old.id].points, entries[old.id].title) == (10, "照顾年迈父母，生活起居周到")
    assert (entries[new.id].points, entries[new.id].title) == (20, "悉心照料年迈父母")
    assert rule.version == 2


def test_saving_an_unchanged_rule_makes_no_new_version(session, world):
    rule = world.rule("XL01")
    same = RuleInput(
        category=rule.category,
        title=rule.title,
        points=rule.points,
        cap_month=rule.cap_month,
        cap_year=rule.cap_year,
        evidence_required=rule.evidence_required,
        red_line=rule.red_line,
    )
    change_rule(session, actor=world.users["admin"], rule_id=rule.id, data=same)
    versions = session.scalar(select(func.count()).where(RuleVersion.rule_id == rule.id))
    assert (rule.version, versions) == (1, 1)


def test_only_village_admins_change_the_catalogue(session, world):
    for user in ("clerk", "reviewer", "cashier"):
        with pytest.raises(PermissionDenied):
            change_rule(
                session, actor=world.users[user], rule_id=world.rule("XL01").id, data=RAISED
            )
        with pytest.raises(PermissionDenied):
            create_rule(session, actor=world.users[user], scheme_id=world.scheme.id, data=RAISED)


def test_new_rules_get_their_own_code_and_bad_rules_are_refused(session, world):
    admin = world.users["admin"]
    first = create_rule(session, actor=admin, scheme_id=world.scheme.id, data=RAISED)
    second = create_rule(session, actor=admin, scheme_id=world.scheme.id, data=RAISED)
    assert first.code != second.code
    for bad in (
        RuleInput(category="孝老爱亲", title="零分", points=0),
        RuleInput(category="孝老爱亲", title="上限太小", points=10, cap_month=5),
        RuleInput(category="孝老爱亲", title="加分红线", points=10, red_line=True),
        RuleInput(category="孝老爱亲", title="很长" * 40, points=10),
    ):
        with pytest.raises(ValidationError) as excinfo:
            create_rule(session, actor=admin, scheme_id=world.scheme.id, data=bad)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in excinfo.value.translated())


def test_a_retired_rule_cannot_be_recorded_but_its_history_stays(session, world):
    rule = world.rule("XL01")
    new_claim(session, world, approve_by="reviewer")
    set_rule_active(session, actor=world.users["admin"], rule_id=rule.id, active=False)
    with pytest.raises(ValidationError):
        new_claim(session, world, household=1)
    assert post_due(session, now=NOW + timedelta(days=8)) == 1
