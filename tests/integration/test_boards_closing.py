"""Period close and the honour roll: fixed records, byte-identical prints, both sizes."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from boards_support import NOW, post, reverse

from credits.boards.closing import close_period, closed_board, find_closed
from credits.documents.honour_roll import board_url, render_honour_roll
from credits.errors import InvalidState, ValidationError


def _scene(session, world) -> None:  # noqa: ANN001
    # 张建华 25, 李秀兰 25 (one deduction), 欧阳明华 10.
    post(session, world, 0, "XL01", times=2)
    post(session, world, 0, "LL01")
    post(session, world, 1, "JY02")
    post(session, world, 1, "KF01", day=__import__("datetime").date(2026, 11, 12))
    post(session, world, 1, "XL04", times=4)
    post(session, world, 2, "YF01")


def _pdf(session, world, closed_id: int, size: str = "a3") -> bytes:  # noqa: ANN001
    data = closed_board(session, world.village.id, closed_id)
    out = io.BytesIO()
    render_honour_roll(out, data, size=size, url=board_url("http://localhost", data))
    return out.getvalue()


def test_closing_stores_the_ranking_and_the_ledger_head(session, world) -> None:
    _scene(session, world)
    closed = close_period(
        session, actor=world.users["admin"], scheme_id=world.scheme.id, label="2026-11", now=NOW
    )
    data = closed_board(session, world.village.id, closed.id)
    assert [(r.rank, r.head_name, r.points) for r in data.overall] == [
        (1, "张建华", 25),
        (1, "李秀兰", 25),
        (3, "欧阳明华", 10),
    ]
    assert data.overall[1].deductions == 1
    assert closed.head_seq == 10 and len(closed.head_code) == 19  # 64 bits: 3F9A-1C2B-77D0-E5A1
    assert data.categories["孝老爱亲"][0].head_name == "张建华"
    assert find_closed(session, world.village.id, world.scheme.key, "2026-11").id == closed.id


def test_a_period_closes_once_and_only_after_it_ended(session, world) -> None:
    admin = world.users["admin"]
    with pytest.raises(ValidationError):
        close_period(session, actor=admin, scheme_id=world.scheme.id, label="2026-12", now=NOW)
    with pytest.raises(ValidationError):
        close_period(session, actor=admin, scheme_id=world.scheme.id, label="2026", now=NOW)
    close_period(session, actor=admin, scheme_id=world.scheme.id, label="2026-11", now=NOW)
    with pytest.raises(InvalidState):
        close_period(session, actor=admin, scheme_id=world.scheme.id, label="2026-11", now=NOW)


def test_a_closed_honour_roll_is_byte_identical_after_a_later_correction(session, world) -> None:
    _scene(session, world)
    first = post(session, world, 2, "JY03")[0]
    closed = close_period(
        session, actor=world.users["admin"], scheme_id=world.scheme.id, label="2026-11", now=NOW
    )
    before = _pdf(session, world, closed.id)
    reverse(session, first)
    session.expire_all()
    assert _pdf(session, world, closed.id) == before


@pytest.mark.parametrize("size", ["a3", "a4"])
def test_the_honour_roll_lists_names_and_points_in_rank_order(
    session, world, size: str, tmp_path: Path
) -> None:
    _scene(session, world)
    closed = close_period(
        session, actor=world.users["admin"], scheme_id=world.scheme.id, label="2026-11", now=NOW
    )
    pdf = tmp_path / f"roll-{size}.pdf"
    pdf.write_bytes(_pdf(session, world, closed.id, size))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "光荣榜" in text and "桃源村" in text and "2026年11月" in text, text
    positions = [text.index(name) for name in ("张建华", "李秀兰", "欧阳明华")]
    assert positions == sorted(positions)
    lines = [ln for ln in text.splitlines() if "张建华" in ln and "25" in ln]
    assert lines, text
    assert closed.head_code in text
