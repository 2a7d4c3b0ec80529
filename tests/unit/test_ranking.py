"""Rank rules: highest points first, ties share a rank, the next rank skips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credits.ranking import Standing, competition_ranks, standing


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ({}, {}),
        ({"a": 5}, {"a": 1}),
        ({"a": 5, "b": 9, "c": 1}, {"b": 1, "a": 2, "c": 3}),
        ({"a": 10, "b": 10, "c": 7}, {"a": 1, "b": 1, "c": 3}),
        ({"a": 10, "b": 8, "c": 8, "d": 8, "e": 2}, {"a": 1, "b": 2, "c": 2, "d": 2, "e": 5}),
        ({"a": 0, "b": 0, "c": 0}, {"a": 1, "b": 1, "c": 1}),
        ({"a": -5, "b": 0, "c": 3}, {"c": 1, "b": 2, "a": 3}),
        ({"a": -5, "b": -5, "c": -1}, {"c": 1, "a": 2, "b": 2}),
    ],
)
def test_competition_ranks(points, expected):
    assert competition_ranks(points) == expected


@pytest.mark.parametrize(
    ("points", "key", "expected"),
    [
        ({1: 20, 2: 15, 3: 15, 4: 0}, 1, Standing(rank=1, of=4, points=20, tied=False)),
        ({1: 20, 2: 15, 3: 15, 4: 0}, 3, Standing(rank=2, of=4, points=15, tied=True)),
        ({1: 20, 2: 15, 3: 15, 4: 0}, 4, Standing(rank=4, of=4, points=0, tied=False)),
        ({1: 0}, 1, Standing(rank=1, of=1, points=0, tied=False)),
        ({1: 20}, 2, None),
        ({}, 1, None),
    ],
)
def test_standing(points, key, expected):
    assert standing(points, key) == expected


def test_spending_does_not_enter_ranks():
    # Ranks take points earned; a household that spent more ranks the same.
    earned = {"thrifty": 30, "spender": 30, "new": 5}
    assert competition_ranks(earned)["spender"] == competition_ranks(earned)["thrifty"] == 1


@given(st.dictionaries(st.integers(0, 500), st.integers(-50, 200), max_size=60))
def test_every_rank_is_one_more_than_the_number_of_households_ahead(points):
    ranks = competition_ranks(points)
    for key, value in points.items():
        ahead = sum(1 for other in points.values() if other > value)
        assert ranks[key] == ahead + 1
