"""Roster services and search: validation, permissions, audit, and finding households."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import NOW, VillageWorld, new_claim
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits.errors import NotFound, PermissionDenied, ValidationError
from credits.models import AuditEvent, Group, Household, Member
from credits.roster import (
    FieldError,
    FieldErrors,
    HouseholdData,
    MemberData,
    add_member,
    create_household,
    move_household,
    needs_delivery,
    set_household_active,
    set_member_active,
    update_household,
    update_member,
)
from credits.search import household_json, month_points, search_households, search_json
from credits.villages import add_household, ensure_group
from credits.workflow import post_due


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def counts(session: Session) -> tuple[int, int, int, int]:
    return tuple(count(session, m) for m in (Household, Member, Group, AuditEvent))  # type: ignore[return-value]


def last_event(session: Session) -> AuditEvent:
    event = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert event is not None
    return event


def create(session: Session, world: VillageWorld, **fields: object) -> Household:
    values: dict[str, object] = {"head_name": "王德胜", "group": "2组", "house_number": "8号"}
    values.update(fields)
    key = values.pop("key", None)
    return create_household(
        session,
        actor=world.users["admin"],
        village_id=world.village.id,
        data=HouseholdData(**values),  # type: ignore[arg-type]
        idempotency_key=key,  # type: ignore[arg-type]
        now=NOW,
    )


# ---- households ----


def test_a_new_household_has_its_head_as_first_member_and_is_audited(
    session: Session, world: VillageWorld
) -> None:
    home = create(
        session,
        world,
        phone="１３９ ０００ ０００ ０１",
        special_needs=("disabled",),
        head_gender="男",
        head_birth_year="1958.06",
    )

    assert (home.head_name, home.group.name if home.group else None) == ("王德胜", "二组")
    assert (home.phone, home.special_needs, needs_delivery(home)) == (
        "13900000001",
        "disabled",
        True,
    )
    assert [(m.name, m.relation, m.gender, m.birth_year) for m in home.members] == [
        ("王德胜", "户主", "男", 1958)
    ]
    assert home.head_key == " 王德胜 wds wangdesheng "
    event = last_event(session)
    assert (event.action, event.object_id, event.actor_id) == (
        "household.create",
        home.id,
        world.users["admin"].id,
    )
    assert event.after is not None and event.after["group"] == "二组"


def test_the_same_form_key_creates_one_household(session: Session, world: VillageWorld) -> None:
    first = create(session, world, key="k" * 32)
    second = create(session, world, key="k" * 32)
    assert first.id == second.id
    assert session.scalar(select(func.count()).where(Household.head_name == "王德胜")) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"head_name": " "}, "head_name", "The name is missing."),
        (
            {"head_name": "王德胜2"},
            "head_name",
            "The name %(name)s contains “%(char)s”, which is not part of a name.",
        ),
        (
            {"phone": "1390000"},
            "phone",
            "“%(value)s” is not a phone number: write an 11-digit "
            "mobile number or a landline such as 0571-88001234.",
        ),
        (
            {"head_birth_year": "1850"},
            "head_birth_year",
            "The birth year %(year)s is not between %(low)s and %(high)s.",
        ),
        (
            {"head_birth_year": "五八年"},
            "head_birth_year",
            "“%(value)s” is not a birth year: write it like 1965 or 1965.03.",
        ),
        ({"head_gender": "x"}, "head_gender", "“%(value)s” is not a gender: write 男 or 女."),
        (
            {"house_number": "号" * 51},
            "house_number",
            "A house number may have at most %(n)s characters.",
        ),
        (
            {"head_name": "张建华", "group": "第一组", "house_number": "1号"},
            "head_name",
            "The household of %(head)s (house number %(house)s) is already in the roster.",
        ),
    ],
)
def test_bad_household_input_is_refused_and_changes_nothing(
    session: Session, world: VillageWorld, fields: dict[str, object], field: str, message: str
) -> None:
    before = counts(session)
    with pytest.raises(FieldError) as info:
        create(session, world, **fields)
    session.rollback()
    assert (info.value.field, info.value.message) == (field, message)
    assert counts(session) == before


def test_only_village_admins_manage_households(
    session: Session, world: VillageWorld, other_world: VillageWorld
) -> None:
    before = counts(session)
    for actor in (world.users["clerk"], world.users["reviewer"], other_world.users["admin"]):
        with pytest.raises(PermissionDenied):
            create_household(
                session, actor=actor, village_id=world.village.id, data=HouseholdData("王五")
            )
        with pytest.raises(PermissionDenied):
            update_household(
                session,
                actor=actor,
                household_id=world.households[0].id,
                data=HouseholdData("张三"),
            )
    assert counts(session) == before


def test_renaming_the_head_renames_the_head_member_and_records_before_and_after(
    session: Session, world: VillageWorld
) -> None:
    home = world.households[0]
    update_household(
        session,
        actor=world.users["admin"],
        household_id=home.id,
        data=HouseholdData(
            "张建国", house_number="1号", phone="0571 8800 1234", special_needs=("elderly_alone",)
        ),
    )
    session.refresh(home)
    assert home.head_name == "张建国" and home.phone == "0571-88001234"
    assert [m.name for m in home.members] == ["张建国", "张小明"]
    assert [h.id for h in search_households(session, world.village.id, "zjg")] == [home.id]
    assert search_households(session, world.village.id, "zjh") == []
    event = last_event(session)
    assert event.action == "household.update"
    assert event.before is not None and event.after is not None
    assert (event.before["head_name"], event.after["head_name"]) == ("张建华", "张建国")
    assert (event.before["special_needs"], event.after["special_needs"]) == ("", "elderly_alone")


def test_moving_to_a_group_reuses_it_under_any_spelling(
    session: Session, world: VillageWorld
) -> None:
    home = world.households[1]
    move_household(session, actor=world.users["admin"], household_id=home.id, group="2组")
    two = home.group
    move_household(session, actor=world.users["admin"], household_id=home.id, group="一组")
    move_household(session, actor=world.users["admin"], household_id=home.id, group="第二组")
    assert home.group is two and two is not None and two.name == "二组"
    names = session.scalars(select(Group.name).where(Group.village_id == world.village.id)).all()
    assert sorted(names) == ["一组", "二组"]
    moves = session.scalars(select(AuditEvent).where(AuditEvent.action == "household.move")).all()
    assert [(e.before["group"], e.after["group"]) for e in moves if e.before and e.after] == [
        ("一组", "二组"),
        ("二组", "一组"),
        ("一组", "二组"),
    ]
    with pytest.raises(FieldError):
        move_household(session, actor=world.users["admin"], household_id=home.id, group=" ")


def test_a_household_with_pending_claims_cannot_be_deactivated(
    session: Session, world: VillageWorld
) -> None:
    claim = new_claim(session, world, household=0, approve_by="reviewer")
    with pytest.raises(ValidationError) as info:
        set_household_active(
            session, actor=world.users["admin"], household_id=world.households[0].id, active=False
        )
    assert info.value.params == {"n": 1}
    assert post_due(session, now=datetime(2026, 12, 31), village_id=world.village.id) == 1
    assert claim.id is not None and session.get(type(claim), claim.id).state == "posted"

    home = set_household_active(
        session,
        actor=world.users["admin"],
        household_id=world.households[0].id,
        active=False,
        reason="迁出",
    )
    assert home.active is False
    after = last_event(session).after
    assert after is not None and (after["reason"], after["active"]) == ("迁出", False)
    # Never deleted: the household, its members and its history are all still there
    # (asked of the database, not of the session's identity map).
    session.expire_all()
    assert session.scalar(select(func.count(Household.id)).where(Household.id == home.id)) == 1
    members = select(func.count(Member.id)).where(Member.household_id == home.id)
    assert session.scalar(members) == 2
    assert search_households(session, world.village.id, "张建华") == []
    set_household_active(session, actor=world.users["admin"], household_id=home.id, active=True)
    assert [h.id for h in search_households(session, world.village.id, "张建华")] == [home.id]


def test_unknown_households_and_members_are_not_found(
    session: Session, world: VillageWorld
) -> None:
    with pytest.raises(NotFound):
        set_household_active(session, actor=world.users["admin"], household_id=999, active=False)
    with pytest.raises(NotFound):
        set_member_active(session, actor=world.users["admin"], member_id=999, active=False)


# ---- members ----


def test_members_are_added_edited_and_marked_gone(session: Session, world: VillageWorld) -> None:
    home = world.households[0]
    admin = world.users["admin"]
    member = add_member(
        session,
        actor=admin,
        household_id=home.id,
        data=MemberData("张小红", "女", "女", "2001年5月", "13700000001"),
        idempotency_key="m" * 32,
        now=NOW,
    )
    again = add_member(
        session,
        actor=admin,
        household_id=home.id,
        data=MemberData("张小红"),
        idempotency_key="m" * 32,
    )
    assert again.id == member.id
    assert (member.birth_year, member.phone) == (2001, "13700000001")
    assert [h.id for h in search_households(session, world.village.id, "zxh")] == [home.id]

    update_member(
        session,
        actor=admin,
        member_id=member.id,
        data=MemberData("张晓红", "孙女", "女", 2001),
        now=NOW,
    )
    assert member.name == "张晓红" and member.relation == "孙女" and member.phone == ""
    event = last_event(session)
    assert event.action == "member.update" and event.before and event.before["name"] == "张小红"

    set_member_active(session, actor=admin, member_id=member.id, active=False)
    assert member.active is False
    assert search_households(session, world.village.id, "张晓红") == []
    set_member_active(session, actor=admin, member_id=member.id, active=True)
    assert [h.id for h in search_households(session, world.village.id, "张晓红")] == [home.id]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (MemberData("张小明"), "name", "%(name)s is already a member of this household."),
        (
            MemberData("张二", "户主"),
            "relation",
            "A household has one head; change the head's name in the household form.",
        ),
        (
            MemberData("张二", birth_year="2099"),
            "birth_year",
            "The birth year %(year)s is not between %(low)s and %(high)s.",
        ),
        (
            MemberData("张二", phone="abc"),
            "phone",
            "“%(value)s” is not a phone number: write an "
            "11-digit mobile number or a landline such as 0571-88001234.",
        ),
    ],
)
def test_bad_member_input_is_refused_and_changes_nothing(
    session: Session, world: VillageWorld, data: MemberData, field: str, message: str
) -> None:
    before = counts(session)
    with pytest.raises(FieldError) as info:
        add_member(
            session,
            actor=world.users["admin"],
            household_id=world.households[0].id,
            data=data,
            now=NOW,
        )
    session.rollback()
    assert (info.value.field, info.value.message) == (field, message)
    assert counts(session) == before


def test_the_head_member_stays_the_head(session: Session, world: VillageWorld) -> None:
    home = world.households[0]
    head = next(m for m in home.members if m.relation == "户主")
    with pytest.raises(ValidationError):
        set_member_active(session, actor=world.users["admin"], member_id=head.id, active=False)
    with pytest.raises(FieldError):
        update_member(
            session,
            actor=world.users["admin"],
            member_id=head.id,
            data=MemberData("张建华", "父亲"),
        )
    update_member(
        session, actor=world.users["admin"], member_id=head.id, data=MemberData("张建民", "户主")
    )
    assert home.head_name == "张建民"


def test_clerks_may_not_change_members(session: Session, world: VillageWorld) -> None:
    with pytest.raises(PermissionDenied):
        add_member(
            session,
            actor=world.users["clerk"],
            household_id=world.households[0].id,
            data=MemberData("张二"),
        )


# ---- search ----


@pytest.fixture
def searchable(session: Session, world: VillageWorld) -> VillageWorld:
    """The world plus households whose names test pinyin, surnames and house numbers."""
    two = ensure_group(session, world.village, "二组")
    add_household(
        session,
        world.village,
        head_name="曾国庆",
        group=two,
        house_number="12号",
        members=[{"name": "曾国庆", "relation": "户主"}, {"name": "吕长生", "relation": "女婿"}],
    )
    add_household(session, world.village, head_name="章佳慧", group=two, house_number="112号")
    session.commit()
    return world


@pytest.mark.parametrize(
    ("q", "heads"),
    [
        ("张建华", ["张建华"]),
        ("建华", ["张建华"]),
        ("zjh", ["张建华", "章佳慧"]),
        ("ZJH", ["张建华", "章佳慧"]),
        ("ｚｊｈ", ["张建华", "章佳慧"]),
        ("zhangjian", ["张建华"]),
        ("zjhu", []),
        ("oymh", ["欧阳明华"]),
        ("zgq", ["曾国庆"]),
        ("cgq", ["曾国庆"]),
        ("lcs", ["曾国庆"]),
        ("lucha", ["曾国庆"]),
        ("吕长生", ["曾国庆"]),
        ("小明", ["张建华", "李秀兰", "欧阳明华"]),
        ("12号", ["曾国庆", "章佳慧"]),
        ("2号", ["李秀兰", "曾国庆", "章佳慧"]),
        ("112", ["章佳慧"]),
        ("二组", ["曾国庆", "章佳慧"]),
        ("2组", ["曾国庆", "章佳慧"]),
        ("第2组", ["曾国庆", "章佳慧"]),
        ("%", []),
        ("_", []),
        ("", []),
    ],
)
def test_households_are_found_by_name_initials_pinyin_house_number_and_group(
    session: Session, searchable: VillageWorld, q: str, heads: list[str]
) -> None:
    found = search_households(session, searchable.village.id, q)
    assert [h.head_name for h in found] == heads


def test_search_ranks_the_head_before_members_and_stays_in_its_village(
    session: Session, searchable: VillageWorld, other_world: VillageWorld
) -> None:
    # 张建华 is the head's own initials; 曾国庆's household only has them through a member.
    add_household(
        session,
        searchable.village,
        head_name="王五",
        group=None,
        members=[{"name": "王五", "relation": "户主"}, {"name": "张建华", "relation": "子"}],
    )
    session.commit()
    assert [h.head_name for h in search_households(session, searchable.village.id, "zjh")] == [
        "张建华",
        "章佳慧",
        "王五",
    ]
    assert [h.head_name for h in search_households(session, searchable.village.id, "张建华")] == [
        "张建华",
        "王五",
    ]
    other = search_households(session, other_world.village.id, "zjh")
    assert [h.village_id for h in other] == [other_world.village.id]
    assert len(search_households(session, searchable.village.id, "z", limit=2)) == 2


def test_household_json_has_the_shape_the_recording_page_uses(
    session: Session, world: VillageWorld
) -> None:
    new_claim(session, world, household=0, approve_by="reviewer")
    post_due(session, now=datetime(2026, 12, 31), village_id=world.village.id)
    home = world.households[0]
    points = month_points(session, world.village.id, [home.id, world.households[1].id], 202611)
    assert points == {home.id: 10, world.households[1].id: 0}

    members = sorted(home.members, key=lambda m: m.id)
    assert household_json(home, 10) == {
        "id": home.id,
        "head_name": "张建华",
        "house_number": "1号",
        "group": "一组",
        "month_points": 10,
        "members": [
            {
                "id": members[0].id,
                "name": "张建华",
                "relation": "户主",
                "birth_year": members[0].birth_year,
                "label": "张建华",
            },
            {
                "id": members[1].id,
                "name": "张小明",
                "relation": "子",
                "birth_year": members[1].birth_year,
                "label": "张小明",
            },
        ],
        "matched": [],
    }
    answer = search_json(session, world.village.id, "zjh")
    assert [h["head_name"] for h in answer["households"]] == ["张建华"]
    assert set(answer["households"][0]) == {
        "id",
        "head_name",
        "house_number",
        "group",
        "month_points",
        "members",
        "matched",
    }


def test_every_bad_field_is_named_at_once(session: Session, world: VillageWorld) -> None:
    before = counts(session)
    with pytest.raises(FieldErrors) as info:
        create(session, world, head_name="", phone="123", head_birth_year="1850")
    assert [e.field for e in info.value.errors] == ["head_name", "phone", "head_birth_year"]
    with pytest.raises(FieldErrors) as member_info:
        add_member(
            session,
            actor=world.users["admin"],
            household_id=world.households[0].id,
            data=MemberData("张二", gender="?", birth_year="x"),
            now=NOW,
        )
    assert [e.field for e in member_info.value.errors] == ["gender", "birth_year"]
    assert counts(session) == before
