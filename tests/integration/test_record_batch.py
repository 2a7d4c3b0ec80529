"""Recording with photos, and batch awards: one submission, all or nothing, idempotent."""

from __future__ import annotations

import io
import uuid

import pytest
from conftest import NOW, new_claim
from PIL import Image
from sqlalchemy import func, select

from credits.errors import (
    IdempotencyConflict,
    PermissionDenied,
    RecusalError,
    ValidationError,
)
from credits.evidence import LocalPhotoStore, store_photo
from credits.models import AuditEvent, Claim, Evidence
from credits.workflow import BatchRefused, ClaimInput, record_batch, record_claim


def jpeg(colour=(200, 30, 30), size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def store(tmp_path) -> LocalPhotoStore:
    return LocalPhotoStore(tmp_path / "uploads")


def photo(session, world, store, clerk="clerk", colour=(200, 30, 30), key=None) -> Evidence:
    return store_photo(
        session,
        world.village.id,
        jpeg(colour),
        store,
        actor=world.users[clerk],
        submission_key=key,
        now=NOW,
    )


def claim_count(session) -> int:
    return session.scalar(select(func.count(Claim.id)))


def batch(session, world, *, rule="ZY01", homes=(0, 1, 2), key=None, clerk="clerk", **kw):
    targets = kw.pop("targets", [(world.households[i].id, None) for i in homes])
    return record_batch(
        session,
        actor=world.users[clerk],
        rule_id=world.rule(rule).id,
        deed_date=NOW.date(),
        targets=targets,
        note=kw.pop("note", "村里大扫除"),
        idempotency_key=key or uuid.uuid4().hex,
        now=NOW,
        **kw,
    )


# ---- photos on a single claim ----


def test_store_photo_keeps_a_clean_file_and_thumbnail(session, world, store):
    ev = photo(session, world, store)
    assert ev.claim_id is None and ev.uploaded_by_id == world.users["clerk"].id
    assert ev.path.startswith(f"{world.village.id}/") and ev.thumb_path.endswith("-thumb.jpg")
    assert Image.open(io.BytesIO(store.read(ev.path))).size == (64, 48)
    assert ev.width == 64 and ev.bytes == len(store.read(ev.path))


def test_the_same_photo_of_the_same_submission_is_stored_once(session, world, store):
    first = photo(session, world, store, key="k1")
    again = photo(session, world, store, key="k1")
    other_form = photo(session, world, store, key="k2")
    assert again.id == first.id and other_form.id != first.id


def test_a_cashier_may_not_upload_evidence(session, world, store):
    with pytest.raises(PermissionDenied):
        photo(session, world, store, clerk="cashier")


def test_a_claim_takes_its_photos_in_the_same_transaction(session, world, store):
    photos = [photo(session, world, store, colour=(i * 40, 0, 0)) for i in range(2)]
    claim = record_claim(
        session,
        actor=world.users["clerk"],
        now=NOW,
        data=ClaimInput(
            household_id=world.households[0].id,
            rule_id=world.rule("XL02").id,  # 好媳妇 +20, evidence required
            deed_date=NOW.date(),
            idempotency_key="with-photos",
            evidence_ids=tuple(p.id for p in photos),
        ),
    )
    session.expire_all()
    assert {e.claim_id for e in session.scalars(select(Evidence))} == {claim.id}
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "claim.record"))
    assert event.after["evidence_ids"] == [p.id for p in photos]


def test_a_rule_that_needs_evidence_refuses_a_claim_without_photo(session, world):
    with pytest.raises(ValidationError) as caught:
        new_claim(session, world, rule="XL02")
    assert caught.value.message == "This item needs a photo as evidence."
    assert caught.value.translated() == "此项需要上传照片作为凭证"
    assert claim_count(session) == 0


def test_a_deduction_needing_evidence_needs_both_note_and_photo(session, world, store):
    with pytest.raises(ValidationError):
        new_claim(session, world, rule="KF01", note="焚烧秸秆")
    ev = photo(session, world, store)
    claim = record_claim(
        session,
        actor=world.users["clerk"],
        now=NOW,
        data=ClaimInput(
            household_id=world.households[1].id,
            rule_id=world.rule("KF01").id,
            deed_date=NOW.date(),
            idempotency_key=uuid.uuid4().hex,
            note="焚烧秸秆",
            evidence_ids=(ev.id,),
        ),
    )
    assert claim.points == -5


def _claim_with(session, world, evidence_ids, key=None, clerk="clerk"):
    return record_claim(
        session,
        actor=world.users[clerk],
        now=NOW,
        data=ClaimInput(
            household_id=world.households[0].id,
            rule_id=world.rule("XL05").id,
            deed_date=NOW.date(),
            idempotency_key=key or uuid.uuid4().hex,
            evidence_ids=tuple(evidence_ids),
        ),
    )


def test_evidence_of_another_village_is_refused(session, world, other_world, store):
    foreign = photo(session, other_world, store)
    with pytest.raises(ValidationError):
        _claim_with(session, world, [foreign.id])
    assert claim_count(session) == 0
    session.refresh(foreign)
    assert foreign.claim_id is None


def test_evidence_of_another_clerk_or_already_attached_is_refused(session, world, store):
    theirs = photo(session, world, store, clerk="clerk2")
    with pytest.raises(ValidationError):
        _claim_with(session, world, [theirs.id])
    mine = photo(session, world, store)
    _claim_with(session, world, [mine.id])
    with pytest.raises(ValidationError):
        _claim_with(session, world, [mine.id])
    assert claim_count(session) == 1


def test_at_most_five_photos_on_one_claim(session, world, store):
    photos = [photo(session, world, store, colour=(i * 30, 10, 10)) for i in range(6)]
    with pytest.raises(ValidationError) as caught:
        _claim_with(session, world, [p.id for p in photos])
    assert "At most" in caught.value.message
    assert claim_count(session) == 0


def test_a_retry_with_the_same_key_and_photos_records_once(session, world, store):
    ev = photo(session, world, store, key="form-1")
    first = _claim_with(session, world, [ev.id], key="form-1")
    again = photo(session, world, store, key="form-1")  # the browser re-sent the photo
    assert again.id == ev.id
    assert _claim_with(session, world, [again.id], key="form-1").id == first.id
    other = photo(session, world, store, colour=(0, 200, 0))
    with pytest.raises(IdempotencyConflict):
        _claim_with(session, world, [other.id], key="form-1")
    assert claim_count(session) == 1


# ---- batch awards ----


def test_a_batch_records_one_claim_per_target_in_one_go(session, world):
    claims = batch(session, world, key="batch-0001")
    assert [c.household_id for c in claims] == [h.id for h in world.households]
    assert {c.points for c in claims} == {5}
    assert [c.idempotency_key for c in claims] == ["batch-0001.1", "batch-0001.2", "batch-0001.3"]
    assert claim_count(session) == 3
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "claim.batch"))
    assert event.after["claims"] == [c.id for c in claims]


def test_a_batch_may_name_members_of_one_household(session, world):
    home = world.households[0]
    targets = [(home.id, m.id) for m in home.members] + [(home.id, home.members[0].id)]
    claims = batch(session, world, targets=targets)
    assert sorted(c.member_id for c in claims) == sorted(m.id for m in home.members)


def test_the_same_batch_sent_twice_records_once(session, world):
    first = batch(session, world, key="batch-again")
    # The second send lists the ticks in another order: still the same batch.
    again = batch(session, world, homes=(2, 0, 1), key="batch-again")
    assert [c.id for c in again] == [c.id for c in first]
    assert claim_count(session) == 3


def test_a_batch_key_reused_for_other_ticks_is_refused(session, world):
    batch(session, world, homes=(0, 1), key="batch-reuse")
    with pytest.raises(IdempotencyConflict):
        batch(session, world, homes=(0, 1, 2), key="batch-reuse")
    with pytest.raises(IdempotencyConflict):
        batch(session, world, homes=(0, 1), key="batch-reuse", note="另一件事")
    assert claim_count(session) == 2


def test_recusal_refuses_the_whole_batch_and_names_the_household(session, world):
    clerk = world.users["clerk"]
    clerk.household_id = world.households[1].id
    session.commit()
    with pytest.raises(BatchRefused) as caught:
        batch(session, world)
    assert isinstance(caught.value.cause, RecusalError)
    assert caught.value.status == 403
    assert "李秀兰" in caught.value.translated()
    assert caught.value.translated().startswith("未录入任何一条")
    assert claim_count(session) == 0


def test_a_cap_refuses_the_whole_batch(session, world):
    new_claim(session, world, rule="XL01", household=2)
    new_claim(session, world, rule="XL01", household=2)  # 20 of 20 this month
    with pytest.raises(BatchRefused) as caught:
        batch(session, world, rule="XL01")
    assert "欧阳明华" in caught.value.translated()
    assert claim_count(session) == 2


def test_an_inactive_household_refuses_the_whole_batch(session, world):
    world.households[0].active = False
    session.commit()
    with pytest.raises(BatchRefused) as caught:
        batch(session, world)
    assert caught.value.subject.startswith("张建华")
    assert claim_count(session) == 0


def test_a_household_of_another_village_is_refused_without_naming_it(session, world, other_world):
    targets = [(world.households[0].id, None), (other_world.households[0].id, None)]
    with pytest.raises(BatchRefused) as caught:
        batch(session, world, targets=targets)
    assert other_world.households[0].head_name not in caught.value.translated()
    assert claim_count(session) == 0


def test_a_batch_for_a_rule_needing_evidence_needs_a_photo(session, world, store):
    with pytest.raises(BatchRefused) as caught:
        batch(session, world, rule="ZY03")  # 抢险救灾 +20, evidence required
    assert caught.value.cause.message == "This item needs a photo as evidence."
    assert claim_count(session) == 0
    ev = photo(session, world, store)
    claims = batch(session, world, rule="ZY03", evidence_ids=[ev.id])
    rows = session.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert sorted(r.claim_id for r in rows) == sorted(c.id for c in claims)
    assert {r.path for r in rows} == {ev.path}  # one stored file, a row per claim


def test_a_batch_needs_at_least_one_tick_and_a_valid_key(session, world):
    with pytest.raises(ValidationError):
        batch(session, world, targets=[])
    with pytest.raises(ValidationError):
        batch(session, world, key="bad key%")
    assert claim_count(session) == 0


def test_a_reviewer_may_not_record_a_batch(session, world):
    with pytest.raises(PermissionDenied):
        batch(session, world, clerk="reviewer")
