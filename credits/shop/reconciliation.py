"""The monthly reconciliation (对账): stock in, out and adjusted by item in quantity and
yuan, points redeemed, and the points outstanding against what the shelf can honour."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits.clock import utc_start_of
from credits.errors import ValidationError
from credits.i18n import N_, gettext
from credits.models import (
    Balance,
    LedgerEntry,
    MoveKind,
    Redemption,
    ShopItem,
    ShopSettings,
    StockMove,
    Village,
)
from credits.shop.settings import Settings, get_settings, yuan_text


@dataclass
class Flow:
    """A quantity and its value in fen."""

    quantity: int = 0
    value_fen: int = 0

    def add(self, quantity: int, value_fen: int) -> None:
        self.quantity += quantity
        self.value_fen += value_fen


@dataclass
class ItemRow:
    """One item's month: opening + in + out + adjusted = closing."""

    item_id: int
    name: str
    unit: str
    price: int
    opening: Flow = field(default_factory=Flow)
    stock_in: Flow = field(default_factory=Flow)
    out: Flow = field(default_factory=Flow)  # redemptions, net of the ones cancelled
    adjusted: Flow = field(default_factory=Flow)

    @property
    def closing(self) -> Flow:
        parts = (self.opening, self.stock_in, self.out, self.adjusted)
        return Flow(sum(p.quantity for p in parts), sum(p.value_fen for p in parts))


@dataclass
class Reconciliation:
    """A village's shop for one month."""

    village: Village
    period: int  # yyyymm
    settings: Settings
    rows: list[ItemRow]
    redemptions: int  # redemptions made in the month
    points_redeemed: int  # their points
    points_returned: int  # points given back by cancellations in the month
    points_outstanding: int  # spendable balances at the end of the month

    @property
    def points_net(self) -> int:
        return self.points_redeemed - self.points_returned

    @property
    def totals(self) -> ItemRow:
        total = ItemRow(0, gettext("Total"), "", 0)
        for row in self.rows:
            for name in ("opening", "stock_in", "out", "adjusted"):
                part = getattr(row, name)
                getattr(total, name).add(part.quantity, part.value_fen)
        return total

    @property
    def shelf_value_fen(self) -> int:
        return self.totals.closing.value_fen

    @property
    def shelf_points(self) -> int:
        """How many points the goods on the shelf can honour at the village's yuan value."""
        return self.shelf_value_fen // self.settings.fen_per_point

    @property
    def outrun(self) -> bool:
        """Outstanding points exceed what the shelf can honour (积分不值钱 ahead)."""
        return self.points_outstanding > self.shelf_points


def parse_month(text: str) -> int:
    """Read a month like 2026-11 as 202611; refuse anything else."""
    raw = (text or "").strip()
    year, sep, month = raw.partition("-")
    if not (sep and year.isdigit() and month.isdigit() and len(year) == 4 and len(month) <= 2):
        raise ValidationError(N_("Give the month as year-month, such as 2026-11."))
    y, m = int(year), int(month)
    if not (2000 <= y <= 2100 and 1 <= m <= 12):
        raise ValidationError(N_("Give the month as year-month, such as 2026-11."))
    return y * 100 + m


def month_bounds(period: int) -> tuple[datetime, datetime]:
    """The stored (UTC) moments a village month begins and ends."""
    year, month = divmod(period, 100)
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    return utc_start_of(start), utc_start_of(end)


def reconcile(session: Session, village: Village, period: int) -> Reconciliation:
    """Compute the month's reconciliation of a village's shop from its movements and ledger."""
    start, end = month_bounds(period)
    rows = {
        i.id: ItemRow(i.id, i.name, i.unit, i.price)
        for i in session.scalars(
            select(ShopItem)
            .where(ShopItem.village_id == village.id)
            .order_by(ShopItem.position, ShopItem.price, ShopItem.id)
        )
    }

    def sums(*where: object) -> list[tuple[int, str, int, int]]:
        return [
            (item_id, kind, int(quantity or 0), int(value or 0))
            for item_id, kind, quantity, value in session.execute(
                select(
                    StockMove.item_id,
                    StockMove.kind,
                    func.sum(StockMove.quantity),
                    func.sum(StockMove.value_fen),
                )
                .where(StockMove.village_id == village.id, *where)  # type: ignore[arg-type]
                .group_by(StockMove.item_id, StockMove.kind)
            )
        ]

    for item_id, _kind, quantity, value in sums(StockMove.created_at < start):
        rows[item_id].opening.add(quantity, value)
    for item_id, kind, quantity, value in sums(
        StockMove.created_at >= start, StockMove.created_at < end
    ):
        row = rows[item_id]
        if kind == MoveKind.IN:
            row.stock_in.add(quantity, value)
        elif kind in (MoveKind.OUT, MoveKind.RETURN):
            row.out.add(quantity, value)
        else:
            row.adjusted.add(quantity, value)
    made = session.execute(
        select(func.count(Redemption.id), func.coalesce(func.sum(Redemption.total), 0)).where(
            Redemption.village_id == village.id,
            Redemption.created_at >= start,
            Redemption.created_at < end,
        )
    ).one()
    returned = session.scalar(
        select(func.coalesce(func.sum(Redemption.total), 0)).where(
            Redemption.village_id == village.id,
            Redemption.cancelled_at >= start,
            Redemption.cancelled_at < end,
        )
    )
    outstanding = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.balance_delta), 0)).where(
            LedgerEntry.village_id == village.id, LedgerEntry.posted_at < end
        )
    )
    return Reconciliation(
        village=village,
        period=period,
        settings=get_settings(session, village.id),
        rows=[r for r in rows.values() if any(_moved(r))],
        redemptions=int(made[0] or 0),
        points_redeemed=int(made[1] or 0),
        points_returned=int(returned or 0),
        points_outstanding=int(outstanding or 0),
    )


def _moved(row: ItemRow) -> tuple[int, ...]:
    return (row.opening.quantity, row.stock_in.quantity, row.out.quantity, row.adjusted.quantity)


def coverage(session: Session, village: Village) -> tuple[int, int]:
    """(points outstanding now, points the shelf can honour now), for the warning banner."""
    settings = get_settings(session, village.id)
    outstanding = session.scalar(
        select(func.coalesce(func.sum(Balance.balance), 0)).where(Balance.village_id == village.id)
    )
    shelf = session.scalar(
        select(func.coalesce(func.sum(StockMove.value_fen), 0)).where(
            StockMove.village_id == village.id
        )
    )
    return int(outstanding or 0), int(shelf or 0) // settings.fen_per_point


def shelf_points(session: Session, village_ids: list[int]) -> dict[int, int]:
    """What each village's shelf can honour in points, for the villages that run a shop."""
    if not village_ids:
        return {}
    shelf = dict(
        session.execute(
            select(StockMove.village_id, func.sum(StockMove.value_fen))
            .where(StockMove.village_id.in_(village_ids))
            .group_by(StockMove.village_id)
        ).all()
    )
    rates = dict(
        session.execute(
            select(ShopSettings.village_id, ShopSettings.fen_per_point).where(
                ShopSettings.village_id.in_(village_ids)
            )
        ).all()
    )
    return {v: int(value or 0) // rates.get(v, 100) for v, value in shelf.items()}


def outrun_villages(session: Session, village_ids: list[int]) -> set[int]:
    """The villages whose outstanding points exceed what their shelf can honour (3 queries)."""
    shelf = shelf_points(session, village_ids)  # only villages that run a shop
    if not shelf:
        return set()
    points = dict(
        session.execute(
            select(Balance.village_id, func.sum(Balance.balance))
            .where(Balance.village_id.in_(list(shelf)))
            .group_by(Balance.village_id)
        ).all()
    )
    return {v for v, honoured in shelf.items() if int(points.get(v) or 0) > honoured}


HEADERS = (
    N_("Item"),
    N_("Unit"),
    N_("Price (points)"),
    N_("Opening qty"),
    N_("Opening yuan"),
    N_("In qty"),
    N_("In yuan"),
    N_("Out qty"),
    N_("Out yuan"),
    N_("Adjusted qty"),
    N_("Adjusted yuan"),
    N_("Closing qty"),
    N_("Closing yuan"),
)


def table(rec: Reconciliation, locale: str = "zh_CN") -> list[list[object]]:
    """The item table as rows of plain values (numbers as numbers, yuan as decimals)."""

    def y(fen: int) -> float:
        return fen / 100

    out: list[list[object]] = [[gettext(h, locale) for h in HEADERS]]
    for row in [*rec.rows, rec.totals]:
        c = row.closing
        out.append(
            [
                row.name,
                row.unit,
                row.price or "",
                row.opening.quantity,
                y(row.opening.value_fen),
                row.stock_in.quantity,
                y(row.stock_in.value_fen),
                row.out.quantity,
                y(row.out.value_fen),
                row.adjusted.quantity,
                y(row.adjusted.value_fen),
                c.quantity,
                y(c.value_fen),
            ]
        )
    return out


def summary(rec: Reconciliation, locale: str = "zh_CN") -> list[tuple[str, object]]:
    """The month's headline numbers, labelled."""
    return [
        (gettext("Redemptions", locale), rec.redemptions),
        (gettext("Points redeemed", locale), rec.points_redeemed),
        (gettext("Points returned by cancellations", locale), rec.points_returned),
        (gettext("Points redeemed, net", locale), rec.points_net),
        (gettext("Points outstanding at month end", locale), rec.points_outstanding),
        (gettext("Value of stock on the shelf (yuan)", locale), rec.shelf_value_fen / 100),
        (gettext("Yuan per point", locale), rec.settings.fen_per_point / 100),
        (gettext("Points the shelf can honour", locale), rec.shelf_points),
    ]


def to_csv(rec: Reconciliation, locale: str = "zh_CN") -> str:
    """The reconciliation as CSV (UTF-8 with BOM, so spreadsheet programs read Chinese)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([rec.village.name, f"{rec.period // 100}-{rec.period % 100:02d}"])
    for row in table(rec, locale):
        writer.writerow(row)
    writer.writerow([])
    for label, value in summary(rec, locale):
        writer.writerow([label, value])
    return "\ufeff" + buffer.getvalue()


def to_xlsx(rec: Reconciliation, locale: str = "zh_CN") -> bytes:
    """The reconciliation as an XLSX workbook: the item table, then the headline numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"{rec.period // 100}-{rec.period % 100:02d}"
    sheet.append([rec.village.name, gettext("Points shop reconciliation", locale), sheet.title])
    sheet["A1"].font = Font(bold=True)
    for row in table(rec, locale):
        sheet.append(row)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for cells in sheet.iter_rows(min_row=3, min_col=5, max_col=13):
        for cell in cells[::2]:
            cell.number_format = "0.00"
    sheet.append([])
    for label, value in summary(rec, locale):
        sheet.append([label, value])
    sheet.column_dimensions["A"].width = 22
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def yuan(fen: int) -> str:
    """Yuan for people: 12.5."""
    return yuan_text(fen)
