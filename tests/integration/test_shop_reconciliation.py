"""The monthly reconciliation against a scenario computed by hand, and its XLSX and CSV."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import load_workbook
from shop_support import give_points, key, stocked_item

from credits.ledger import verify
from credits.shop.cancel import cancel_redemption
from credits.shop.reconciliation import coverage, outrun_villages, reconcile, to_csv, to_xlsx
from credits.shop.redemption import redeem
from credits.shop.settings import save_settings
from credits.shop.stock import StockIn, adjust, stock_in


def at(month: int, day: int, hour: int = 2) -> datetime:
    return datetime(2026, month, day, hour, 0, 0)  # UTC; 10:00 in the villages


def scenario(session, world):
    cashier = world.users["cashier"]
    v = world.village.id
    a, b = world.households[0], world.households[1]
    give_points(session, a, world.scheme, 300, now=at(10, 1))
    give_points(session, b, world.scheme, 100, now=at(10, 1))
    soap = stocked_item(session, cashier, v, price=5, unit_value_fen=400, quantity=0, now=at(10, 1))
    rice = stocked_item(
        session, cashier, v, name="大米", price=50, unit_value_fen=4500, quantity=0, now=at(10, 1)
    )
    stock_in(
        session,
        actor=cashier,
        village_id=v,
        data=StockIn(soap.id, 20, "donor", value_fen=8000, donor_name="张老板"),
        now=at(10, 15),
    )
    stock_in(
        session,
        actor=cashier,
        village_id=v,
        data=StockIn(rice.id, 10, "township", value_fen=45000),
        now=at(10, 15),
    )

    def buy(home, lines, when):
        return redeem(
            session,
            actor=cashier,
            household_id=home.id,
            lines=lines,
            idempotency_key=key(),
            now=when,
        )

    buy(a, [(soap.id, 2)], at(10, 20))
    stock_in(
        session,
        actor=cashier,
        village_id=v,
        data=StockIn(rice.id, 5, "purchase", value_fen=23000),
        now=at(11, 3),
    )
    buy(a, [(rice.id, 2), (soap.id, 1)], at(11, 5))
    gone = buy(b, [(soap.id, 4)], at(11, 6))
    cancel_redemption(
        session, actor=cashier, redemption_id=gone.id, reason="拿错了", now=at(11, 6, 5)
    )
    adjust(
        session,
        actor=cashier,
        village_id=v,
        item_id=soap.id,
        quantity=-1,
        reason="受潮",
        now=at(11, 10),
    )
    buy(a, [(rice.id, 1)], at(12, 2))
    return soap, rice


def test_november_matches_the_hand_computed_scenario(session, world):
    scenario(session, world)
    rec = reconcile(session, world.village, 202611)
    soap, rice = rec.rows
    assert (soap.opening.quantity, soap.opening.value_fen) == (18, 7200)
    assert (soap.stock_in.quantity, soap.out.quantity, soap.adjusted.quantity) == (0, -1, -1)
    assert (soap.out.value_fen, soap.adjusted.value_fen) == (-400, -400)
    assert (soap.closing.quantity, soap.closing.value_fen) == (16, 6400)
    assert (rice.opening.quantity, rice.opening.value_fen) == (10, 45000)
    assert (rice.stock_in.quantity, rice.stock_in.value_fen) == (5, 23000)
    assert (rice.out.quantity, rice.out.value_fen) == (-2, -9000)
    assert (rice.closing.quantity, rice.closing.value_fen) == (13, 59000)
    assert rec.redemptions == 2
    assert (rec.points_redeemed, rec.points_returned, rec.points_net) == (125, 20, 105)
    # A: 300 − 10 − 105 = 185; B: 100 − 20 + 20 = 100 (December's rice is not counted).
    assert rec.points_outstanding == 285
    assert rec.shelf_value_fen == 65400 and rec.shelf_points == 654
    assert not rec.outrun
    assert verify(session).ok


def test_points_outrun_the_shelf_at_three_yuan_a_point(session, world):
    scenario(session, world)
    save_settings(
        session,
        actor=world.users["admin"],
        village_id=world.village.id,
        balance_mode="per_scheme",
        fen_per_point=300,
        donors_public=True,
    )
    rec = reconcile(session, world.village, 202611)
    assert rec.shelf_points == 218  # 654 yuan / 3
    assert rec.outrun
    # Today (after December's rice: A has 135, B 100; 13 − 1 rice on the shelf) the township
    # view flags the village too; a village without a shop is never flagged.
    assert coverage(session, world.village) == (235, (65400 - 4500) // 300)
    assert outrun_villages(session, [world.village.id, 999]) == {world.village.id}


def test_the_xlsx_and_csv_carry_the_same_numbers(session, world):
    scenario(session, world)
    rec = reconcile(session, world.village, 202611)
    sheet = load_workbook(io.BytesIO(to_xlsx(rec))).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[1][0] == "商品"
    soap = next(r for r in rows if r[0] == "香皂")
    assert soap[3:13] == [18, 72, 0, 0, -1, -4, -1, -4, 16, 64]
    rice = next(r for r in rows if r[0] == "大米")
    assert rice[11:13] == [13, 590]
    total = next(r for r in rows if r[0] == "合计")
    assert total[11:13] == [29, 654]
    labels = {r[0]: r[1] for r in rows if r and r[0] and len([c for c in r if c is not None]) == 2}
    assert labels["月末未兑换积分"] == 285
    assert labels["兑换积分（净额）"] == 105
    csv_text = to_csv(rec)
    assert "香皂,块,5,18,72.0,0,0.0,-1,-4.0,-1,-4.0,16,64.0" in csv_text
    assert "月末未兑换积分,285" in csv_text
