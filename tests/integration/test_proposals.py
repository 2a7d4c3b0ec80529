"""Villagers' proposals: a draft, confirmed once into one claim, or declined with a reason."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from credits import proposals
from credits.errors import NotFound, PermissionDenied, RecusalError, ValidationError
from credits.models import Claim, ClaimState, Proposal
from credits.proposals import ProposalDecided, ProposalInput, TooManyProposals

NOW = datetime(2026, 11, 20, 2, 0)
DAY = date(2026, 11, 19)


def _propose(session, world, household=0, rule="JY01", ip="10.0.0.1", **fields):
    data = ProposalInput(rule_id=world.rule(rule).id, deed_date=fields.pop("day", DAY), **fields)
    return proposals.propose(session, world.households[household], data, ip=ip, now=NOW)


def test_a_proposal_arrives_as_a_draft_in_the_clerks_queue(session, world):
    _propose(session, world, note="帮邻居收麦", name="张建华", phone="13812345678")
    queue = proposals.queue(session, world.users["clerk"], world.village.id)
    assert [(p.household, p.rule_title, p.phone) for p in queue] == [
        ("张建华", world.rule("JY01").title, "138****5678")
    ]
    shown = proposals.for_household(session, world.households[0])
    assert shown[0].state == "draft" and shown[0].household == "张*华"


def test_confirming_twice_records_one_claim(session, world):
    proposal = _propose(session, world, note="拾到钱包")
    clerk = world.users["clerk"]
    claim = proposals.confirm(
        session, actor=clerk, village_id=world.village.id, proposal_id=proposal.id, now=NOW
    )
    assert (claim.state, claim.points, claim.note) == (ClaimState.RECORDED, 5, "拾到钱包")
    assert claim.recorded_by_id == clerk.id
    with pytest.raises(ProposalDecided):
        proposals.confirm(
            session,
            actor=world.users["clerk2"],
            village_id=world.village.id,
            proposal_id=proposal.id,
            now=NOW,
        )
    assert session.scalar(select(func.count(Claim.id))) == 1
    stored = session.get(Proposal, proposal.id, populate_existing=True)
    assert (stored.state, stored.claim_id) == ("confirmed", claim.id)
    assert proposals.queue(session, clerk, world.village.id) == []


def test_a_declined_proposal_shows_its_reason_and_cannot_be_confirmed(session, world):
    proposal = _propose(session, world)
    with pytest.raises(ValidationError):
        proposals.decline(
            session,
            actor=world.users["clerk"],
            village_id=world.village.id,
            proposal_id=proposal.id,
            reason="  ",
        )
    proposals.decline(
        session,
        actor=world.users["clerk"],
        village_id=world.village.id,
        proposal_id=proposal.id,
        reason="当天没有此事",
    )
    line = proposals.for_household(session, world.households[0])[0]
    assert (line.state, line.decline_reason) == ("declined", "当天没有此事")
    with pytest.raises(ProposalDecided):
        proposals.confirm(
            session,
            actor=world.users["clerk"],
            village_id=world.village.id,
            proposal_id=proposal.id,
            now=NOW,
        )
    assert session.scalar(select(func.count(Claim.id))) == 0


def test_a_refused_claim_leaves_the_proposal_a_draft(session, world):
    proposal = _propose(session, world, household=2)  # reviewer2 lives there: recusal
    session.commit()
    world.users["clerk"].household_id = world.households[2].id
    session.commit()
    with pytest.raises(RecusalError):
        proposals.confirm(
            session,
            actor=world.users["clerk"],
            village_id=world.village.id,
            proposal_id=proposal.id,
            now=NOW,
        )
    assert session.get(Proposal, proposal.id, populate_existing=True).state == "draft"


def test_only_staff_who_record_may_decide(session, world, other_world):
    proposal = _propose(session, world)
    for actor in (world.users["reviewer"], other_world.users["clerk"]):
        with pytest.raises(PermissionDenied):
            proposals.confirm(
                session, actor=actor, village_id=world.village.id, proposal_id=proposal.id, now=NOW
            )
    with pytest.raises(NotFound):  # another village's proposal id
        proposals.confirm(
            session,
            actor=other_world.users["clerk"],
            village_id=other_world.village.id,
            proposal_id=proposal.id,
            now=NOW,
        )


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"day": date(2026, 11, 25)}, ValidationError),  # in the future
        ({"day": date(2026, 8, 1)}, ValidationError),  # too long ago
        ({"note": "很" * 201}, ValidationError),
        ({"phone": "call me"}, ValidationError),
        ({"rule": "KF03"}, ValidationError),  # a deduction cannot be proposed
    ],
)
def test_bad_proposals_are_refused_and_store_nothing(session, world, fields, error):
    with pytest.raises(error):
        _propose(session, world, **fields)
    session.rollback()
    assert session.scalar(select(func.count(Proposal.id))) == 0


def test_another_villages_rule_is_not_found(session, world, other_world):
    data = ProposalInput(rule_id=other_world.rule("JY01").id, deed_date=DAY)
    with pytest.raises(NotFound):
        proposals.propose(session, world.households[0], data, now=NOW)
    with pytest.raises(NotFound):
        proposals.propose(session, world.households[0], ProposalInput(10**19, DAY), now=NOW)


def test_nul_bytes_are_dropped_from_the_text(session, world):
    proposal = _propose(session, world, note="好\x00事", name="\x00王")
    assert (proposal.note, proposal.name) == ("好事", "王")


def test_a_card_and_an_address_are_limited_per_day(session, world, monkeypatch):
    monkeypatch.setattr(proposals, "PER_ADDRESS_DAY", 7)
    for _ in range(proposals.PER_CARD_DAY):
        _propose(session, world, household=0, ip="10.0.0.1")
    with pytest.raises(TooManyProposals):  # the card, from another address
        _propose(session, world, household=0, ip="10.0.0.2")
    session.rollback()
    _propose(session, world, household=1, ip="10.0.0.1")
    _propose(session, world, household=1, ip="10.0.0.1")
    with pytest.raises(TooManyProposals):  # the address, with another card
        _propose(session, world, household=2, ip="10.0.0.1")
    session.rollback()
    _propose(session, world, household=2, ip="10.0.0.3")
    assert session.scalar(select(func.count(Proposal.id))) == 8
