"""Refusals of the shop: each one changes nothing and says why in the user's language."""

from __future__ import annotations

from credits.errors import DomainError
from credits.i18n import N_


class NotEnoughPoints(DomainError):
    code = "not_enough_points"
    status = 409
    message = N_("Not enough points: the basket costs %(total)s, the household has %(balance)s.")


class OutOfStock(DomainError):
    code = "out_of_stock"
    status = 409
    message = N_("Not enough %(item)s in stock: %(stock)s left, %(wanted)s wanted.")


class MonthlyLimit(DomainError):
    code = "monthly_limit"
    status = 409
    message = N_(
        "%(item)s is limited to %(limit)s per household a month; this household already "
        "took %(used)s."
    )


class SecondPersonNeeded(DomainError):
    code = "second_person"
    status = 403
    message = N_(
        "Only a redemption of today can be cancelled by the cashier alone; an older one "
        "needs a second person (an admin or reviewer) to sign in with their password."
    )


class AlreadyCancelled(DomainError):
    code = "already_cancelled"
    status = 409
    message = N_("This redemption has already been cancelled.")
