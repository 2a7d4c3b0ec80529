"""Cross-checking an entry against the rows it refers to (claim, rule version, account …).

The hash already covers those rows as they were at posting; these checks say in
plain words which row behind an entry no longer agrees with it.
"""

from __future__ import annotations

from typing import Any

from credits.i18n import N_
from credits.models import (
    Account,
    Claim,
    EntryKind,
    Household,
    LedgerEntry,
    Member,
    RuleVersion,
)

CLAIM_DIFFERS = N_(
    "entry %(id)s (seq %(seq)s): its claim %(ref)s no longer matches it (%(fields)s): "
    "the claim was edited"
)
VERSION_DIFFERS = N_(
    "entry %(id)s (seq %(seq)s): its rule version %(ref)s no longer matches it "
    "(%(fields)s): the rule version was edited"
)
ACCOUNT_DIFFERS = N_(
    "entry %(id)s (seq %(seq)s): its account %(ref)s no longer matches it (%(fields)s): "
    "the account was edited"
)
HOUSEHOLD_DIFFERS = N_(
    "entry %(id)s (seq %(seq)s): its household %(ref)s now belongs to another village"
)
MEMBER_DIFFERS = N_(
    "entry %(id)s (seq %(seq)s): its member %(ref)s now belongs to another household"
)
REVERSED_DIFFERS = N_(
    "entry %(id)s (seq %(seq)s): the entry it reverses (%(ref)s) does not match it (%(fields)s)"
)
FROM_CLAIMS = (EntryKind.AWARD, EntryKind.DEDUCTION)


def _differing(pairs: dict[str, tuple[Any, Any]]) -> str:
    return ", ".join(name for name, (a, b) in pairs.items() if a != b)


def cross_check(
    entry: LedgerEntry,
    claim: Claim | None,
    version: RuleVersion | None,
    account: Account | None,
    household: Household | None,
    member: Member | None,
    reversed_: LedgerEntry | None,
) -> list[tuple[str, dict[str, Any]]]:
    """Return (message, params) for every referred row that disagrees with the entry."""
    found: list[tuple[str, dict[str, Any]]] = []

    def check(message: str, ref: int, pairs: dict[str, tuple[Any, Any]]) -> None:
        fields = _differing(pairs)
        if fields:
            found.append(
                (message, {"id": entry.id, "seq": entry.seq, "ref": ref, "fields": fields})
            )

    pairs: dict[str, tuple[Any, Any]]
    if claim is not None:
        pairs = {
            "village": (claim.village_id, entry.village_id),
            "household": (claim.household_id, entry.household_id),
            "account": (claim.account_id, entry.account_id),
        }
        if entry.kind in FROM_CLAIMS:
            pairs |= {
                "points": (claim.points, entry.points),
                "rule_version": (claim.rule_version_id, entry.rule_version_id),
                "member": (claim.member_id, entry.member_id),
                "recorded_by": (claim.recorded_by_id, entry.recorded_by_id),
                "approved_by": (claim.reviewed_by_id, entry.approved_by_id),
                "deed_date": (claim.deed_date, entry.deed_date),
                "note": (claim.note, entry.note),
            }
        check(CLAIM_DIFFERS, claim.id, pairs)
    if version is not None:
        pairs = {
            "village": (version.village_id, entry.village_id),
            "category": (version.category, entry.category),
            "title": (version.title, entry.title),
        }
        if entry.kind in FROM_CLAIMS and claim is not None:
            # A claim is awarded the version's points; only the sign may say deduction.
            pairs["points"] = (abs(version.points), abs(entry.points))
        check(VERSION_DIFFERS, version.id, pairs)
    if account is not None:
        pairs = {
            "village": (account.village_id, entry.village_id),
            "household": (account.household_id, entry.household_id),
            "scheme": (account.scheme_id, entry.scheme_id),
        }
        check(ACCOUNT_DIFFERS, account.id, pairs)
    if household is not None and household.village_id != entry.village_id:
        found.append((HOUSEHOLD_DIFFERS, {"id": entry.id, "seq": entry.seq, "ref": household.id}))
    if member is not None and member.household_id != entry.household_id:
        found.append((MEMBER_DIFFERS, {"id": entry.id, "seq": entry.seq, "ref": member.id}))
    if reversed_ is not None:
        pairs = {
            "village": (reversed_.village_id, entry.village_id),
            "account": (reversed_.account_id, entry.account_id),
            "order": (reversed_.seq < entry.seq, True),
        }
        if entry.kind == EntryKind.REVERSAL:
            pairs["points"] = (-reversed_.points, entry.points)
        check(REVERSED_DIFFERS, reversed_.id, pairs)
    return found
