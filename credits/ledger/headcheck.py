"""Checking a head code copied from paper (`#1234 · 3F9A-1C2B-77D0-E5A1`) against the ledger."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from credits.errors import NotFound, ValidationError
from credits.i18n import N_
from credits.ledger import checkpoints
from credits.ledger.chain import GENESIS, format_head
from credits.ledger.report import Report
from credits.ledger.verify import UNKNOWN_VILLAGE, verify_chain
from credits.models import ChainHead, LedgerEntry, Village

CODE_DIGITS = 16  # hex digits of the hash printed on paper (64 bits)
MAX_SEQ_DIGITS = 12
MAX_INPUT = 200
CODE_PATTERN = re.compile(rf"[0-9]{{1,{MAX_SEQ_DIGITS}}}[0-9A-F]{{{CODE_DIGITS}}}")
BAD_CODE = N_(
    "This is not a ledger check code. Type the number after # and the 16 letters and "
    "digits printed after it, e.g. #1234 3F9A-1C2B-77D0-E5A1."
)


@dataclass
class HeadCheck:
    """The answer to "does the ledger still match this printed code?"."""

    seq: int
    code: str  # the 16 hex digits, upper case
    matches: bool
    reason: str = ""  # msgid, when it does not match
    current: str = ""  # the head code the ledger shows now

    @property
    def printed(self) -> str:
        return f"#{self.seq} · " + "-".join(self.code[i : i + 4] for i in range(0, 16, 4))


NOT_IN_LEDGER = N_("The ledger has no entry with this number: its entries were deleted.")
DIFFERENT = N_("The ledger's entry with this number has another code: its history was rewritten.")
BROKEN = N_("The entries up to this number fail verification: the ledger was changed.")


def parse_head(text: str) -> tuple[int, str]:
    """Read a printed head code, forgiving spaces, case, a missing #, full-width characters.

    The last 16 letters and digits are the code, the digits before them the number.
    """
    if not isinstance(text, str) or len(text) > MAX_INPUT:
        raise ValidationError(BAD_CODE)
    plain = unicodedata.normalize("NFKC", text).upper()
    compact = re.sub(r"[\s#·•・.\-_:：,，]", "", plain)
    if not CODE_PATTERN.fullmatch(compact):
        raise ValidationError(BAD_CODE)
    return int(compact[:-CODE_DIGITS]), compact[-CODE_DIGITS:]


def check_head(session: Session, village_code: str, text: str) -> HeadCheck:
    """Say whether a village's ledger still matches a head code printed earlier.

    It matches when the entry with that number carries that code and every entry up
    to it still verifies (links, hashes, the rows behind them, signed checkpoints).
    Reads only.
    """
    village = session.scalar(select(Village).where(Village.code == village_code))
    if village is None:
        raise NotFound(UNKNOWN_VILLAGE, code=village_code)
    seq, code = parse_head(text)
    head = session.get(ChainHead, village.id)
    current = format_head(head.seq, head.hash) if head else format_head(0, GENESIS)
    if seq == 0:
        digest: str | None = GENESIS
    else:
        digest = session.scalar(
            select(LedgerEntry.hash).where(
                LedgerEntry.village_id == village.id, LedgerEntry.seq == seq
            )
        )
    if digest is None:
        return HeadCheck(seq, code, False, NOT_IN_LEDGER, current)
    if digest[:CODE_DIGITS].upper() != code:
        return HeadCheck(seq, code, False, DIFFERENT, current)
    report = Report()
    verify_chain(session, village, report, anchor=checkpoints.anchor_for(session), upto=seq)
    if report.structural():
        return HeadCheck(seq, code, False, BROKEN, current)
    return HeadCheck(seq, code, True, "", current)
