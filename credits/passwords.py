"""The password rule: long enough, not on the list of common passwords, not guessable."""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path

from credits.errors import ValidationError
from credits.i18n import N_

MIN_LENGTH = 10
MAX_LENGTH = 200
COMMON_LIST = Path(__file__).resolve().parent / "data" / "common_passwords.txt"
# Temporary passwords avoid letters and digits that look alike on a screen (0/O, 1/l/I).
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@cache
def common_passwords() -> frozenset[str]:
    """Load the shipped list of common passwords (lower case)."""
    lines = COMMON_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _is_sequence(text: str) -> bool:
    """Tell whether the text is one repeated character or a run like 1234567890 / abcdefghij."""
    if len(set(text)) == 1:
        return True
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return steps in ({1}, {-1})


def check_password_rule(password: str, *, username: str = "") -> None:
    """Refuse a password that is too short, too long, common or built from the user name."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(N_("The password must have at least %(n)s characters."), n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise ValidationError(N_("The password may have at most %(n)s characters."), n=MAX_LENGTH)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in password):
        raise ValidationError(N_("The password may not contain control characters."))
    lowered = password.lower()
    if lowered in common_passwords() or _is_sequence(lowered):
        raise ValidationError(
            N_("This password is too common and easy to guess. Choose another one.")
        )
    name = username.strip().lower()
    if name and len(name) >= 3 and name in lowered:
        raise ValidationError(N_("The password may not contain the user name."))


def temporary_password() -> str:
    """Return a one-time password to read out or hand over on paper (12 characters)."""
    groups = ["".join(secrets.choice(_TEMP_ALPHABET) for _ in range(4)) for _ in range(3)]
    return "-".join(groups)
