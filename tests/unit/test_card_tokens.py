"""Card tokens: signed, compact, tamper-evident, free of personal data, small QR codes."""

from __future__ import annotations

import base64
import secrets
import subprocess
from types import SimpleNamespace

import pytest

from credits import cards
from credits.cards import (
    extract_token,
    make_qr,
    make_token,
    parse_token,
    verify_token,
)

KEY = bytes.fromhex("5a" * 32)
OTHER_KEY = bytes.fromhex("a5" * 32)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _raw(token: str) -> bytes:
    return base64.b32decode(token + "=" * (-len(token) % 8))


def _encode(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("village_id", "household_id", "version"),
    [
        (1, 1, 1),
        (1, 42, 1),
        (3, 127, 2),
        (3, 128, 255),
        (3_600, 1_000_000, 3),
        (490_000, 100_000_000, 12),
        (2**32 - 1, 2**32 - 1, 2**16),
    ],
)
def test_token_round_trip(village_id, household_id, version):
    token = make_token(village_id, household_id, version, KEY)
    assert token.isupper() and token.isalnum() and "=" not in token
    data = verify_token(token, KEY)
    assert data is not None
    assert (data.village_id, data.household_id, data.version) == (
        village_id,
        household_id,
        version,
    )
    assert len(data.mac) == 8  # 64 bits of HMAC-SHA256


def test_token_is_compact():
    # A village of a few thousand households: 3 small varints and the MAC.
    assert len(make_token(12, 4_321, 1, KEY)) <= 20


def test_every_flipped_bit_of_every_byte_is_refused():
    token = make_token(7, 4_242, 3, KEY)
    raw = _raw(token)
    for index in range(len(raw)):
        for bit in range(8):
            changed = bytearray(raw)
            changed[index] ^= 1 << bit
            assert verify_token(_encode(bytes(changed)), KEY) is None, (index, bit)


def test_every_changed_character_is_refused():
    token = make_token(7, 4_242, 3, KEY)
    for index, ch in enumerate(token):
        for other in ALPHABET:
            if other != ch:
                forged = token[:index] + other + token[index + 1 :]
                assert verify_token(forged, KEY) is None, (index, other)


def test_truncated_or_extended_tokens_are_refused():
    token = make_token(7, 4_242, 3, KEY)
    for length in range(len(token)):
        assert verify_token(token[:length], KEY) is None
    for extra in ("A", "Q", "AAAA", token):
        assert verify_token(token + extra, KEY) is None


@pytest.mark.parametrize(
    "text",
    ["", "hello", "0" * 20, "aevacgcljp235xp52e!", "=" * 20, "A" * 200, "c/../../etc/passwd"],
)
def test_garbage_is_refused(text):
    assert verify_token(text, KEY) is None


def test_a_token_signed_with_another_villages_key_is_refused():
    token = make_token(7, 4_242, 3, OTHER_KEY)
    assert parse_token(token) is not None  # well formed…
    assert verify_token(token, KEY) is None  # …but not ours


def test_non_minimal_varints_are_refused():
    # 0x81 0x00 spells 1 in two bytes; only the one-byte spelling is a token.
    payload = bytes([0x81, 0x00, 0x2A, 0x01])
    mac = cards._mac(KEY, payload)
    assert parse_token(_encode(payload + mac)) is None


def test_lower_case_and_full_urls_resolve_to_the_same_token():
    token = make_token(7, 4_242, 3, KEY)
    for text in (
        token,
        token.lower(),
        f"http://192.168.1.10:5000/c/{token}",
        f"  https://points.example.cn/c/{token}/  ",
        f"https://points.example.cn/c/{token}?from=wechat#top",
        f"HTTP://192.168.1.10:5000/C/{token}",
    ):
        assert extract_token(text) == token
        assert verify_token(extract_token(text), KEY) is not None


BASE_URLS = [
    "http://192.168.1.10:5000",
    "http://192.168.100.200:8080",
    "https://points.qingshanxian.example.cn",  # a 30-character https host
    "https://jifen.qingshan.gov.cn:8443",
]


@pytest.mark.parametrize("base_url", BASE_URLS)
@pytest.mark.parametrize(
    ("village_id", "household_id", "version"),
    [(1, 42, 1), (3_600, 250_000, 5), (490_000, 100_000_000, 12)],
)
def test_card_qr_is_version_4_or_less_at_error_correction_m(
    base_url, village_id, household_id, version
):
    assert len("points.qingshanxian.example.cn") == 30
    token = make_token(village_id, household_id, version, secrets.token_bytes(32))
    qr = make_qr(f"{base_url}/c/{token}")
    assert not qr.is_micro
    assert qr.version <= 4
    assert qr.error in ("M", "Q", "H")


def test_card_qr_decodes_to_the_url_exactly_as_issued(tmp_path):
    # Two segments: the prefix in byte mode (stays lower case), the token alphanumeric.
    token = make_token(1, 42, 1, KEY)
    url = f"http://192.168.1.10:5000/c/{token}"
    qr = make_qr(url)
    assert qr.mode is None  # more than one segment
    png = tmp_path / "card.png"
    qr.save(png, scale=4, border=4)
    decoded = subprocess.run(
        ["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert decoded == url


def _household(**fields):
    village = SimpleNamespace(code="TY001", card_secret=KEY.hex())
    defaults = dict(
        id=42,
        village_id=7,
        card_version=3,
        village=village,
        head_name="欧阳明华",
        house_number="桃源村1组9号",
        phone="13812345678",
    )
    return SimpleNamespace(**{**defaults, **fields})


def test_the_token_carries_no_personal_data():
    household = _household()
    url = cards.issue_url("http://192.168.1.10:5000/", household)
    token = url.rsplit("/", 1)[1]
    assert url == f"http://192.168.1.10:5000/c/{token}"
    raw = _raw(token)
    data = verify_token(token, KEY)
    assert data is not None and (data.village_id, data.household_id, data.version) == (7, 42, 3)
    # Three one-byte numbers and the MAC: nothing else fits, nothing else is there.
    assert len(raw) == 3 + 8
    for secret in ("欧阳明华", "13812345678", "桃源村1组9号", "ouyang", "OUYANG"):
        assert secret not in token
        assert secret.encode() not in raw
    assert KEY.hex().upper()[:8] not in token


def test_card_number_is_readable():
    assert cards.card_number(_household()) == "TY001-0042-3"
    assert cards.card_number(_household(id=123456, card_version=1)) == "TY001-123456-1"
