"""Household QR cards: the signed card token, resolving a scanned card, reissue and revoke.

A card carries the URL ``BASE_URL/c/<token>``. The token is

    base32( varint(village_id) ‖ varint(household_id) ‖ varint(card_version) ‖ mac )

with ``mac`` the first 8 bytes (64 bits) of HMAC-SHA256 over a domain tag and those
varints, keyed with the village's own ``card_secret``. Upper-case base32 has no padding
and fits the QR alphanumeric mode, so the whole URL stays within QR version 4 at error
correction M even behind a 30-character https host. Nothing personal is in the token:
only three numbers and the MAC.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from credits import audit, qr
from credits.access import Permission, can_see_village, has_permission
from credits.db import lock_row, utcnow
from credits.errors import NotFound, PermissionDenied, ValidationError
from credits.i18n import N_
from credits.models import Household, User, Village

MAC_BYTES = 8
DOMAIN = b"merit-bank/card/v1\x00"
PATH_PREFIX = "/c/"
# Widest token: three 5-byte varints and the MAC (23 bytes → 37 base32 characters).
MAX_TOKEN_CHARS = 40
MIN_TOKEN_CHARS = 18  # three 1-byte varints and the MAC (11 bytes → 18 characters)
MAX_REASON = 200
_TOKEN_RE = re.compile(r"^[A-Z2-7]+$")
_CARD_NUMBER_RE = re.compile(r"^(?P<code>[A-Za-z0-9_-]+)-(?P<id>\d{1,10})-(?P<version>\d{1,5})$")


class CardStatus(StrEnum):
    OK = "ok"
    REPLACED = "replaced"  # an older version: the household got a new card
    REVOKED = "revoked"  # the current card was declared lost or withdrawn
    INACTIVE = "inactive"  # the household no longer takes part
    INVALID = "invalid"  # forged, truncated, garbled or unknown


@dataclass(frozen=True)
class CardResult:
    """What a scanned card is; `household` is set only when the card is valid."""

    status: CardStatus
    household: Household | None = None

    @property
    def ok(self) -> bool:
        return self.status == CardStatus.OK


@dataclass(frozen=True)
class TokenData:
    """The numbers a token names, with the bytes its MAC covers."""

    village_id: int
    household_id: int
    version: int
    payload: bytes
    mac: bytes


# ---- token bytes -------------------------------------------------------------------


def _varint(number: int) -> bytes:
    """Encode a non-negative integer as LEB128 (7 bits a byte, low first)."""
    if number < 0:
        raise ValueError("card token numbers are non-negative")
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int] | None:
    """Decode one minimal LEB128 integer at pos; None when malformed or non-minimal."""
    value, shift = 0, 0
    for i in range(pos, min(len(data), pos + 5)):
        byte = data[i]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            # A trailing zero byte would be a second spelling of the same number.
            if byte == 0 and i > pos:
                return None
            return value, i + 1
        shift += 7
    return None


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, DOMAIN + payload, hashlib.sha256).digest()[:MAC_BYTES]


def _secret(village: Village) -> bytes:
    return bytes.fromhex(village.card_secret)


def make_token(village_id: int, household_id: int, version: int, secret: bytes) -> str:
    """Sign (village, household, card version) into a compact upper-case base32 token."""
    payload = _varint(village_id) + _varint(household_id) + _varint(version)
    raw = payload + _mac(secret, payload)
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def parse_token(token: str) -> TokenData | None:
    """Split a token into its numbers and MAC, or None when it is not a well-formed token."""
    token = (token or "").strip().upper()
    if not MIN_TOKEN_CHARS <= len(token) <= MAX_TOKEN_CHARS or not _TOKEN_RE.match(token):
        return None
    try:
        raw = base64.b32decode(token + "=" * (-len(token) % 8))
    except (binascii.Error, ValueError):
        return None
    # Only the canonical spelling counts: unused low bits of the last character must be 0.
    if base64.b32encode(raw).decode("ascii").rstrip("=") != token:
        return None
    payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    numbers: list[int] = []
    pos = 0
    for _ in range(3):
        item = _read_varint(payload, pos)
        if item is None:
            return None
        number, pos = item
        numbers.append(number)
    if pos != len(payload):
        return None
    village_id, household_id, version = numbers
    return TokenData(village_id, household_id, version, payload, mac)


def verify_token(token: str, secret: bytes) -> TokenData | None:
    """Return what a token names if it is well formed and signed with secret, else None."""
    data = parse_token(token)
    if data is None or not hmac.compare_digest(_mac(secret, data.payload), data.mac):
        return None
    return data


def token_for(household: Household) -> str:
    """Return the token of a household's current card."""
    return make_token(
        household.village_id, household.id, household.card_version, _secret(household.village)
    )


def issue_url(base_url: str, household: Household) -> str:
    """Return the URL a household's current card encodes."""
    return base_url.rstrip("/") + PATH_PREFIX + token_for(household)


def card_number(household: Household) -> str:
    """The human-readable card number printed under the QR code: TY001-0042-1."""
    return f"{household.village.code}-{household.id:04d}-{household.card_version}"


def make_qr(url: str) -> qr.QRSymbol:
    """Encode a card URL: the prefix in byte mode, the token in the denser alphanumeric mode."""
    prefix, sep, token = url.rpartition(PATH_PREFIX)
    content: qr.Segments = url
    if sep and token and _TOKEN_RE.match(token):
        content = [(prefix + sep, qr.BYTE), (token, qr.ALPHANUMERIC)]
    # Never a Micro QR: phone cameras do not read them. boost_error raises the error
    # level above M whenever the same symbol size allows, for worn laminated cards.
    return qr.make(content, error="M", boost_error=True)


# ---- resolving a scanned card ------------------------------------------------------


def extract_token(text: str) -> str:
    """Pull the token out of what a scanner read: a whole card URL, or the token alone."""
    text = (text or "").strip()
    lowered = text.lower()
    at = lowered.rfind(PATH_PREFIX)
    if at >= 0:
        text = text[at + len(PATH_PREFIX) :]
    text = re.split(r"[?#/\s]", text, maxsplit=1)[0]
    return text.upper()


def _status_of(household: Household | None, village_id: int, version: int) -> CardResult:
    if household is None or household.village_id != village_id:
        return CardResult(CardStatus.INVALID)
    if version > household.card_version:
        return CardResult(CardStatus.INVALID)
    if version < household.card_version:
        return CardResult(CardStatus.REPLACED)
    if household.card_revoked:
        return CardResult(CardStatus.REVOKED)
    if not household.active:
        return CardResult(CardStatus.INACTIVE)
    return CardResult(CardStatus.OK, household)


def resolve(session: Session, token: str) -> CardResult:
    """Tell what a card token opens: ok (with the household), replaced, revoked or invalid."""
    token = extract_token(token)
    data = parse_token(token)
    if data is None:
        return CardResult(CardStatus.INVALID)
    village = session.get(Village, data.village_id)
    if village is None or not village.card_secret:
        return CardResult(CardStatus.INVALID)
    if verify_token(token, _secret(village)) is None:
        return CardResult(CardStatus.INVALID)
    household = session.get(Household, data.household_id)
    return _status_of(household, village.id, data.version)


def resolve_in_village(session: Session, village: Village, text: str) -> CardResult:
    """Resolve what a clerk scanned or typed: a card URL, a token or a card number.

    Staff only: a card number (TY001-0042-1) is not signed, which is fine behind a
    login scoped to the village; anything of another village is invalid.
    """
    text = (text or "").strip()
    match = _CARD_NUMBER_RE.match(text)
    if match and match["code"].upper() == village.code.upper():
        household = session.get(Household, int(match["id"]))
        return _status_of(household, village.id, int(match["version"]))
    data = parse_token(extract_token(text))
    if data is None or data.village_id != village.id:
        # Cards of another village are unknown here, whatever state they are in.
        return CardResult(CardStatus.INVALID)
    return resolve(session, text)


# ---- reissue and revoke ------------------------------------------------------------


def _household_for_card_change(session: Session, actor: User, household_id: int) -> Household:
    household = session.get(Household, household_id)
    if household is None:
        raise NotFound(N_("No such household."))
    allowed = has_permission(actor, Permission.RECORD) or has_permission(actor, Permission.MANAGE)
    if not allowed or not can_see_village(session, actor, household.village_id):
        raise PermissionDenied()
    # Two clerks pressing at once must not skip a version or lose a revocation.
    lock_row(session, "household", "id", household.id)
    session.refresh(household)
    return household


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationError(N_("The reason may have at most %(n)s characters."), n=MAX_REASON)
    return reason


def reissue_card(
    session: Session,
    *,
    actor: User,
    household_id: int,
    expected_version: int | None = None,
    reason: str = "",
    ip: str | None = None,
    now: datetime | None = None,
) -> Household:
    """Give a household a new card: the version goes up and every older card stops working.

    With `expected_version` (what the form showed), a repeated submission finds the
    version already moved on and changes nothing, so a double tap reissues once.
    """
    now = now or utcnow()
    reason = _clean_reason(reason)
    household = _household_for_card_change(session, actor, household_id)
    if expected_version is not None and household.card_version != expected_version:
        session.commit()
        return household
    if not household.active:
        raise ValidationError(N_("This household is deactivated."))
    before = audit.snapshot(household, "card_version", "card_revoked")
    household.card_version += 1
    household.card_revoked = False
    audit.log(
        session,
        "card.reissue",
        actor=actor,
        village_id=household.village_id,
        obj=household,
        ip=ip,
        at=now,
        before=before,
        after={**audit.snapshot(household, "card_version", "card_revoked"), "reason": reason},
    )
    session.commit()
    return household


def revoke_card(
    session: Session,
    *,
    actor: User,
    household_id: int,
    reason: str = "",
    ip: str | None = None,
    now: datetime | None = None,
) -> Household:
    """Withdraw a household's current card (lost, misused); a reissue gives a new one.

    Revoking a card that is already revoked changes nothing.
    """
    now = now or utcnow()
    reason = _clean_reason(reason)
    household = _household_for_card_change(session, actor, household_id)
    if household.card_revoked:
        session.commit()
        return household
    household.card_revoked = True
    audit.log(
        session,
        "card.revoke",
        actor=actor,
        village_id=household.village_id,
        obj=household,
        ip=ip,
        at=now,
        before={"card_version": household.card_version, "card_revoked": False},
        after={"card_version": household.card_version, "card_revoked": True, "reason": reason},
    )
    session.commit()
    return household
