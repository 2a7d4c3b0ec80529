"""Card keys, resolving scanned cards, reissue and revoke, on every backend."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from credits import cards
from credits.cards import CardStatus
from credits.errors import PermissionDenied
from credits.models import AuditEvent, Household, Village

BASE = "http://192.168.1.10:5000"


def _token(household: Household) -> str:
    return cards.issue_url(BASE, household).rsplit("/", 1)[1]


def test_every_village_gets_its_own_card_key(session, world, other_world):
    keys = {world.village.card_secret, other_world.village.card_secret}
    assert len(keys) == 2
    for key in keys:
        assert len(bytes.fromhex(key)) == 32


def test_each_card_opens_its_own_household(session, world, other_world):
    for household in world.households + other_world.households:
        result = cards.resolve(session, cards.issue_url(BASE, household))
        assert result.status == CardStatus.OK
        assert result.household is not None and result.household.id == household.id


def test_a_card_signed_with_another_villages_key_is_invalid(session, world, other_world):
    victim = world.households[0]
    forged = cards.make_token(
        victim.village_id,
        victim.id,
        victim.card_version,
        bytes.fromhex(other_world.village.card_secret),
    )
    assert cards.resolve(session, forged).status == CardStatus.INVALID
    # Nor can a village's key vouch for a household of another village.
    stolen = cards.make_token(
        other_world.village.id,
        victim.id,
        victim.card_version,
        bytes.fromhex(other_world.village.card_secret),
    )
    assert cards.resolve(session, stolen).status == CardStatus.INVALID


def test_unknown_village_or_household_is_invalid(session, world):
    key = bytes.fromhex(world.village.card_secret)
    assert cards.resolve(session, cards.make_token(9_999, 1, 1, key)).status == "invalid"
    assert cards.resolve(session, cards.make_token(world.village.id, 9_999, 1, key)).status == (
        "invalid"
    )
    household = world.households[0]
    ahead = cards.make_token(world.village.id, household.id, household.card_version + 1, key)
    assert cards.resolve(session, ahead).status == CardStatus.INVALID


def test_reissue_replaces_the_old_card_and_is_audited(session, world):
    household = world.households[1]
    old = _token(household)
    cards.reissue_card(
        session, actor=world.users["clerk"], household_id=household.id, reason="丢失"
    )
    session.refresh(household)
    assert household.card_version == 2
    assert cards.resolve(session, old).status == CardStatus.REPLACED
    assert cards.resolve(session, old).household is None
    assert cards.resolve(session, _token(household)).status == CardStatus.OK
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "card.reissue"))
    assert event is not None and event.object_id == household.id
    assert event.before == {"card_version": 1, "card_revoked": False}
    assert event.after == {"card_version": 2, "card_revoked": False, "reason": "丢失"}


def test_a_double_submitted_reissue_bumps_the_version_once(session, world):
    household = world.households[0]
    for _ in range(2):
        cards.reissue_card(
            session, actor=world.users["clerk"], household_id=household.id, expected_version=1
        )
    session.refresh(household)
    assert household.card_version == 2
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "card.reissue")).all()
    assert len(events) == 1


def test_revoke_stops_the_card_and_reissue_gives_a_working_one(session, world):
    household = world.households[2]
    token = _token(household)
    cards.revoke_card(session, actor=world.users["admin"], household_id=household.id)
    cards.revoke_card(session, actor=world.users["admin"], household_id=household.id)
    assert cards.resolve(session, token).status == CardStatus.REVOKED
    assert (
        len(session.scalars(select(AuditEvent).where(AuditEvent.action == "card.revoke")).all())
        == 1
    )
    cards.reissue_card(session, actor=world.users["admin"], household_id=household.id)
    session.refresh(household)
    assert not household.card_revoked
    assert cards.resolve(session, token).status == CardStatus.REPLACED
    assert cards.resolve(session, _token(household)).status == CardStatus.OK


def test_a_deactivated_households_card_opens_nothing(session, world):
    household = world.households[0]
    household.active = False
    session.commit()
    assert cards.resolve(session, _token(household)).status == CardStatus.INACTIVE


@pytest.mark.parametrize("role", ["reviewer", "cashier"])
def test_only_recorders_and_managers_change_cards(session, world, role):
    household = world.households[0]
    with pytest.raises(PermissionDenied):
        cards.reissue_card(session, actor=world.users[role], household_id=household.id)
    session.rollback()
    with pytest.raises(PermissionDenied):
        cards.revoke_card(session, actor=world.users[role], household_id=household.id)
    session.rollback()
    session.refresh(household)
    assert (household.card_version, household.card_revoked) == (1, False)


def test_a_clerk_cannot_change_another_villages_cards(session, world, other_world):
    household = other_world.households[0]
    with pytest.raises(PermissionDenied):
        cards.revoke_card(session, actor=world.users["clerk"], household_id=household.id)
    session.rollback()
    session.refresh(household)
    assert not household.card_revoked


def test_staff_lookup_stays_inside_the_village(session, world, other_world):
    mine, theirs = world.households[0], other_world.households[0]
    village = world.village
    assert cards.resolve_in_village(session, village, cards.issue_url(BASE, mine)).ok
    assert cards.resolve_in_village(session, village, _token(mine).lower()).ok
    assert (
        cards.resolve_in_village(session, village, cards.issue_url(BASE, theirs)).status
        == CardStatus.INVALID
    )
    # Even a replaced card of another village must not say it exists.
    cards.reissue_card(session, actor=other_world.users["clerk"], household_id=theirs.id)
    old_theirs = cards.make_token(
        theirs.village_id, theirs.id, 1, bytes.fromhex(other_world.village.card_secret)
    )
    assert cards.resolve_in_village(session, village, old_theirs).status == CardStatus.INVALID


def test_staff_can_type_the_printed_card_number(session, world, other_world):
    household = world.households[1]
    number = cards.card_number(household)
    assert number == f"VA-{household.id:04d}-1"
    result = cards.resolve_in_village(session, world.village, number)
    assert result.ok and result.household.id == household.id
    assert cards.resolve_in_village(session, world.village, number.lower()).ok
    other = cards.card_number(other_world.households[0])
    assert cards.resolve_in_village(session, world.village, other).status == CardStatus.INVALID
    cards.reissue_card(session, actor=world.users["clerk"], household_id=household.id)
    assert cards.resolve_in_village(session, world.village, number).status == "replaced"


def test_cards_survive_a_new_server_and_secret_key(session, world, session_factory):
    # The key lives in the database: a fresh session (another server) opens the same card.
    url = cards.issue_url(BASE, world.households[0])
    session.commit()
    fresh = session_factory()
    try:
        assert cards.resolve(fresh, url).ok
    finally:
        fresh.close()


def test_a_village_row_added_directly_still_gets_its_own_key(session, world):
    village = Village(region_id=world.village.region_id, name="石桥村", code="VZ")
    session.add(village)
    session.commit()
    assert len(bytes.fromhex(village.card_secret)) == 32
    assert village.card_secret != world.village.card_secret
