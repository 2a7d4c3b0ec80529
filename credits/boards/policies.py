"""Policies of a scheme: base score, threshold, reset or carry-over, expiry, red-line bar,
star rules, board settings, and exclusive groups of rules (one deed earns one item)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, require
from credits.boards.periods import shift_months
from credits.caps import period_of
from credits.db import utcnow
from credits.errors import DomainError, NotFound, ValidationError
from credits.i18n import N_
from credits.models import (
    Claim,
    Household,
    Rule,
    RuleGroup,
    RuleGroupMember,
    Scheme,
    SchemePolicy,
    User,
)
from credits.models.claim import LIVE_STATES

RESETS = ("carry", "yearly")
RED_LINE_MONTHS = 12  # a red-line deduction bars stars and the honour roll this long
STAR_KINDS = ("none", "category", "score")
MAX_STARS = 5


class ExclusiveClaim(DomainError):
    code = "exclusive_group"
    status = 409
    message = N_(
        "This deed already earned an item of the same group: %(title)s (claim no. %(id)s, "
        "%(points)s points). A deed earns the highest item of a group only; withdraw that "
        "claim first if this item is higher."
    )


@dataclass(frozen=True)
class Policy:
    """A scheme's policy as plain values (defaults when the village set none)."""

    base_score: int = 0
    threshold: int | None = None
    reset: str = "carry"
    expiry_years: int | None = None
    star_kind: str = "none"
    star_min_points: int = 20  # category stars: points a category needs in the year
    star_levels: tuple[int, ...] = ()  # score stars: yearly points for 1, 2, … stars
    adopted_on: date | None = None
    mask_red_names: bool = False
    black_board: bool = False
    committee: str = ""
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name → rule codes

    def star_rules(self) -> dict[str, Any]:
        return {
            "kind": self.star_kind,
            "min_points": self.star_min_points,
            "levels": list(self.star_levels),
        }


def window(policy: Policy, today: date) -> tuple[int, int]:
    """The months whose points still count towards the standing score (inclusive yyyymm)."""
    now = period_of(today)
    if policy.reset == "yearly":
        return today.year * 100 + 1, now
    if policy.expiry_years:
        return shift_months(now, -12 * policy.expiry_years + 1), now
    return 190001, now


def standing_score(policy: Policy, monthly: Mapping[int, int], today: date) -> int:
    """The base score plus the points of the months in the policy's window."""
    first, last = window(policy, today)
    return policy.base_score + sum(v for p, v in monthly.items() if first <= p <= last)


def below_threshold(policy: Policy, score: int) -> bool:
    """Tell whether a standing score has fallen below the benefits threshold."""
    return policy.threshold is not None and score < policy.threshold


def barred(red_line_months: Mapping[int, int], period: int) -> bool:
    """Tell whether a red-line deduction in the 12 months up to `period` bars honours."""
    first = shift_months(period, -RED_LINE_MONTHS + 1)
    return any(n > 0 for p, n in red_line_months.items() if first <= p <= period)


def _from_row(row: SchemePolicy | None, groups: dict[str, tuple[str, ...]]) -> Policy:
    if row is None:
        return Policy(groups=groups)
    stars: dict[str, Any] = dict(row.star_rules or {})
    levels = list(stars.get("levels") or [])
    return Policy(
        base_score=row.base_score,
        threshold=row.threshold,
        reset=row.reset,
        expiry_years=row.expiry_years,
        star_kind=str(stars.get("kind") or "none"),
        star_min_points=int(stars.get("min_points") or 20),
        star_levels=tuple(int(v) for v in levels),
        adopted_on=row.adopted_on,
        mask_red_names=row.mask_red_names,
        black_board=row.black_board,
        committee=row.committee,
        groups=groups,
    )


def load_policy(session: Session, scheme: Scheme) -> Policy:
    """Return a scheme's policy with its exclusive groups."""
    row = session.scalar(
        select(SchemePolicy).where(
            SchemePolicy.village_id == scheme.village_id, SchemePolicy.scheme_id == scheme.id
        )
    )
    groups: dict[str, list[str]] = {}
    for name, code in session.execute(
        select(RuleGroup.name, Rule.code)
        .join(RuleGroupMember, RuleGroupMember.group_id == RuleGroup.id)
        .join(Rule, Rule.id == RuleGroupMember.rule_id)
        .where(RuleGroup.village_id == scheme.village_id, RuleGroup.scheme_id == scheme.id)
        .order_by(RuleGroup.name, Rule.position, Rule.id)
    ):
        groups.setdefault(name, []).append(code)
    return _from_row(row, {k: tuple(v) for k, v in groups.items()})


def parse_groups(text: str) -> dict[str, tuple[str, ...]]:
    """Read exclusive groups written one a line: `name: CODE1, CODE2`."""
    groups: dict[str, tuple[str, ...]] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        name, sep, codes = line.replace("：", ":").partition(":")
        items = tuple(c.strip() for c in codes.replace("，", ",").split(",") if c.strip())
        if not sep or not name.strip() or len(items) < 2 or len(name.strip()) > 50:
            raise ValidationError(
                N_("Line %(n)s: write a group as “name: CODE1, CODE2” (two rules or more)."),
                n=number,
            )
        groups[name.strip()] = items
    return groups


def check_policy(policy: Policy) -> None:
    """Refuse a policy whose values make no sense."""
    if policy.reset not in RESETS:
        raise ValidationError(N_("Choose carry-over or a yearly reset."))
    if policy.star_kind not in STAR_KINDS:
        raise ValidationError(N_("Choose how stars are given."))
    if not 0 <= policy.base_score <= 100000:
        raise ValidationError(N_("The base score must be between 0 and 100000."))
    if policy.threshold is not None and not -100000 <= policy.threshold <= 100000:
        raise ValidationError(N_("The threshold must be between -100000 and 100000."))
    if policy.expiry_years is not None and not 1 <= policy.expiry_years <= 20:
        raise ValidationError(N_("Points may expire after 1 to 20 years."))
    if policy.star_kind == "score" and (
        not policy.star_levels
        or len(policy.star_levels) > MAX_STARS
        or list(policy.star_levels) != sorted(set(policy.star_levels))
        or policy.star_levels[0] <= 0
    ):
        raise ValidationError(
            N_("Write up to five rising point levels for the stars, e.g. 50, 100, 200.")
        )
    if policy.star_kind == "category" and not 1 <= policy.star_min_points <= 100000:
        raise ValidationError(N_("A category star needs between 1 and 100000 points."))


def save_policy(
    session: Session,
    *,
    actor: User,
    scheme_id: int,
    policy: Policy,
    ip: str | None = None,
    now: datetime | None = None,
) -> Policy:
    """Store a scheme's policy and exclusive groups (village admins; audited)."""
    now = now or utcnow()
    scheme = session.get(Scheme, scheme_id)
    if scheme is None:
        raise NotFound()
    require(session, actor, Permission.MANAGE, scheme.village_id)
    check_policy(policy)
    rules = {
        r.code: r
        for r in session.scalars(
            select(Rule).where(Rule.village_id == scheme.village_id, Rule.scheme_id == scheme.id)
        )
    }
    seen: dict[str, str] = {}
    for name, codes in policy.groups.items():
        for code in codes:
            if code not in rules:
                raise ValidationError(N_("This scheme has no rule %(code)s."), code=code[:20])
            if code in seen:
                raise ValidationError(
                    N_("Rule %(code)s is in two groups; a rule belongs to one group only."),
                    code=code,
                )
            seen[code] = name
    before = load_policy(session, scheme)
    row = session.scalar(
        select(SchemePolicy).where(
            SchemePolicy.village_id == scheme.village_id, SchemePolicy.scheme_id == scheme.id
        )
    )
    if row is None:
        row = SchemePolicy(village_id=scheme.village_id, scheme_id=scheme.id)
        session.add(row)
    row.base_score, row.threshold, row.reset = policy.base_score, policy.threshold, policy.reset
    row.expiry_years, row.star_rules = policy.expiry_years, policy.star_rules()
    row.adopted_on, row.mask_red_names = policy.adopted_on, policy.mask_red_names
    row.black_board, row.committee, row.updated_at = policy.black_board, policy.committee, now
    for group in session.scalars(
        select(RuleGroup).where(
            RuleGroup.village_id == scheme.village_id, RuleGroup.scheme_id == scheme.id
        )
    ):
        session.delete(group)
    session.flush()
    for name, codes in policy.groups.items():
        group = RuleGroup(village_id=scheme.village_id, scheme_id=scheme.id, name=name)
        group.members = [
            RuleGroupMember(village_id=scheme.village_id, rule_id=rules[c].id) for c in codes
        ]
        session.add(group)
    audit.log(
        session,
        "scheme.policy",
        actor=actor,
        village_id=scheme.village_id,
        obj=scheme,
        ip=ip,
        at=now,
        before=_plain(before),
        after=_plain(policy),
    )
    session.commit()
    return load_policy(session, scheme)


def _plain(policy: Policy) -> dict[str, Any]:
    values = asdict(policy)
    values["adopted_on"] = policy.adopted_on.isoformat() if policy.adopted_on else None
    values["star_levels"] = list(policy.star_levels)
    values["groups"] = {k: list(v) for k, v in policy.groups.items()}
    return values


def check_exclusive(
    session: Session, household_id: int, member_id: int | None, deed_date: date, rule: Rule
) -> None:
    """Refuse a second claim of an exclusive group for one household, member and deed date.

    The message names the first claim, so the clerk can withdraw it if this item is higher.
    """
    group_id = session.scalar(
        select(RuleGroupMember.group_id).where(
            RuleGroupMember.village_id == rule.village_id, RuleGroupMember.rule_id == rule.id
        )
    )
    if group_id is None:
        return
    in_group = select(RuleGroupMember.rule_id).where(
        RuleGroupMember.village_id == rule.village_id, RuleGroupMember.group_id == group_id
    )
    member = Claim.member_id.is_(None) if member_id is None else Claim.member_id == member_id
    first = session.scalar(
        select(Claim)
        .where(
            Claim.village_id == rule.village_id,
            Claim.household_id == household_id,
            Claim.deed_date == deed_date,
            member,
            Claim.rule_id.in_(in_group),
            Claim.state.in_([s.value for s in LIVE_STATES]),
        )
        .order_by(Claim.id)
        .limit(1)
    )
    if first is not None:
        raise ExclusiveClaim(title=first.rule_version.title, id=first.id, points=first.points)


def household_of(session: Session, village_id: int, household_id: int) -> Household:
    """A household of the village, or NotFound."""
    household = session.get(Household, household_id)
    if household is None or household.village_id != village_id:
        raise NotFound()
    return household
