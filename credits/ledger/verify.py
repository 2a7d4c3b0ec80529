"""`verify`: every chain link, every row behind an entry, every signed checkpoint, every total."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from credits.errors import NotFound
from credits.i18n import N_
from credits.ledger import checkpoints
from credits.ledger.chain import GENESIS, HASHED_FIELDS, entry_hash, referenced_values
from credits.ledger.crosscheck import cross_check
from credits.ledger.report import Problem, Report
from credits.ledger.totals import verify_totals
from credits.models import (
    Account,
    ChainHead,
    Claim,
    Household,
    LedgerEntry,
    Member,
    RuleVersion,
    Village,
)
from credits.shop.verify import verify_stock

UNKNOWN_VILLAGE = N_("No village has the code %(code)s.")
SEQ_MISSING = N_(
    "seq %(first)s to %(last)s missing before entry %(id)s (seq %(seq)s), after entry "
    "%(before)s: entries were deleted"
)
RENUMBERED = N_("entry %(id)s: sequence %(seq)s, expected %(expected)s (the entry was renumbered)")
LINK_BROKEN = N_(
    "entry %(id)s (seq %(seq)s): the link to the previous entry is broken (an earlier "
    "entry was changed or deleted)"
)
HASH_WRONG = N_(
    "entry %(id)s (seq %(seq)s): its content does not match its hash (the entry, or the "
    "claim, rule version, account or household behind it, was edited)"
)
TAIL_MISSING = N_(
    "seq %(first)s to %(last)s missing after entry %(id)s (seq %(seq)s): the chain head says "
    "seq %(head)s (the last entries were deleted)"
)
HEAD_BEHIND = N_(
    "the chain head says seq %(head)s but entry %(id)s (seq %(seq)s) follows it (the head "
    "was changed or entries were added by hand)"
)
HEAD_HASH = N_(
    "entry %(id)s (seq %(seq)s) does not match the chain head's hash (the last entry was "
    "rewritten or the head was changed)"
)
CP_DIVERGES = N_(
    "entry %(id)s (seq %(seq)s) differs from the checkpoint signed at %(at)s: history was "
    "rewritten from this entry on"
)
CP_TRUNCATED = N_(
    "the checkpoint signed at %(at)s records seq %(cp_seq)s but the chain ends at entry "
    "%(id)s (seq %(last)s): the entries after it were deleted"
)
CP_UNSIGNED = N_(
    "entry %(id)s (seq %(seq)s) and the entries after it are covered by no signed "
    "checkpoint: they were not posted by this installation, or its checkpoint log was "
    "not written"
)
CP_UNREADABLE = N_("checkpoint log line %(line)s cannot be read (the log was damaged or edited)")
CP_BAD_SIGNATURE = N_(
    "checkpoint log line %(line)s (seq %(cp_seq)s): the signature is not valid or not "
    "this installation's (the log was forged)"
)
CP_CONFLICT = N_(
    "checkpoint log line %(line)s gives seq %(cp_seq)s another hash than an earlier "
    "signed line (the log was rewritten)"
)


@dataclass
class Signed:
    """What the village's valid checkpoints say: a hash per sequence number."""

    hashes: dict[int, tuple[str, str]] = field(default_factory=dict)  # seq -> (hash, at)
    last: tuple[int, str] | None = None  # highest checkpointed (seq, at)


def verify(session: Session, village_code: str | None = None) -> Report:
    """Check every chain link, referred row, checkpoint and cached total of the villages."""
    report = Report()
    villages = session.scalars(
        select(Village)
        .order_by(Village.id)
        .where(*([Village.code == village_code] if village_code else []))
    ).all()
    if village_code and not villages:
        raise NotFound(UNKNOWN_VILLAGE, code=village_code)
    anchor = checkpoints.anchor_for(session)
    for village in villages:
        report.villages += 1
        verify_chain(session, village, report, anchor=anchor)
        verify_totals(session, village, report)
        for msgid, params in verify_stock(session, village.id):
            report.problems.append(Problem(village.code, "stock", msgid, params))
    return report


def read_signed(anchor: checkpoints.Anchor, village: Village, report: Report) -> Signed:
    """Read a village's checkpoint log, reporting lines that are unreadable or forged."""
    signed = Signed()

    def problem(message: str, **params: Any) -> None:
        report.problems.append(Problem(village.code, "checkpoint", message, params))

    for line in checkpoints.read_log(anchor.directory, village.code):
        cp = line.checkpoint
        if cp is None:
            problem(CP_UNREADABLE, line=line.number)
            continue
        report.checkpoints += 1
        if cp.get("village") != village.code or not checkpoints.signature_ok(cp, anchor.public_key):
            problem(CP_BAD_SIGNATURE, line=line.number, cp_seq=cp["seq"])
            continue
        at = str(cp.get("at", ""))
        for offset, digest in enumerate(cp["hashes"]):
            seq = cp["first"] + offset
            known = signed.hashes.get(seq)
            if known is not None and known[0] != digest:
                problem(CP_CONFLICT, line=line.number, cp_seq=seq)
            signed.hashes.setdefault(seq, (digest, at))
        if signed.last is None or cp["seq"] > signed.last[0]:
            signed.last = (cp["seq"], at)
    return signed


def _rows(session: Session, village_id: int, upto: int | None) -> Any:
    reversed_ = aliased(LedgerEntry)
    return session.execute(
        select(LedgerEntry, Claim, RuleVersion, Account, Household, Member, reversed_)
        .outerjoin(Claim, Claim.id == LedgerEntry.claim_id)
        .outerjoin(RuleVersion, RuleVersion.id == LedgerEntry.rule_version_id)
        .outerjoin(Account, Account.id == LedgerEntry.account_id)
        .outerjoin(Household, Household.id == LedgerEntry.household_id)
        .outerjoin(Member, Member.id == LedgerEntry.member_id)
        .outerjoin(reversed_, reversed_.id == LedgerEntry.reverses_id)
        .where(
            LedgerEntry.village_id == village_id,
            *([LedgerEntry.seq <= upto] if upto is not None else []),
        )
        .order_by(LedgerEntry.seq, LedgerEntry.id)
        # Read what the database holds now, not what this session remembers.
        .execution_options(yield_per=1000, populate_existing=True)
    )


def verify_chain(
    session: Session,
    village: Village,
    report: Report,
    *,
    anchor: checkpoints.Anchor | None = None,
    upto: int | None = None,
) -> None:
    """Walk a village's entries in chain order and report every broken link or row.

    With `upto`, only the entries up to that sequence number are checked (and not
    the head): that is what a printed head code vouches for.
    """

    def problem(kind: str, message: str, entry: LedgerEntry | None, **params: Any) -> None:
        report.problems.append(
            Problem(
                village.code,
                kind,
                message,
                params,
                entry_id=entry.id if entry is not None else None,
                seq=entry.seq if entry is not None else params.get("seq"),
            )
        )

    signed = read_signed(anchor, village, report) if anchor is not None else Signed()
    diverged = False
    unsigned: LedgerEntry | None = None  # the first entry after the last checkpoint
    prev: LedgerEntry | None = None
    prev_hash, expected_seq = GENESIS, 1
    for entry, claim, version, account, household, member, reversed_ in _rows(
        session, village.id, upto
    ):
        report.entries += 1
        named = {"id": entry.id, "seq": entry.seq}
        if entry.seq > expected_seq:
            before = prev.id if prev is not None else "-"
            problem(
                "chain",
                SEQ_MISSING,
                entry,
                first=expected_seq,
                last=entry.seq - 1,
                before=before,
                **named,
            )
        elif entry.seq < expected_seq:
            problem("chain", RENUMBERED, entry, expected=expected_seq, **named)
        if entry.prev_hash != prev_hash:
            problem("chain", LINK_BROKEN, entry, **named)
        refs = referenced_values(claim, version, account, household, member, reversed_)
        values = {name: getattr(entry, name) for name in HASHED_FIELDS}
        if entry_hash(values, refs) != entry.hash:
            problem("chain", HASH_WRONG, entry, **named)
        for message, params in cross_check(
            entry, claim, version, account, household, member, reversed_
        ):
            problem("reference", message, entry, **params)
        mark = signed.hashes.get(entry.seq)
        if mark is not None and mark[0] != entry.hash and not diverged:
            diverged = True  # every later entry differs too; name the first
            problem("checkpoint", CP_DIVERGES, entry, at=mark[1], **named)
        if signed.last is not None and entry.seq > signed.last[0] and unsigned is None:
            unsigned = entry
        prev, prev_hash, expected_seq = entry, entry.hash, entry.seq + 1
    last_seq = expected_seq - 1
    if signed.last is not None and signed.last[0] > last_seq and upto is None:
        problem(
            "checkpoint",
            CP_TRUNCATED,
            prev,
            at=signed.last[1],
            cp_seq=signed.last[0],
            last=last_seq,
            id=prev.id if prev is not None else "-",
        )
    if unsigned is not None and upto is None:
        problem("checkpoint", CP_UNSIGNED, unsigned, id=unsigned.id, seq=unsigned.seq)
    if upto is None:
        _verify_head(session, village, prev, prev_hash, last_seq, problem)


def _verify_head(
    session: Session,
    village: Village,
    prev: LedgerEntry | None,
    prev_hash: str,
    last_seq: int,
    problem: Any,
) -> None:
    head = session.get(ChainHead, village.id, populate_existing=True)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    named = {"id": prev.id if prev else "-", "seq": last_seq}
    if head_seq > last_seq:
        problem(
            "head", TAIL_MISSING, prev, first=last_seq + 1, last=head_seq, head=head_seq, **named
        )
    elif head_seq < last_seq:
        problem("head", HEAD_BEHIND, prev, head=head_seq, **named)
    elif head_hash != prev_hash:
        problem("head", HEAD_HASH, prev, **named)
