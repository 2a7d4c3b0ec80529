"""Bulk review is all or nothing; the review queue shows what a reviewer needs, oldest first."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from conftest import NOW, new_claim
from PIL import Image
from sqlalchemy import select

from credits import queries
from credits.errors import FourEyesError, InvalidState, RecusalError, ValidationError
from credits.evidence import LocalPhotoStore, store_photo
from credits.models import AuditEvent, Claim, ClaimState
from credits.workflow import (
    BatchRefused,
    ClaimInput,
    approve_claim,
    approve_many,
    record_batch,
    record_claim,
    reject_many,
)


def states(session, claims) -> list[str]:
    session.expire_all()
    return [session.get(Claim, c.id).state for c in claims]


@pytest.fixture
def three(session, world) -> list[Claim]:
    """One pending claim for each household, recorded an hour apart."""
    return [
        new_claim(session, world, rule="XL05", household=i, now=NOW + timedelta(hours=i))
        for i in range(3)
    ]


def test_approve_many_starts_the_notice_of_every_claim(session, world, three):
    approved = approve_many(
        session, actor=world.users["reviewer"], claim_ids=[c.id for c in three], now=NOW
    )
    assert [c.id for c in approved] == [c.id for c in three]
    assert states(session, three) == [ClaimState.NOTICED] * 3
    assert {session.get(Claim, c.id).notice_until for c in three} == {NOW + timedelta(days=7)}
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "claim.approve"))
    assert len(events.all()) == 3


def test_recusal_refuses_the_whole_bulk_approval(session, world, three):
    # reviewer2 lives in household 2 (欧阳明华).
    with pytest.raises(BatchRefused) as caught:
        approve_many(session, actor=world.users["reviewer2"], claim_ids=[c.id for c in three])
    assert isinstance(caught.value.cause, RecusalError)
    assert caught.value.status == 403
    text = caught.value.translated()
    assert text.startswith("未做任何更改") and "欧阳明华" in text
    assert states(session, three) == [ClaimState.RECORDED] * 3


def test_four_eyes_refuses_the_whole_bulk_approval(session, world, three):
    own = new_claim(session, world, rule="XL05", household=1, clerk="admin")
    with pytest.raises(BatchRefused) as caught:
        approve_many(session, actor=world.users["admin"], claim_ids=[three[0].id, own.id])
    assert isinstance(caught.value.cause, FourEyesError)
    assert "李秀兰" in caught.value.subject
    assert states(session, [three[0], own]) == [ClaimState.RECORDED] * 2


def test_a_claim_already_decided_refuses_the_bulk(session, world, three):
    approve_claim(session, actor=world.users["reviewer"], claim_id=three[1].id, now=NOW)
    with pytest.raises(BatchRefused) as caught:
        reject_many(
            session,
            actor=world.users["reviewer"],
            claim_ids=[c.id for c in three],
            reason="重复申报",
        )
    assert isinstance(caught.value.cause, InvalidState)
    assert states(session, three) == [ClaimState.RECORDED, ClaimState.NOTICED, ClaimState.RECORDED]


def test_reject_many_needs_a_reason_and_keeps_it(session, world, three):
    ids = [c.id for c in three]
    with pytest.raises(ValidationError):
        reject_many(session, actor=world.users["reviewer"], claim_ids=ids, reason="  ")
    assert states(session, three) == [ClaimState.RECORDED] * 3
    reject_many(session, actor=world.users["reviewer"], claim_ids=ids, reason="照片不清楚")
    assert states(session, three) == [ClaimState.REJECTED] * 3
    assert {session.get(Claim, i).reject_reason for i in ids} == {"照片不清楚"}


def test_bulk_needs_a_tick(session, world):
    with pytest.raises(ValidationError):
        approve_many(session, actor=world.users["reviewer"], claim_ids=[])


def test_a_claim_of_another_village_refuses_the_bulk_without_naming_it(
    session, world, other_world, three
):
    foreign = new_claim(session, other_world, rule="XL05")
    with pytest.raises(BatchRefused) as caught:
        approve_many(session, actor=world.users["reviewer"], claim_ids=[three[0].id, foreign.id])
    assert caught.value.subject == f"#{foreign.id}"
    assert other_world.households[0].head_name not in caught.value.translated()
    assert states(session, [three[0], foreign]) == [ClaimState.RECORDED] * 2


def test_queue_is_oldest_first_and_filters(session, world, three):
    late = new_claim(session, world, rule="XL01", household=0, clerk="clerk2", now=NOW)
    new_claim(session, world, rule="XL05", household=1, approve_by="reviewer")  # not waiting
    page = queries.review_queue(session, world.village.id)
    assert [item.claim.id for item in page.items] == [
        three[0].id,
        late.id,
        three[1].id,
        three[2].id,
    ]
    assert page.total == 4
    item = page.items[0]
    assert item.claim.household.head_name == "张建华"
    assert item.claim.recorded_by.id == world.users["clerk"].id
    by_rule = queries.review_queue(session, world.village.id, rule_id=world.rule("XL01").id)
    assert [i.claim.id for i in by_rule.items] == [late.id]
    by_recorder = queries.review_queue(
        session, world.village.id, recorder_id=world.users["clerk2"].id
    )
    assert [i.claim.id for i in by_recorder.items] == [late.id]
    group_id = world.households[0].group_id
    assert queries.review_queue(session, world.village.id, group_id=group_id).total == 4
    assert queries.review_queue(session, world.village.id, group_id=group_id + 999).total == 0
    filters = queries.review_filters(session, world.village.id)
    assert {r.id for r in filters["rules"]} == {world.rule("XL05").id, world.rule("XL01").id}
    assert {r.id for r in filters["recorders"]} == {
        world.users["clerk"].id,
        world.users["clerk2"].id,
    }


def test_queue_pages(session, world):
    for i in range(3):
        new_claim(session, world, rule="XL05", household=i)
    page = queries.review_queue(session, world.village.id, page=2, per_page=2)
    assert page.total == 3 and len(page.items) == 1 and page.pages == 2


def _jpeg(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(out, "JPEG")
    return out.getvalue()


def test_queue_shows_photos_and_flags_a_photo_used_for_two_claims(session, world, tmp_path):
    store = LocalPhotoStore(tmp_path)
    clerk = world.users["clerk"]

    def upload(colour):
        return store_photo(session, world.village.id, _jpeg(colour), store, actor=clerk, now=NOW)

    def claim(household, photos):
        return record_claim(
            session,
            actor=clerk,
            now=NOW,
            data=ClaimInput(
                household_id=world.households[household].id,
                rule_id=world.rule("XL05").id,
                deed_date=NOW.date(),
                idempotency_key=f"k{household}",
                evidence_ids=tuple(p.id for p in photos),
            ),
        )

    first = claim(0, [upload((250, 0, 0)), upload((0, 250, 0))])
    second = claim(1, [upload((250, 0, 0))])  # the same picture again
    # A batch shares one file between its claims: that is not reuse.
    shared = upload((0, 0, 250))
    record_batch(
        session,
        actor=clerk,
        rule_id=world.rule("ZY01").id,
        deed_date=NOW.date(),
        targets=[(world.households[0].id, None), (world.households[2].id, None)],
        idempotency_key="batch-photos",
        evidence_ids=[shared.id],
        now=NOW,
    )
    items = {i.claim.id: i for i in queries.review_queue(session, world.village.id).items}
    assert len(items[first.id].photos) == 2 and items[first.id].reused_photos == 1
    assert items[second.id].reused_photos == 1
    batch_items = [i for cid, i in items.items() if cid not in (first.id, second.id)]
    assert [len(i.photos) for i in batch_items] == [1, 1]
    assert [i.reused_photos for i in batch_items] == [0, 0]


def test_recent_claims_are_the_recorders_own_newest_first(session, world, three):
    new_claim(session, world, rule="XL05", clerk="clerk2")
    recent = queries.recent_claims(session, world.village.id, world.users["clerk"].id)
    assert [c.id for c in recent] == [c.id for c in reversed(three)]
