"""Uploaded rosters kept between preview and import: per village and user, gone once imported."""

from __future__ import annotations

import io
from pathlib import Path

from conftest import VillageWorld
from sqlalchemy import select
from sqlalchemy.orm import Session

from credits.models import Household
from credits.roster_import import import_upload, preview_stored, preview_upload, stored_upload

ROSTER = "组别,户主姓名,成员姓名,与户主关系\n五组,钱进,钱进,户主\n五组,钱进,钱多多,子\n".encode()


def test_an_upload_is_kept_for_its_user_and_village_until_imported(
    session: Session, world: VillageWorld, other_world: VillageWorld, tmp_path: Path
) -> None:
    clerk, clerk2 = world.users["clerk"], world.users["clerk2"]
    plan, kept = preview_upload(
        session, world.village, clerk, tmp_path, io.BytesIO(ROSTER), "../../花名册.csv"
    )
    assert plan.count("create") == 1 and kept.filename == "花名册.csv"
    assert session.scalar(select(Household).where(Household.head_name == "钱进")) is None
    assert stored_upload(tmp_path, world.village, clerk2, kept.token) is None
    assert stored_upload(tmp_path, other_world.village, clerk, kept.token) is None
    assert stored_upload(tmp_path, world.village, clerk, "../" + kept.token) is None
    found = stored_upload(tmp_path, world.village, clerk, kept.token)
    assert found is not None and found.read() == ROSTER
    assert preview_stored(session, world.village, found).count("create") == 1
    done = import_upload(session, clerk, world.village, found, ip="10.0.0.1")
    assert done.member_count("create") == 2
    assert session.scalar(select(Household).where(Household.head_name == "钱进")) is not None
    assert stored_upload(tmp_path, world.village, clerk, kept.token) is None


def test_a_damaged_upload_record_is_treated_as_expired(
    session: Session, world: VillageWorld, tmp_path: Path
) -> None:
    clerk = world.users["clerk"]
    _plan, kept = preview_upload(
        session, world.village, clerk, tmp_path, io.BytesIO(ROSTER), "a.csv"
    )
    kept.path.with_suffix(".json").write_text("{not json", encoding="utf-8")
    assert stored_upload(tmp_path, world.village, clerk, kept.token) is None
