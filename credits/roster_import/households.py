"""From rows to planned households: heads start them, members join them, repeats fold in."""

from __future__ import annotations

from credits.i18n import N_
from credits.models import Household
from credits.roster import HEAD
from credits.roster_import.cells import union_needs
from credits.roster_import.plan import (
    ERROR,
    WARNING,
    PlannedHousehold,
    PlannedMember,
    Preview,
    Row,
)
from credits.search import canonical_group

KnownByHead = dict[tuple[str, str], list[Household]]  # (group, head) → the roster's households
PlannedByHead = dict[str, list[PlannedHousehold]]


def assemble(rows: list[Row], preview: Preview, known: KnownByHead) -> None:
    """Group the rows into planned households on the preview, heads first, then members."""
    by_head: PlannedByHead = {}
    for row in (r for r in rows if r.is_head):
        _add_head(preview, by_head, row)
    for row in (r for r in rows if not r.is_head):
        household = _household_for(preview, row, by_head, known)
        if household is None:
            continue
        household.lines.append(row.line)
        if row.needs:
            household.special_needs = union_needs(household.special_needs, row.needs)
        _add_member(preview, household, row)


def _add_head(preview: Preview, by_head: PlannedByHead, row: Row) -> None:
    """A head's line starts a household, or folds into the same head listed earlier."""
    same = [
        h
        for h in by_head.get(row.head, [])
        if (h.group == row.group or not h.group or not row.group)
        and (not h.house_number or not row.house or h.house_number == row.house)
    ]
    if same:
        household = same[0]
        preview.note(
            row.line,
            WARNING,
            N_("%(head)s is listed again (first on line %(first)s): taken as one household."),
            sheet=row.sheet,
            head=row.head,
            first=household.line,
        )
        _merge_head(preview, household, row)
        return
    household = PlannedHousehold(
        group=row.group,
        head_name=row.head,
        house_number=row.house,
        phone=row.phone,
        special_needs=row.needs,
        lines=[row.line],
        sheet=row.sheet,
    )
    household.members.append(
        PlannedMember(row.name, HEAD, row.gender, row.birth_year, "", row.line)
    )
    by_head.setdefault(row.head, []).append(household)
    preview.households.append(household)


def _merge_head(preview: Preview, household: PlannedHousehold, row: Row) -> None:
    household.lines.append(row.line)
    household.house_number = household.house_number or row.house
    household.group = household.group or row.group
    if row.phone and household.phone and row.phone != household.phone:
        preview.note(
            row.line,
            ERROR,
            N_("Line %(first)s gives %(head)s the phone %(a)s, this line %(b)s."),
            sheet=row.sheet,
            first=household.line,
            head=row.head,
            a=household.phone,
            b=row.phone,
        )
    household.phone = household.phone or row.phone
    if row.needs is not None:
        household.special_needs = union_needs(household.special_needs, row.needs)
    _merge_person(preview, household.members[0], row, household)


def _merge_person(
    preview: Preview, member: PlannedMember, row: Row, household: PlannedHousehold
) -> bool:
    """Fold a repeated line of one person in; report details that disagree."""
    conflicts = [
        label
        for label, mine, theirs in (
            ("gender", member.gender, row.gender),
            ("birth_year", member.birth_year, row.birth_year),
            ("relation", member.relation, row.relation if member.relation != HEAD else HEAD),
            ("phone", member.phone, row.phone if member.relation != HEAD else ""),
        )
        if mine and theirs and mine != theirs
    ]
    if conflicts:
        preview.note(
            row.line,
            ERROR,
            N_(
                "%(name)s is listed twice in the household of %(head)s with different "
                "details (lines %(first)s and %(second)s)."
            ),
            sheet=row.sheet,
            name=row.name,
            head=household.head_name,
            first=member.line,
            second=row.line,
        )
        return False
    member.gender = member.gender or row.gender
    member.birth_year = member.birth_year or row.birth_year
    if member.relation != HEAD:
        member.relation = member.relation or row.relation
        member.phone = member.phone or row.phone
    return True


def _household_for(
    preview: Preview, row: Row, by_head: PlannedByHead, known: KnownByHead
) -> PlannedHousehold | None:
    """The planned household a member line belongs to, or None with a problem noted."""
    candidates = by_head.get(row.head, [])
    in_group = [h for h in candidates if not row.group or h.group == row.group]
    if len(in_group) > 1 and row.house:
        in_group = [h for h in in_group if h.house_number == row.house] or in_group
    if len(in_group) == 1:
        household = in_group[0]
        row.group = row.group or household.group
        return household
    if len(in_group) > 1:
        preview.note(
            row.line,
            ERROR,
            N_(
                "More than one household has the head %(head)s; give this line the "
                "house number of the right one."
            ),
            sheet=row.sheet,
            head=row.head,
        )
        return None
    joined = _known_household(preview, row, by_head, known)
    if joined is not None:
        return joined
    if candidates:
        preview.note(
            row.line,
            ERROR,
            N_("The head %(head)s of %(name)s is in %(group)s (line %(first)s), not in %(here)s."),
            sheet=row.sheet,
            head=row.head,
            name=row.name,
            group=candidates[0].group or "—",
            first=candidates[0].line,
            here=row.group,
        )
        return None
    preview.note(
        row.line,
        ERROR,
        N_("The head %(head)s of %(name)s is nowhere in the file."),
        sheet=row.sheet,
        head=row.head,
        name=row.name,
    )
    return None


def _known_household(
    preview: Preview, row: Row, by_head: PlannedByHead, known: KnownByHead
) -> PlannedHousehold | None:
    """A head already in the roster may gain members from a short file that lacks its line."""
    homes = [
        h
        for (group, head), found in known.items()
        if head == row.head and (not row.group or group == row.group)
        for h in found
        if h.active
    ]
    if len(homes) != 1:
        return None
    home = homes[0]
    household = PlannedHousehold(
        group=canonical_group(home.group.name) if home.group else "",
        head_name=home.head_name,
        house_number=home.house_number,
        phone="",
        special_needs=None,
        lines=[],
        sheet=row.sheet,
        has_head_row=False,
    )
    by_head.setdefault(row.head, []).append(household)
    preview.households.append(household)
    return household


def _add_member(preview: Preview, household: PlannedHousehold, row: Row) -> None:
    namesake: PlannedMember | None = None
    for member in household.members:
        if member.name != row.name:
            continue
        if member.birth_year and row.birth_year and member.birth_year != row.birth_year:
            namesake = member  # born in another year: another person of that name
            continue
        if _merge_person(preview, member, row, household):
            preview.note(
                row.line,
                WARNING,
                N_(
                    "%(name)s is listed twice in the household of %(head)s (first on "
                    "line %(first)s): counted once."
                ),
                sheet=row.sheet,
                name=row.name,
                head=household.head_name,
                first=member.line,
            )
        return
    if namesake is not None:
        preview.note(
            row.line,
            WARNING,
            N_(
                "Two people named %(name)s in the household of %(head)s (lines %(first)s "
                "and %(second)s), born in %(a)s and %(b)s: taken as two people."
            ),
            sheet=row.sheet,
            name=row.name,
            head=household.head_name,
            first=namesake.line,
            second=row.line,
            a=namesake.birth_year,
            b=row.birth_year,
        )
    household.members.append(
        PlannedMember(row.name, row.relation, row.gender, row.birth_year, row.phone, row.line)
    )
