"""Domain errors: a machine code, an HTTP-ish status and a translatable message."""

from __future__ import annotations

from typing import Any

from credits.i18n import N_, gettext


class DomainError(Exception):
    """A refusal the user can understand; it changes nothing."""

    code = "invalid"
    status = 400
    message = N_("The request was refused.")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        if message is not None:
            self.message = message
        self.params = params
        super().__init__(self.message % params if params else self.message)

    def translated(self, locale: str = "zh_CN") -> str:
        """Return the message in a locale (the web layer and the CLI both use this)."""
        return gettext(self.message, locale, **self.params)


class ValidationError(DomainError):
    code = "validation"
    message = N_("The input is not valid.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message = N_("Not found.")


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    message = N_("You are not allowed to do this.")


class RecusalError(DomainError):
    code = "recusal"
    status = 403
    message = N_("You may not record or review points for your own household.")


class FourEyesError(DomainError):
    code = "four_eyes"
    status = 403
    message = N_("The person who recorded a claim may not approve it; another reviewer must.")


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
    status = 409
    message = N_("This submission key was already used for different content.")


class CapExceeded(DomainError):
    code = "cap_exceeded"
    status = 409
    message = N_(
        "The cap of this rule is reached: at most %(cap)s points per %(period)s "
        "for one household (already %(used)s)."
    )


class InvalidState(DomainError):
    code = "invalid_state"
    status = 409
    message = N_("This claim can no longer be changed in that way.")


class AlreadyReversed(DomainError):
    code = "already_reversed"
    status = 409
    message = N_("This entry has already been reversed.")


class LoginFailed(DomainError):
    code = "login_failed"
    status = 401
    message = N_("Wrong user name or password.")


class LedgerBroken(DomainError):
    """The chain fails verification, so balances must not be rebuilt over it."""

    code = "ledger_broken"
    status = 409
    message = N_(
        "The ledger of village %(code)s fails verification (%(count)s problems; the first: "
        "%(first)s). Balances were not rebuilt: find out what happened with verify-ledger "
        "first, or rebuild with --force."
    )
