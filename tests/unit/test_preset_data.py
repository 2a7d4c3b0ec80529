"""The shipped preset catalogues load, and broken catalogues are rejected."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from credits.preset_data import (
    PRESET_DIR,
    Preset,
    PresetError,
    available_presets,
    load_preset,
)

NAMES_FILE = PRESET_DIR.parent / "demo" / "names.toml"

# (categories min, max), (rules min, max) per shipped preset
EXPECTED_SIZES = {
    "merit_bank": ((6, 7), (30, 40)),
    "family_bank": ((6, 6), (20, 25)),
}


def test_both_presets_are_shipped() -> None:
    assert set(available_presets()) >= {"merit_bank", "family_bank"}


@pytest.mark.parametrize("key", sorted(EXPECTED_SIZES))
def test_shipped_preset_loads_within_expected_size(key: str) -> None:
    preset = load_preset(key)
    (cat_min, cat_max), (rule_min, rule_max) = EXPECTED_SIZES[key]

    assert isinstance(preset, Preset)
    assert preset.key == key
    assert cat_min <= len(preset.categories) <= cat_max
    assert rule_min <= len(preset.rules) <= rule_max
    assert preset.categories[-1] == "扣分"
    assert all(r.points < 0 for r in preset.rules if r.category == "扣分")
    assert all(r.points > 0 for r in preset.rules if r.category != "扣分")
    assert any(r.red_line for r in preset.rules)
    assert any(r.cap_month for r in preset.rules)


def test_merit_bank_follows_domain_samples() -> None:
    preset = load_preset("merit_bank")
    assert (preset.name, preset.unit, preset.notice_days) == ("功德银行", "功德分", 7)
    assert preset.categories[:2] == ("孝老爱亲", "邻里互助")
    by_title = {r.title: r for r in preset.rules}
    assert by_title["照顾年迈父母，生活起居周到"].points == 10
    assert by_title["救助落水、火灾等遇险群众"].points == 50
    assert by_title["婚丧事大操大办"].points == -20
    assert by_title["婚丧事大操大办"].red_line
    yard = by_title["庭院整洁，检查合格（每次）"]
    assert (yard.points, yard.cap_month) == (3, 25)


def test_family_bank_follows_domain_samples() -> None:
    preset = load_preset("family_bank")
    assert preset.name == "家风银行"
    assert preset.categories == ("家风家训", "清白持家", "简朴本分", "为民奉献", "教育成长", "扣分")
    by_title = {r.title: r for r in preset.rules}
    assert by_title["不赡养年迈父母"].points == -20
    assert by_title["不赡养年迈父母"].red_line


def test_load_by_path_equals_load_by_key() -> None:
    assert load_preset(PRESET_DIR / "merit_bank.toml") == load_preset("merit_bank")
    assert load_preset(str(PRESET_DIR / "family_bank.toml")) == load_preset("family_bank")


def test_unknown_key_is_a_preset_error() -> None:
    with pytest.raises(PresetError, match="unknown preset"):
        load_preset("no_such_bank")


GOOD_RULES = """
  [[categories.rules]]
  code = "AA01"
  title = "照顾年迈父母"
  points = 10
  cap_month = 20
  cap_year = 120

  [[categories.rules]]
  code = "KF01"
  title = "大操大办"
  points = -20
  red_line = true
"""

BAD_RULES = {
    "duplicate code": (
        GOOD_RULES
        + '\n  [[categories.rules]]\n  code = "AA01"\n  title = "又一条"\n  points = 5\n',
        "AA01",
    ),
    "zero points": (
        '\n  [[categories.rules]]\n  code = "ZP01"\n  title = "零分"\n  points = 0\n',
        "ZP01",
    ),
    "cap below points": (
        '\n  [[categories.rules]]\n  code = "CP01"\n  title = "封顶过低"\n  points = 10\n'
        "  cap_month = 5\n",
        "CP01",
    ),
    "cap_year below cap_month": (
        '\n  [[categories.rules]]\n  code = "CY01"\n  title = "年封顶过低"\n  points = 5\n'
        "  cap_month = 20\n  cap_year = 10\n",
        "CY01",
    ),
    "positive red line": (
        '\n  [[categories.rules]]\n  code = "RL01"\n  title = "红线加分"\n  points = 5\n'
        "  red_line = true\n",
        "RL01",
    ),
    "missing title": (
        '\n  [[categories.rules]]\n  code = "MT01"\n  points = 5\n',
        "MT01",
    ),
    "points not an integer": (
        '\n  [[categories.rules]]\n  code = "PF01"\n  title = "小数分"\n  points = 2.5\n',
        "PF01",
    ),
    "misspelt field": (
        '\n  [[categories.rules]]\n  code = "TY01"\n  title = "拼错字段"\n  points = 5\n'
        "  cap_months = 10\n",
        "TY01",
    ),
}


def write_preset(
    tmp_path: Path, rules: str, *, notice_days: int = 7, key: str = "village_bank"
) -> Path:
    path = tmp_path / f"{key}.toml"
    path.write_text(
        f"""
[scheme]
key = "{key}"
name = "测试银行"
unit = "分"
notice_days = {notice_days}
description = "测试用方案。"

[[categories]]
name = "测试"
{rules}
""",
        encoding="utf-8",
    )
    return path


def test_good_file_loads(tmp_path: Path) -> None:
    preset = load_preset(write_preset(tmp_path, GOOD_RULES))
    assert [r.code for r in preset.rules] == ["AA01", "KF01"]
    first = preset.rules[0]
    assert (first.cap_month, first.cap_year, first.evidence_required) == (20, 120, False)
    assert preset.rules[1].red_line
    assert preset.categories == ("测试",)


@pytest.mark.parametrize("case", sorted(BAD_RULES))
def test_bad_rule_is_rejected(tmp_path: Path, case: str) -> None:
    rules, code = BAD_RULES[case]
    path = write_preset(tmp_path, rules)
    with pytest.raises(PresetError) as info:
        load_preset(path)
    message = str(info.value)
    assert str(path) in message
    assert code in message
    assert "line " in message


@pytest.mark.parametrize("notice_days", [-1, 61])
def test_notice_days_out_of_range_is_rejected(tmp_path: Path, notice_days: int) -> None:
    with pytest.raises(PresetError, match="notice_days"):
        load_preset(write_preset(tmp_path, GOOD_RULES, notice_days=notice_days))


def test_key_must_match_file_name(tmp_path: Path) -> None:
    path = write_preset(tmp_path, GOOD_RULES)
    path = path.rename(tmp_path / "other_name.toml")
    with pytest.raises(PresetError, match="file name"):
        load_preset(path)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[scheme\nkey = ", encoding="utf-8")
    with pytest.raises(PresetError, match="broken.toml"):
        load_preset(path)


def test_preset_error_is_a_value_error() -> None:
    assert issubclass(PresetError, ValueError)


def test_demo_names_file_is_usable() -> None:
    with NAMES_FILE.open("rb") as fh:
        names = tomllib.load(fh)
    assert len(set(names["surnames"])) >= 35
    assert {"欧阳", "司马"} <= set(names["surnames"])
    assert len(names["given_male"]) >= 50
    assert len(names["given_female"]) >= 50
    assert names["group_names"] == ["一组", "二组", "三组"]
    assert set(names["village"]) == {"township", "name", "code"}
    assert len(names["sources"]) >= 5
    given = "".join(names["given_male"] + names["given_female"])
    assert all(ch in given for ch in "堃赟玥昇")
