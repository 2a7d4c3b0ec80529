"""The demo village is a believable, consistent village."""

from collections import Counter

from sqlalchemy import select

from credits.demo import load_demo
from credits.evidence import LocalPhotoStore
from credits.ledger import verify
from credits.models import Claim, Evidence, Household, Role, Scheme, User


def test_demo_village_has_history_pending_work_and_every_role(session, tmp_path):
    village = load_demo(session, households=15, photos=LocalPhotoStore(tmp_path))
    assert verify(session).ok
    assert {s.key for s in session.scalars(select(Scheme))} == {"merit_bank", "family_bank"}
    assert len(session.scalars(select(Household)).all()) == 15
    states = Counter(session.scalars(select(Claim.state)))
    assert states["posted"] > 50 and states["noticed"] > 0 and states["recorded"] > 0
    assert {u.role for u in session.scalars(select(User))} == set(Role) - {Role.COUNTY_ADMIN}
    photos = session.scalars(select(Evidence)).all()
    assert photos and all((tmp_path / p.path).exists() for p in photos)
    assert village.code == "TY001"
