"""Schemes and their rules: loading a preset, and changing a rule as a new version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, require
from credits.db import lock_row
from credits.errors import NotFound, ValidationError
from credits.i18n import N_
from credits.models import Rule, RuleVersion, Scheme, User, Village
from credits.preset_data import PresetError, load_preset

RULE_FIELDS = (
    "category",
    "title",
    "points",
    "cap_month",
    "cap_year",
    "evidence_required",
    "red_line",
)


@dataclass(frozen=True)
class RuleInput:
    """The editable content of a rule."""

    category: str
    title: str
    points: int
    cap_month: int | None = None
    cap_year: int | None = None
    evidence_required: bool = False
    red_line: bool = False

    def validate(self) -> None:
        """Refuse a rule a village could not sensibly adopt."""
        if not self.category.strip() or not self.title.strip():
            raise ValidationError(N_("A rule needs a category and a title."))
        if len(self.category.strip()) > 20 or len(self.title.strip()) > 60:
            raise ValidationError(
                N_("Keep it short: a category of at most 20 and a title of at most 60 characters.")
            )
        if self.points == 0 or abs(self.points) > 1000:
            raise ValidationError(N_("Points must be a non-zero whole number up to 1000."))
        for cap in (self.cap_month, self.cap_year):
            if cap is not None and cap < abs(self.points):
                raise ValidationError(N_("A cap cannot be smaller than the rule's points."))
        if self.red_line and self.points > 0:
            raise ValidationError(N_("Only a deduction can be a red line."))


def _version_of(rule: Rule, actor: User | None) -> RuleVersion:
    return RuleVersion(
        village_id=rule.village_id,
        rule_id=rule.id,
        version=rule.version,
        created_by_id=actor.id if actor else None,
        **{f: getattr(rule, f) for f in RULE_FIELDS},
    )


def add_rule(
    session: Session,
    scheme: Scheme,
    code: str,
    data: RuleInput,
    *,
    actor: User | None = None,
    position: int | None = None,
) -> Rule:
    """Add a rule and its first version to a scheme (inside the caller's transaction)."""
    data.validate()
    if position is None:
        position = (
            session.scalar(select(func.max(Rule.position)).where(Rule.scheme_id == scheme.id)) or 0
        ) + 1
    rule = Rule(
        village_id=scheme.village_id,
        scheme_id=scheme.id,
        code=code,
        position=position,
        version=1,
        **{f: getattr(data, f) for f in RULE_FIELDS},
    )
    session.add(rule)
    session.flush()
    session.add(_version_of(rule, actor))
    return rule


def change_rule(
    session: Session, *, actor: User, rule_id: int, data: RuleInput, ip: str | None = None
) -> Rule:
    """Change a rule's wording or value; past claims keep the version they were made under."""
    rule = session.get(Rule, rule_id)
    if rule is None:
        raise NotFound()
    require(session, actor, Permission.MANAGE, rule.village_id)
    data.validate()
    lock_row(session, "rule", "id", rule.id)  # one new version at a time
    session.refresh(rule)
    if all(getattr(rule, f) == getattr(data, f) for f in RULE_FIELDS):
        return rule  # nothing changed (or the same form sent twice): no new version
    before = audit.snapshot(rule, "version", *RULE_FIELDS)
    for f in RULE_FIELDS:
        setattr(rule, f, getattr(data, f))
    rule.version += 1
    session.add(_version_of(rule, actor))
    audit.log(
        session,
        "rule.change",
        actor=actor,
        village_id=rule.village_id,
        obj=rule,
        ip=ip,
        before=before,
        after=audit.snapshot(rule, "version", *RULE_FIELDS),
    )
    session.commit()
    return rule


def create_rule(
    session: Session,
    *,
    actor: User,
    scheme_id: int,
    data: RuleInput,
    ip: str | None = None,
) -> Rule:
    """Add a rule to a scheme's catalogue, with its first version."""
    scheme = session.get(Scheme, scheme_id)
    if scheme is None:
        raise NotFound()
    require(session, actor, Permission.MANAGE, scheme.village_id)
    data.validate()
    lock_row(session, "scheme", "id", scheme.id)  # two admins adding at once get two codes
    taken = set(session.scalars(select(Rule.code).where(Rule.scheme_id == scheme.id)))
    number = len(taken) + 1
    while f"R{number:03d}" in taken:
        number += 1
    rule = add_rule(session, scheme, f"R{number:03d}", data, actor=actor)
    audit.log(
        session,
        "rule.create",
        actor=actor,
        village_id=rule.village_id,
        obj=rule,
        ip=ip,
        after=audit.snapshot(rule, "code", "version", *RULE_FIELDS),
    )
    session.commit()
    return rule


def set_rule_active(
    session: Session, *, actor: User, rule_id: int, active: bool, ip: str | None = None
) -> Rule:
    """Retire a rule from the recording page, or bring it back; its history stays."""
    rule = session.get(Rule, rule_id)
    if rule is None:
        raise NotFound()
    require(session, actor, Permission.MANAGE, rule.village_id)
    if rule.active != active:
        rule.active = active
        audit.log(
            session,
            "rule.activate" if active else "rule.retire",
            actor=actor,
            village_id=rule.village_id,
            obj=rule,
            ip=ip,
            before={"active": not active},
            after={"active": active},
        )
    session.commit()
    return rule


def load_preset_into(
    session: Session, village: Village, key_or_path: str | Path, *, actor: User | None = None
) -> Scheme:
    """Create a scheme of a village from a preset catalogue, with every rule."""
    try:
        preset = load_preset(key_or_path)
    except PresetError as exc:
        raise ValidationError(N_("The preset cannot be loaded: %(error)s"), error=str(exc)) from exc
    if session.scalar(
        select(Scheme.id).where(Scheme.village_id == village.id, Scheme.key == preset.key)
    ):
        raise ValidationError(N_("This village already has the scheme %(name)s."), name=preset.name)
    scheme = Scheme(
        village_id=village.id,
        key=preset.key,
        name=preset.name,
        unit=preset.unit,
        notice_days=preset.notice_days,
        description=preset.description,
    )
    session.add(scheme)
    session.flush()
    for position, item in enumerate(preset.rules, start=1):
        add_rule(
            session,
            scheme,
            item.code,
            RuleInput(
                category=item.category,
                title=item.title,
                points=item.points,
                cap_month=item.cap_month,
                cap_year=item.cap_year,
                evidence_required=item.evidence_required,
                red_line=item.red_line,
            ),
            actor=actor,
            position=position,
        )
    audit.log(
        session,
        "scheme.create",
        actor=actor,
        village_id=village.id,
        obj=scheme,
        after={"preset": preset.key, "rules": len(preset.rules)},
    )
    session.commit()
    return scheme


def rules_by_category(session: Session, scheme: Scheme) -> list[tuple[str, list[Rule]]]:
    """Return a scheme's rules grouped by category, in catalogue order."""
    groups: dict[str, list[Rule]] = {}
    for rule in session.scalars(
        select(Rule)
        .where(Rule.village_id == scheme.village_id, Rule.scheme_id == scheme.id)
        .order_by(Rule.position, Rule.id)
    ):
        groups.setdefault(rule.category, []).append(rule)
    return list(groups.items())
