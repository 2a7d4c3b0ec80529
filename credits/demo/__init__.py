"""The demo village: one township, one village, two schemes, ~60 households, six months."""

from __future__ import annotations

import io
import random
import tomllib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from credits.db import utcnow
from credits.demo.shop import load_shop_demo
from credits.errors import CapExceeded
from credits.evidence import PhotoStore, store_photo
from credits.models import Household, Role, Rule, Scheme, User, Village
from credits.rules import load_preset_into
from credits.users import create_user
from credits.villages import add_household, create_village, ensure_group
from credits.workflow import ClaimInput, approve_claim, post_due, record_claim

NAMES_FILE = Path(__file__).resolve().parent / "names.toml"
DEMO_PASSWORD = "taoyuan-2026"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    display_name: str


DEMO_USERS = (
    DemoLogin("admin", Role.VILLAGE_ADMIN, "李书记"),
    DemoLogin("clerk", Role.CLERK, "王录入"),
    DemoLogin("clerk2", Role.CLERK, "陈网格"),
    DemoLogin("reviewer", Role.REVIEWER, "赵监督"),
    DemoLogin("reviewer2", Role.REVIEWER, "孙评议"),
    DemoLogin("cashier", Role.CASHIER, "周超市"),
    DemoLogin("township", Role.TOWNSHIP_ADMIN, "镇积分办"),
)


def demo_loaded(session: Session) -> bool:
    """Tell whether the database already holds any village (demo or real)."""
    return session.scalar(select(Village.id).limit(1)) is not None


def _people(rng: random.Random, names: dict[str, Any], count: int) -> list[dict[str, Any]]:
    surname = rng.choice(names["surnames"])
    head_male = rng.random() < 0.8
    head = surname + rng.choice(names["given_male" if head_male else "given_female"])
    year = rng.randint(1948, 1985)
    people = [
        {
            "name": head,
            "relation": "户主",
            "gender": "男" if head_male else "女",
            "birth_year": year,
        }
    ]
    if count > 1:
        spouse_surname = rng.choice(names["surnames"])
        people.append(
            {
                "name": spouse_surname
                + rng.choice(names["given_female" if head_male else "given_male"]),
                "relation": "配偶",
                "gender": "女" if head_male else "男",
                "birth_year": year + rng.randint(-3, 3),
            }
        )
    for _ in range(count - 2):
        male = rng.random() < 0.5
        people.append(
            {
                "name": surname + rng.choice(names["given_male" if male else "given_female"]),
                "relation": "子" if male else "女",
                "gender": "男" if male else "女",
                "birth_year": year + rng.randint(22, 32),
            }
        )
    return people


def load_demo(
    session: Session,
    *,
    now: datetime | None = None,
    households: int = 60,
    seed: int = 7,
    photos: PhotoStore | None = None,
) -> Village:
    """Create the demo village with its staff, households and six months of history.

    With a photo store, rules that need evidence get a generated photo; without one the
    demo leaves those rules out.
    """
    now = now or utcnow()
    rng = random.Random(seed)
    names = tomllib.loads(NAMES_FILE.read_text(encoding="utf-8"))
    info = names["village"]
    village = create_village(
        session, township=info["township"], name=info["name"], code=info["code"], county="青山县"
    )
    schemes = [
        load_preset_into(session, village, "merit_bank"),
        load_preset_into(session, village, "family_bank"),
    ]
    groups = [ensure_group(session, village, g) for g in names["group_names"]]
    homes: list[Household] = []
    for i in range(households):
        group = groups[i % len(groups)]
        people = _people(rng, names, rng.randint(1, 5))
        homes.append(
            add_household(
                session,
                village,
                head_name=people[0]["name"],
                group=group,
                house_number=f"{info['name']}{groups.index(group) + 1}组{i // 3 + 1}号",
                phone=f"13{rng.randint(100000000, 999999999)}",
                members=people,
            )
        )
    session.commit()
    users = _demo_users(session, village, homes)
    _history(session, _Recorder(rng, names, photos), village, schemes, homes, users, now)
    load_shop_demo(session, village, homes, users, rng, now, photos)
    return village


def _demo_users(session: Session, village: Village, homes: list[Household]) -> dict[str, User]:
    users: dict[str, User] = {}
    township_id = village.region_id
    for login in DEMO_USERS:
        region_role = login.role == Role.TOWNSHIP_ADMIN
        users[login.username] = create_user(
            session,
            username=login.username,
            password=DEMO_PASSWORD,
            role=login.role,
            display_name=login.display_name,
            village_id=None if region_role else village.id,
            region_id=township_id if region_role else None,
            # The first reviewer lives in the first household: recusal shows in the demo.
            household_id=homes[0].id if login.username == "reviewer" else None,
        )
    return users


class _Recorder:
    """Records demo claims like a clerk would, with a photo where the rule asks for one."""

    def __init__(self, rng: random.Random, names: dict[str, Any], photos: PhotoStore | None):
        self.rng, self.names, self.photos = rng, names, photos

    def usable(self, rule: Rule) -> bool:
        return rule.active and (self.photos is not None or not rule.evidence_required)

    def photo(self, session: Session, village: Village, clerk: User, moment: datetime) -> int:
        assert self.photos is not None
        evidence = store_photo(
            session, village.id, _demo_photo(self.rng), self.photos, actor=clerk, now=moment
        )
        return evidence.id


def _demo_photo(rng: random.Random) -> bytes:
    """Draw a small landscape-like JPEG standing in for a clerk's evidence photo."""
    sky = (rng.randint(120, 180), rng.randint(170, 210), rng.randint(210, 250))
    ground = (rng.randint(60, 120), rng.randint(120, 170), rng.randint(50, 90))
    image = Image.new("RGB", (640, 480), sky)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, 640, 480), fill=ground)
    for _ in range(6):
        x, y = rng.randint(0, 600), rng.randint(220, 420)
        draw.rectangle(
            (x, y, x + rng.randint(30, 90), y + rng.randint(30, 70)),
            fill=(rng.randint(150, 240), rng.randint(90, 160), rng.randint(60, 120)),
        )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _history(
    session: Session,
    recorder: _Recorder,
    village: Village,
    schemes: list[Scheme],
    homes: list[Household],
    users: dict[str, User],
    now: datetime,
) -> None:
    rng = recorder.rng
    rules = {
        s.id: [
            r
            for r in session.scalars(select(Rule).where(Rule.scheme_id == s.id))
            if recorder.usable(r)
        ]
        for s in schemes
    }
    clerks = [users["clerk"], users["clerk2"]]
    reviewers = [users["reviewer"], users["reviewer2"]]
    start = now - timedelta(days=182)
    for day_offset in range(0, 182, 3):
        moment = start + timedelta(days=day_offset, hours=9)
        for _ in range(rng.randint(3, 8)):
            _one_claim(session, recorder, village, rules, schemes, homes, clerks, reviewers, moment)
        post_due(session, now=moment)
    # The last days: some claims still in notice, some waiting for review.
    for age_hours in range(4, 24 * 6, 9):
        moment = now - timedelta(hours=age_hours)
        _one_claim(
            session,
            recorder,
            village,
            rules,
            schemes,
            homes,
            clerks,
            reviewers,
            moment,
            approve=age_hours > 30,
        )
    post_due(session, now=now)


def _one_claim(
    session: Session,
    recorder: _Recorder,
    village: Village,
    rules: dict[int, list[Rule]],
    schemes: list[Scheme],
    homes: list[Household],
    clerks: list[User],
    reviewers: list[User],
    moment: datetime,
    approve: bool = True,
) -> None:
    rng, names = recorder.rng, recorder.names
    scheme = rng.choice(schemes)
    candidates = [r for r in rules[scheme.id] if r.points > 0 or rng.random() < 0.15]
    rule = rng.choice(candidates)
    home = rng.choice(homes)
    clerk = rng.choice(clerks)
    member = rng.choice(home.members) if home.members and rng.random() < 0.7 else None
    source = rng.choice(names["sources"]) if rule.points > 0 else "村委巡查发现，已拍照留存"
    note = f"{rule.title}，{source}"
    photos = (recorder.photo(session, village, clerk, moment),) if rule.evidence_required else ()
    data = ClaimInput(
        household_id=home.id,
        rule_id=rule.id,
        idempotency_key=uuid.uuid4().hex,
        deed_date=(moment - timedelta(days=rng.randint(0, 3))).date(),
        member_id=member.id if member else None,
        note=note,
        evidence_ids=photos,
    )
    try:
        claim = record_claim(session, actor=clerk, data=data, now=moment)
    except CapExceeded:
        session.rollback()
        return
    if approve:
        reviewer = next(r for r in reviewers if r.household_id != home.id)
        approve_claim(
            session,
            actor=reviewer,
            claim_id=claim.id,
            now=moment + timedelta(hours=rng.randint(2, 30)),
        )


def demo_logins() -> list[tuple[str, str, str]]:
    """Return (user name, password, role) of every demo login, for the server banner."""
    return [(u.username, DEMO_PASSWORD, u.role) for u in DEMO_USERS]


__all__ = ["DEMO_PASSWORD", "demo_loaded", "demo_logins", "load_demo"]
