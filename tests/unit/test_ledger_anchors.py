"""Pure parts of the ledger's anchors: printed head codes, signed checkpoints, the key file."""

from __future__ import annotations

import stat

import pytest

from credits.errors import ValidationError
from credits.ledger import format_head, parse_head
from credits.ledger.checkpoints import load_key, make_checkpoint, public_key_hex, signature_ok

DIGEST = "3f9a1c2b77d0e5a1" + "0" * 48


def test_the_printed_code_has_the_sequence_and_64_bits():
    assert format_head(1234, DIGEST) == "#1234 · 3F9A-1C2B-77D0-E5A1"


@pytest.mark.parametrize(
    "typed",
    [
        "#1234 · 3F9A-1C2B-77D0-E5A1",
        "#1234 3F9A-1C2B-77D0-E5A1",
        "1234 3f9a 1c2b 77d0 e5a1",
        "  #1234\t3F9A1C2B77D0E5A1 ",
        "＃１２３４　３Ｆ９Ａ－１Ｃ２Ｂ－７７Ｄ０－Ｅ５Ａ１",
        "12343F9A1C2B77D0E5A1",
    ],
)
def test_a_typed_code_is_read_however_it_was_typed(typed):
    assert parse_head(typed) == (1234, "3F9A1C2B77D0E5A1")


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "#1234",
        "3F9A-1C2B-77D0-E5A1",
        "#12 3F9A-1C2B-77D0-E5AG",
        "#x 3F9A1C2B77D0E5A1",
        "1" * 13 + "3F9A1C2B77D0E5A1",
        "\x00" * 20,
        "#1 " + "A" * 300,
    ],
)
def test_anything_else_is_refused_clearly(typed):
    with pytest.raises(ValidationError) as refused:
        parse_head(typed)
    assert "#1234" in refused.value.translated()


def test_a_checkpoint_verifies_and_any_change_breaks_it(tmp_path):
    key = load_key(tmp_path / "key")
    cp = make_checkpoint(key, "TY001", 3, "c" * 64, 2, ["b" * 64, "c" * 64])
    assert signature_ok(cp) and signature_ok(cp, public_key_hex(key))
    for field, value in [("seq", 4), ("hash", "d" * 64), ("village", "TY002"), ("at", "x")]:
        assert not signature_ok({**cp, field: value}), field
    other = load_key(tmp_path / "other")
    assert not signature_ok(cp, public_key_hex(other))
    forged = make_checkpoint(other, "TY001", 3, "c" * 64, 2, ["b" * 64, "c" * 64])
    assert not signature_ok(forged, public_key_hex(key))
    # The hashes must end in the head and cover first..seq exactly.
    assert not signature_ok(make_checkpoint(key, "TY001", 3, "c" * 64, 1, ["c" * 64]))


def test_the_key_file_is_private_created_once_and_the_env_value_wins(tmp_path):
    path = tmp_path / "ledger_signing_key"
    key = load_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_hex(load_key(path)) == public_key_hex(key)
    env = "11" * 32
    assert public_key_hex(load_key(path, env)) != public_key_hex(key)
    with pytest.raises(ValueError):
        load_key(path, "abcd")
