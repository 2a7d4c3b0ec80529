"""Redemption at the counter: balance not score, idempotency, recusal, cancel rules, limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import PASSWORD
from shop_support import NOW, give_points, key, stocked_item
from sqlalchemy import select

from credits.errors import RecusalError, ValidationError
from credits.ledger import verify
from credits.models import Balance, EntryKind, LedgerEntry, RedemptionState, ShopItem
from credits.shop.cancel import cancel_redemption
from credits.shop.delivery import confirm_delivered, overdue, to_deliver
from credits.shop.errors import MonthlyLimit, NotEnoughPoints, OutOfStock, SecondPersonNeeded
from credits.shop.redemption import allocate, purses, redeem
from credits.shop.settings import save_settings
from credits.workflow import ensure_account


def test_a_redemption_spends_balance_and_never_score(session, world):
    home = world.households[0]
    give_points(session, home, world.scheme, 100)
    soap = stocked_item(session, world.users["cashier"], world.village.id)
    r = redeem(
        session,
        actor=world.users["cashier"],
        household_id=home.id,
        lines=[(soap.id, 3)],
        idempotency_key=key(),
        now=NOW,
    )
    assert r.total == 15 and r.balance_after == 85
    (purse,) = purses(session, home)
    assert (purse.balance, purse.score) == (85, 100)
    entry = session.get(LedgerEntry, r.payments[0].entry_id)
    assert (entry.kind, entry.points, entry.score_delta, entry.balance_delta) == (
        EntryKind.REDEMPTION,
        -15,
        0,
        -15,
    )
    assert session.get(ShopItem, soap.id).stock == 7
    assert verify(session).ok


def test_a_double_tap_is_one_redemption(session, world):
    home = world.households[0]
    give_points(session, home, world.scheme, 100)
    soap = stocked_item(session, world.users["cashier"], world.village.id)
    k = key()
    args = dict(actor=world.users["cashier"], household_id=home.id, lines=[(soap.id, 2)], now=NOW)
    first = redeem(session, idempotency_key=k, **args)
    second = redeem(session, idempotency_key=k, **args)
    assert first.id == second.id
    assert session.get(ShopItem, soap.id).stock == 8
    assert purses(session, home)[0].balance == 90


def test_nobody_redeems_or_cancels_for_their_own_household(session, world):
    cashier = world.users["cashier"]
    home = world.households[0]
    give_points(session, home, world.scheme, 100)
    soap = stocked_item(session, cashier, world.village.id)
    r = redeem(
        session,
        actor=cashier,
        household_id=home.id,
        lines=[(soap.id, 1)],
        idempotency_key=key(),
        now=NOW,
    )
    cashier.household_id = home.id
    session.commit()
    with pytest.raises(RecusalError):
        redeem(
            session,
            actor=cashier,
            household_id=home.id,
            lines=[(soap.id, 1)],
            idempotency_key=key(),
            now=NOW,
        )
    session.rollback()
    with pytest.raises(RecusalError):
        cancel_redemption(session, actor=cashier, redemption_id=r.id, reason="x", now=NOW)


def test_same_day_cancel_restores_stock_and_balance_with_a_reversal(session, world):
    cashier = world.users["cashier"]
    home = world.households[0]
    give_points(session, home, world.scheme, 100)
    soap = stocked_item(session, cashier, world.village.id)
    r = redeem(
        session,
        actor=cashier,
        household_id=home.id,
        lines=[(soap.id, 4)],
        idempotency_key=key(),
        now=NOW,
    )
    cancel_redemption(
        session, actor=cashier, redemption_id=r.id, reason="拿错了", now=NOW + timedelta(hours=3)
    )
    assert r.state == RedemptionState.CANCELLED
    assert session.get(ShopItem, soap.id).stock == 10
    assert purses(session, home)[0].balance == 100
    reversal = session.get(LedgerEntry, r.payments[0].reversal_id)
    assert reversal.reverses_id == r.payments[0].entry_id and reversal.score_delta == 0
    with pytest.raises(Exception) as again:
        cancel_redemption(session, actor=cashier, redemption_id=r.id, reason="再撤", now=NOW)
    assert "cancel" in type(again.value).__name__.lower()
    assert verify(session).ok


def test_a_later_cancel_needs_a_second_person_who_may_approve(session, world):
    cashier = world.users["cashier"]
    home = world.households[0]
    give_points(session, home, world.scheme, 100)
    soap = stocked_item(session, cashier, world.village.id)
    r = redeem(
        session,
        actor=cashier,
        household_id=home.id,
        lines=[(soap.id, 2)],
        idempotency_key=key(),
        now=NOW,
    )
    later = NOW + timedelta(days=2)
    with pytest.raises(SecondPersonNeeded):
        cancel_redemption(session, actor=cashier, redemption_id=r.id, reason="退货", now=later)
    for username, password in [
        (world.users["reviewer"].username, "wrong-password"),
        (world.users["clerk"].username, PASSWORD),  # a clerk may not approve
        (cashier.username, PASSWORD),  # nor the cashier themself
    ]:
        with pytest.raises(ValidationError):
            cancel_redemption(
                session,
                actor=cashier,
                redemption_id=r.id,
                reason="退货",
                second_username=username,
                second_password=password,
                now=later,
            )
        session.rollback()
    cancel_redemption(
        session,
        actor=cashier,
        redemption_id=r.id,
        reason="退货",
        second_username=world.users["reviewer"].username,
        second_password=PASSWORD,
        now=later,
    )
    assert r.cancel_second_id == world.users["reviewer"].id
    assert purses(session, home)[0].balance == 100


def test_refusals_change_nothing(session, world):
    cashier = world.users["cashier"]
    home = world.households[0]
    give_points(session, home, world.scheme, 112)
    soap = stocked_item(session, cashier, world.village.id, quantity=2, monthly_limit=3)
    base = dict(actor=cashier, household_id=home.id, now=NOW)
    with pytest.raises(OutOfStock):
        redeem(session, lines=[(soap.id, 3)], idempotency_key=key(), **base)
    session.rollback()
    with pytest.raises(NotEnoughPoints):
        redeem(
            session,
            lines=[(soap.id, 1)],
            idempotency_key=key(),
            **{**base, "household_id": world.households[1].id},
        )
    session.rollback()
    redeem(session, lines=[(soap.id, 2)], idempotency_key=key(), **base)
    from credits.shop.stock import StockIn, stock_in

    stock_in(
        session,
        actor=cashier,
        village_id=world.village.id,
        data=StockIn(soap.id, 5, "purchase"),
        now=NOW,
    )
    with pytest.raises(MonthlyLimit):
        redeem(session, lines=[(soap.id, 2)], idempotency_key=key(), **base)
    session.rollback()
    assert session.get(ShopItem, soap.id).stock == 5
    assert verify(session).ok


@pytest.mark.parametrize(
    ("costs", "balances", "shared", "scheme", "want"),
    [
        ({None: 30}, [(1, 20), (2, 40)], False, None, {2: 30}),
        ({None: 30}, [(1, 20), (2, 40)], True, None, {1: 20, 2: 10}),
        ({1: 10, None: 20}, [(1, 15), (2, 15)], True, None, {1: 15, 2: 15}),
        ({2: 10}, [(1, 50), (2, 10)], False, None, {2: 10}),
    ],
)
def test_allocation_follows_the_village_setting(costs, balances, shared, scheme, want):
    assert allocate(costs, balances, shared=shared, scheme_id=scheme) == want


def test_allocation_refuses_what_no_scheme_can_pay():
    with pytest.raises(NotEnoughPoints):
        allocate({None: 50}, [(1, 20), (2, 40)], shared=False)
    with pytest.raises(NotEnoughPoints):
        allocate({None: 61}, [(1, 20), (2, 40)], shared=True)


def test_shared_mode_draws_from_both_schemes(session, world):
    from credits.rules import load_preset_into

    family = load_preset_into(session, world.village, "family_bank")
    home = world.households[0]
    give_points(session, home, world.scheme, 20)
    give_points(session, home, family, 40)
    save_settings(
        session,
        actor=world.users["admin"],
        village_id=world.village.id,
        balance_mode="shared",
        fen_per_point=100,
        donors_public=True,
    )
    oil = stocked_item(session, world.users["cashier"], world.village.id, name="食用油", price=50)
    r = redeem(
        session,
        actor=world.users["cashier"],
        household_id=home.id,
        lines=[(oil.id, 1)],
        idempotency_key=key(),
        now=NOW,
    )
    assert sorted(p.points for p in r.payments) == [20, 30]
    assert r.balance_after == 10
    assert ensure_account(session, home, family.id)
    assert verify(session).ok


def test_delivery_is_listed_confirmed_and_flagged_when_late(session, world):
    cashier = world.users["cashier"]
    home = world.households[0]
    home.special_needs = "elderly_alone"
    session.commit()
    give_points(session, home, world.scheme, 100)
    soap = stocked_item(session, cashier, world.village.id)
    r = redeem(
        session,
        actor=cashier,
        household_id=home.id,
        lines=[(soap.id, 1)],
        idempotency_key=key(),
        now=NOW,
    )
    assert r.deliver
    assert to_deliver(session, world.village.id) == [r]
    assert overdue(session, world.village.id, NOW + timedelta(days=8)) == [r]
    with pytest.raises(ValidationError):
        confirm_delivered(
            session,
            actor=cashier,
            village_id=world.village.id,
            redemption_id=r.id,
            delivered_on=None,
            delivered_by="\x00 ",
            now=NOW,
        )
    confirm_delivered(
        session,
        actor=cashier,
        village_id=world.village.id,
        redemption_id=r.id,
        delivered_on=None,
        delivered_by="志愿者小王",
        now=NOW + timedelta(days=1),
    )
    assert to_deliver(session, world.village.id) == []
    assert session.scalars(select(Balance.balance)).all() == [95]


def test_a_stock_take_records_each_difference_once(session, world):
    from credits.shop.stock import moves_of, stock_take

    cashier = world.users["cashier"]
    soap = stocked_item(session, cashier, world.village.id, quantity=10)
    rice = stocked_item(session, cashier, world.village.id, name="大米", quantity=4)
    counted = {soap.id: 7, rice.id: 4}
    moves = stock_take(
        session,
        actor=cashier,
        village_id=world.village.id,
        counted=counted,
        idempotency_key="t1",
        now=NOW,
    )
    assert [(m.item_id, m.quantity, m.reason) for m in moves] == [(soap.id, -3, "盘点")]
    again = stock_take(
        session,
        actor=cashier,
        village_id=world.village.id,
        counted=counted,
        idempotency_key="t1",
        now=NOW,
    )
    assert again == [] and len(moves_of(session, world.village.id)) == 3
    assert session.get(ShopItem, soap.id).stock == 7
    assert verify(session).ok


@pytest.mark.tampers
def test_verify_ledger_catches_a_stock_count_changed_by_hand(session, world):
    from sqlalchemy import update

    soap = stocked_item(session, world.users["cashier"], world.village.id, quantity=10)
    session.execute(update(ShopItem).where(ShopItem.id == soap.id).values(stock=99))
    session.commit()
    report = verify(session)
    assert [p.kind for p in report.problems] == ["stock"]
    assert "cached stock 99 but its movements sum to 10" in report.problems[0].message
