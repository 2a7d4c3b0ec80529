"""The points shop (积分超市): settings, items, stock movements, redemptions and their lines."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from credits.db import Base, utcnow
from credits.models.household import Household
from credits.models.user import User


class BalanceMode(StrEnum):
    PER_SCHEME = "per_scheme"  # each scheme's points buy on their own
    SHARED = "shared"  # the household's schemes pool into one spendable balance


class MoveKind(StrEnum):
    IN = "in"  # 入库: donation, township allocation, village purchase
    OUT = "out"  # 出库: a redemption
    RETURN = "return"  # a cancelled redemption puts the goods back
    ADJUST = "adjust"  # spoiled, lost, or the difference found at a stock-take


class StockSource(StrEnum):
    DONOR = "donor"
    TOWNSHIP = "township"
    PURCHASE = "purchase"


class RedemptionState(StrEnum):
    DONE = "done"
    CANCELLED = "cancelled"


class ShopSettings(Base):
    """A village's shop settings; a village without a row uses the defaults."""

    __tablename__ = "shop_settings"

    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), primary_key=True)
    balance_mode: Mapped[str] = mapped_column(String(20), default=BalanceMode.PER_SCHEME)
    fen_per_point: Mapped[int] = mapped_column(default=100)  # 1 point = 1 yuan by default
    donors_public: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class ShopItem(Base):
    """A catalogue item priced in points (明码标分); `stock` caches the sum of its moves."""

    __tablename__ = "shop_item"
    __table_args__ = (
        Index("ix_shop_item_village_position", "village_id", "position"),
        UniqueConstraint("village_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    name: Mapped[str] = mapped_column(String(60))
    unit: Mapped[str] = mapped_column(String(10))
    price: Mapped[int] = mapped_column()
    unit_value_fen: Mapped[int] = mapped_column(default=0)  # what one unit is worth, in fen
    active: Mapped[bool] = mapped_column(default=True)
    monthly_limit: Mapped[int | None] = mapped_column()  # per household and month
    scheme_id: Mapped[int | None] = mapped_column(ForeignKey("scheme.id"))
    position: Mapped[int] = mapped_column(default=0)
    photo_key: Mapped[str] = mapped_column(String(80), default="")
    thumb_key: Mapped[str] = mapped_column(String(80), default="")
    stock: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))


class StockMove(Base):
    """One movement of stock (入库, 出库, 退回, 调整); rows are never changed."""

    __tablename__ = "stock_move"
    __table_args__ = (
        Index("ix_stock_move_village_item_at", "village_id", "item_id", "created_at"),
        Index("ix_stock_move_village_redemption", "village_id", "redemption_id"),
        UniqueConstraint("village_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("shop_item.id"))
    kind: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[int] = mapped_column()  # signed: + into the shop, − out of it
    value_fen: Mapped[int] = mapped_column(default=0)  # signed like quantity
    source: Mapped[str] = mapped_column(String(20), default="")
    donor_name: Mapped[str] = mapped_column(String(60), default="")
    anonymous: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("shop_redemption.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))

    item: Mapped[ShopItem] = relationship()


class Redemption(Base):
    """A 兑换单: what a household took at the counter and what it paid."""

    __tablename__ = "shop_redemption"
    __table_args__ = (
        UniqueConstraint("village_id", "idempotency_key"),
        Index("ix_shop_redemption_village_at", "village_id", "created_at"),
        Index("ix_shop_redemption_village_household", "village_id", "household_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    total: Mapped[int] = mapped_column()
    balance_after: Mapped[int] = mapped_column(default=0)  # spendable left, all schemes paid
    state: Mapped[str] = mapped_column(String(12), default=RedemptionState.DONE)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    cashier_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deliver: Mapped[bool] = mapped_column(default=False)
    delivered_on: Mapped[date | None] = mapped_column()
    delivered_by: Mapped[str] = mapped_column(String(50), default="")
    delivery_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column()
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    cancel_second_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    cancel_reason: Mapped[str] = mapped_column(Text, default="")

    household: Mapped[Household] = relationship()
    cashier: Mapped[User] = relationship(foreign_keys=[cashier_id])
    lines: Mapped[list[RedemptionLine]] = relationship(order_by="RedemptionLine.id")
    payments: Mapped[list[RedemptionPayment]] = relationship(order_by="RedemptionPayment.id")

    @property
    def number(self) -> str:
        """The redemption number printed on the receipt: DH-000042."""
        return f"DH-{self.id:06d}"


class RedemptionLine(Base):
    """One item of a redemption, with the name and price it was sold under."""

    __tablename__ = "shop_redemption_line"
    __table_args__ = (
        Index("ix_shop_redemption_line_village_redemption", "village_id", "redemption_id"),
        Index("ix_shop_redemption_line_village_item", "village_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    redemption_id: Mapped[int] = mapped_column(ForeignKey("shop_redemption.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("shop_item.id"))
    name: Mapped[str] = mapped_column(String(60))
    unit: Mapped[str] = mapped_column(String(10))
    price: Mapped[int] = mapped_column()
    quantity: Mapped[int] = mapped_column()
    points: Mapped[int] = mapped_column()


class RedemptionPayment(Base):
    """The points one account paid for a redemption: its ledger entry (and reversal)."""

    __tablename__ = "shop_redemption_payment"
    __table_args__ = (
        Index("ix_shop_redemption_payment_village_redemption", "village_id", "redemption_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    redemption_id: Mapped[int] = mapped_column(ForeignKey("shop_redemption.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    points: Mapped[int] = mapped_column()
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"))
    reversal_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    balance_after: Mapped[int] = mapped_column(default=0)
