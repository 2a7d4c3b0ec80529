"""Names on public pages keep only the first and last character (UI.md)."""

import pytest

from credits.privacy import mask_name


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张建华", "张*华"),
        ("欧阳明华", "欧阳*华"),
        ("欧阳华", "欧*华"),
        ("欧阳晓明华", "欧阳**华"),
        ("张三", "张*"),
        ("李", "李"),
        ("", ""),
        ("司马子䶮", "司马*䶮"),
        ("王小明华", "王**华"),
        (" 张建华 ", "张*华"),
    ],
)
def test_public_names_are_masked(name, masked):
    assert mask_name(name) == masked
