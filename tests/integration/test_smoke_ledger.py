"""A first pass through the life of a claim, on every backend."""

from datetime import timedelta

from conftest import NOW, new_claim

from credits.ledger import verify
from credits.models import Balance, ClaimState
from credits.workflow import post_due


def test_claim_posts_after_notice_and_balance_moves(session, world):
    claim = new_claim(session, world, approve_by="reviewer")
    assert claim.state == ClaimState.NOTICED
    assert post_due(session, now=NOW + timedelta(days=6)) == 0
    assert post_due(session, now=NOW + timedelta(days=7)) == 1
    balance = session.get(Balance, claim.account_id)
    assert (balance.score, balance.balance) == (10, 10)
    assert verify(session).ok
