"""Cleaning what people type into the shop's forms: no control characters, bounded length."""

from __future__ import annotations

import unicodedata


def clean_text(value: object, limit: int) -> str:
    """Strip control characters (NUL included) and outer space; cut to `limit` characters."""
    text = "" if value is None else str(value)
    kept = "".join(ch if ch in "\n" or unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(kept.split(" ")).strip()[:limit]
