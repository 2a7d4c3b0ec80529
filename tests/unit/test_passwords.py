"""The password rule: at least ten characters, not common, not the user name, no controls."""

from __future__ import annotations

import re

import pytest

from credits.errors import ValidationError
from credits.passwords import check_password_rule, common_passwords, temporary_password


@pytest.mark.parametrize(
    ("password", "username", "fragment"),
    [
        ("short1", "", "10 个字符"),
        ("123456789", "", "10 个字符"),
        ("1234567890", "", "太常见"),
        ("Password123", "", "太常见"),
        ("woaini1314", "", "太常见"),
        ("aaaaaaaaaaaa", "", "太常见"),
        ("abcdefghijk", "", "太常见"),
        ("9876543210", "", "太常见"),
        ("zhangsan-secret", "zhangsan", "用户名"),
        ("good long\x00phrase", "", "控制字符"),
        ("x" * 201, "", "最多"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password, username, fragment):
    with pytest.raises(ValidationError) as refused:
        check_password_rule(password, username=username)
    assert fragment in refused.value.translated()


@pytest.mark.parametrize(
    "password", ["我家门前有条小河流过村", "tea with grandma at six", "Qx7-hills-and-rice"]
)
def test_good_passwords_pass(password):
    check_password_rule(password, username="va-clerk")


def test_the_common_list_is_loaded_and_lower_case():
    words = common_passwords()
    assert len(words) > 1000
    assert "1qaz2wsx3edc" in words
    assert all(w == w.lower() and len(w) >= 10 for w in words)


def test_temporary_passwords_are_readable_and_pass_the_rule():
    seen = {temporary_password() for _ in range(200)}
    assert len(seen) == 200
    for password in seen:
        assert re.fullmatch(r"[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}", password)
        check_password_rule(password)
