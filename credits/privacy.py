"""What public pages may show of a person: masked names, nothing else personal."""

from __future__ import annotations

from credits.text import COMPOUND_SURNAMES


def mask_name(name: str) -> str:
    """Mask a name for public pages: 张*华, 欧阳**华 (compound surnames), 张*."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    keep = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 3 else 1
    return name[:keep] + "*" * (len(name) - keep - 1) + name[-1]
