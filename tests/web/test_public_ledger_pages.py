"""The public ledger pages: signed checkpoints, their JSON for witnesses, the wall-code check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import NOW, new_claim
from sqlalchemy import event

from app.extensions import db
from credits.ledger import checkpoints, head_code
from credits.workflow import post_due


@pytest.fixture
def posted(app, web_world):
    with app.app_context():
        for h in (0, 1, 2):
            new_claim(db.session, web_world, household=h, rule="JY01", approve_by="reviewer")
            post_due(db.session, now=NOW + timedelta(days=8))
        return head_code(db.session, web_world.village.id)


def test_the_page_lists_signed_checkpoints_and_the_public_key(client, posted):
    page = client.get("/p/VA/ledger")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    data = client.get("/p/VA/ledger/checkpoints.json").get_json()
    assert data["public_key"] in html and posted in html
    assert "#3" in html and "#1" in html
    assert "账本检查点" in html and "副本" in html


def test_the_json_lists_checkpoints_oldest_first_with_valid_signatures(client, posted):
    data = client.get("/p/VA/ledger/checkpoints.json").get_json()
    assert data["village"] == "VA" and data["head_code"] == posted
    assert [c["seq"] for c in data["checkpoints"]] == [1, 2, 3]
    assert all(checkpoints.signature_ok(c, data["public_key"]) for c in data["checkpoints"])
    assert data["next_after"] is None
    later = client.get("/p/VA/ledger/checkpoints.json?after=1").get_json()
    assert [c["seq"] for c in later["checkpoints"]] == [2, 3]


def test_the_json_pages_by_after(app, client, posted, monkeypatch):
    from credits.ledger import publication

    monkeypatch.setattr(publication, "PAGE", 2)
    first = client.get("/p/VA/ledger/checkpoints.json").get_json()
    assert [c["seq"] for c in first["checkpoints"]] == [1, 2] and first["next_after"] == 2
    rest = client.get(f"/p/VA/ledger/checkpoints.json?after={first['next_after']}").get_json()
    assert [c["seq"] for c in rest["checkpoints"]] == [3] and rest["next_after"] is None


@pytest.mark.parametrize("after", ["x", "-1", "1" * 13, "１", "1\x00"])
def test_a_bad_after_is_a_clear_400(client, posted, after):
    response = client.get("/p/VA/ledger/checkpoints.json", query_string={"after": after})
    assert response.status_code == 400
    # A control character is refused by the input gate before the page reads `after`.
    expected = "控制字符" if "\x00" in after else "after"
    assert expected in response.get_json()["message"]


@pytest.mark.parametrize(
    "path", ["/p/NOPE/ledger", "/p/NOPE/ledger/checkpoints.json", "/p/NOPE/ledger/check"]
)
def test_an_unknown_village_is_a_404(client, web_world, path):
    assert client.get(path).status_code == 404


def test_the_check_page_accepts_the_code_however_it_is_typed(client, posted):
    seq, code = posted.split(" · ")
    for typed in (
        posted,
        f"{seq} {code}",
        f"{seq.lstrip('#')} {code.lower()}",
        code.replace("-", " ").join(["＃" + seq.lstrip("#") + "　", ""]),
        (seq + code).replace("-", ""),
    ):
        page = client.get("/p/VA/ledger/check", query_string={"code": typed})
        assert page.status_code == 200, typed
        assert "与账本一致" in page.get_data(as_text=True), typed


@pytest.mark.parametrize(
    "typed",
    ["hello", "#99 1234", "#1 ZZZZ-ZZZZ-ZZZZ-ZZZZ", "\x00" * 5, "9" * 40 + "A" * 16, "x" * 5000],
)
def test_bad_input_on_the_check_page_is_a_clear_message(client, posted, typed):
    page = client.get("/p/VA/ledger/check", query_string={"code": typed})
    assert page.status_code == 400
    # Control characters are refused by the input gate before the page reads the code.
    expected = "控制字符" if "\x00" in typed else "这不是账本校验码"
    assert expected in page.get_data(as_text=True)


def test_a_code_the_ledger_never_had_does_not_match(client, posted):
    seq = posted.split(" · ")[0]
    other = client.get("/p/VA/ledger/check", query_string={"code": f"{seq} 0000-0000-0000-0001"})
    assert other.status_code == 200 and "不一致" in other.get_data(as_text=True)
    beyond = client.get("/p/VA/ledger/check", query_string={"code": "#99 0000-0000-0000-0001"})
    assert "不一致" in beyond.get_data(as_text=True)
    assert "没有这个序号" in beyond.get_data(as_text=True)


def test_the_public_ledger_pages_never_write(app, client, posted):
    writes = []

    def record(_conn, _cursor, statement, *_args):
        if statement.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for path in (
            "/p/VA/ledger",
            "/p/VA/ledger/checkpoints.json",
            f"/p/VA/ledger/check?code={posted}",
        ):
            assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert writes == []
