"""Creating villages: a township named twice is matched or refused, never duplicated."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from credits.errors import ValidationError
from credits.models import Region, Village
from credits.villages import create_village


def test_a_village_joins_the_existing_township_of_that_name(session):
    first = create_village(session, township="清溪镇", county="青山县", name="桃源村", code="T1")
    second = create_village(session, township="清溪镇", name="杏花村", code="T2")
    assert second.region_id == first.region_id
    assert len(session.scalars(select(Region).where(Region.name == "清溪镇")).all()) == 1


def test_an_ambiguous_township_name_is_refused_with_the_choices(session):
    create_village(session, township="清溪镇", county="青山县", name="桃源村", code="T1")
    create_village(session, township="清溪镇", county="绿水县", name="杏花村", code="T2")
    with pytest.raises(ValidationError) as refused:
        create_village(session, township="清溪镇", name="梨花村", code="T3")
    message = refused.value.translated()
    assert "青山县" in message and "绿水县" in message and "县" in message
    session.rollback()
    assert session.scalar(select(Village).where(Village.code == "T3")) is None


def test_a_new_township_name_makes_a_new_township(session):
    create_village(session, township="白水镇", name="梨花村", code="T4")
    assert session.scalar(select(Region.level).where(Region.name == "白水镇")) == "township"
