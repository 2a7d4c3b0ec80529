"""The one gate for web input: control characters, huge numbers and far dates never give a 500."""

from __future__ import annotations

import pytest
from conftest import login
from sqlalchemy import func, select

from app.extensions import db
from app.inputs import INT_MAX, parse_int
from credits.models import AuditEvent, Household


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5", 5),
        (" 12 ", 12),
        ("-3", -3),
        (str(INT_MAX), INT_MAX),
        (str(INT_MAX + 1), None),
        ("1" + "0" * 23, None),
        ("-999999999999", None),
        ("1e3", None),
        ("0x10", None),
        ("١٢", None),
        ("", None),
        ("5\x00", None),
    ],
)
def test_parse_int_keeps_to_the_database_range(raw, expected):
    assert parse_int(raw) == expected


HOSTILE = ["1" + "0" * 23, "-999999999999", "9999-12-31", "x\x00y", "😀" * 50, "0x7fffffff"]
QUERIES = [
    "/v/VA/?page={v}",
    "/v/VA/?group={v}",
    "/v/VA/?q={v}",
    "/v/VA/record?household={v}&rule={v}",
    "/v/VA/roster?group={v}&page={v}",
    "/v/VA/audit?page={v}&from={v}&to={v}",
    "/v/VA/ledger?scheme={v}&page={v}",
    "/p/VA/notice?group={v}",
    "/v/VA/cards?group={v}",
]


def test_hostile_query_values_never_give_a_server_error(client, web_world):
    login(client, web_world.users["admin"])
    for template in QUERIES:
        for value in HOSTILE:
            response = client.get(template.format(v=value))
            assert response.status_code < 500, (template, value, response.status_code)
            if "\x00" in value:
                assert response.status_code == 400
                assert "控制字符" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/v/VA/households/{v}", "/v/VA/claims/{v}/evidence", "/v/VA/rules/{v}/edit"]
)
def test_ids_beyond_the_integer_range_are_not_found(client, web_world, url):
    login(client, web_world.users["admin"])
    for value in (str(INT_MAX + 1), "1" + "0" * 23):
        assert client.get(url.format(v=value)).status_code == 404


def test_a_nul_byte_in_a_public_form_is_refused_and_changes_nothing(app, client, web_world):
    with app.app_context():
        before = db.session.scalar(select(func.count(AuditEvent.id)))
    response = client.post("/login", data={"username": "va-clerk\x00", "password": "x\x00"})
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))) == before


def test_a_control_character_cannot_reach_a_house_number(app, client, web_world):
    login(client, web_world.users["admin"])
    household = web_world.households[0]
    response = client.post(
        f"/v/VA/households/{household.id}/edit",
        data={"head_name": household.head_name, "house_number": "1\x07号"},
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Household, household.id).house_number == "1号"
