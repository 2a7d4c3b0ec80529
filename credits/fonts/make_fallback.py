"""Rebuild MeritHanFallback.ttf from Debian's fonts-hanazono (run by hand, not at runtime)."""

# Usage (needs fonttools and pypinyin; see README.md):
#   apt-get download fonts-hanazono fonts-wqy-microhei
#   dpkg-deb -x fonts-hanazono_*.deb x && dpkg-deb -x fonts-wqy-microhei_*.deb x
#   python make_fallback.py x/usr/share/fonts/truetype/hanazono x/usr/share/fonts/truetype/wqy
from __future__ import annotations

import sys
from pathlib import Path

from fontTools.merge import Merger, Options
from fontTools.subset import Options as SubsetOptions
from fontTools.subset import Subsetter
from fontTools.ttLib import TTCollection, TTFont
from pypinyin.pinyin_dict import pinyin_dict

OUT = Path(__file__).resolve().parent / "MeritHanFallback.ttf"
FAMILY = "Merit Han Fallback"


def is_han(cp: int) -> bool:
    """Whether a code point is a CJK ideograph, radical or CJK punctuation."""
    return (
        0x2E80 <= cp <= 0x2FDF
        or 0x3000 <= cp <= 0x303F
        or 0x3400 <= cp <= 0x4DBF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x3FFFF
    )


def subset(path: Path, keep: set[int], out: Path) -> None:
    """Write a copy of a font holding only the code points in keep."""
    font = TTFont(path)
    opts = SubsetOptions()
    opts.layout_features = []
    opts.hinting = False
    opts.notdef_outline = True
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.name_legacy = True
    sub = Subsetter(opts)
    sub.populate(unicodes=sorted(keep))
    sub.subset(font)
    font.save(out)


def main(hanazono_dir: Path, wqy_dir: Path) -> None:
    """Keep what Micro Hei lacks: all Han in HanaMinA, and HanaMinB's Han that have a reading."""
    primary = set(TTCollection(wqy_dir / "wqy-microhei.ttc").fonts[0].getBestCmap())
    cmap_a = set(TTFont(hanazono_dir / "HanaMinA.ttf").getBestCmap())
    cmap_b = set(TTFont(hanazono_dir / "HanaMinB.ttf").getBestCmap())
    keep_a = {cp for cp in cmap_a if is_han(cp) and cp not in primary}
    # HanaMinB's extension B-F is ~60k glyphs (30 MB); characters with a Mandarin reading
    # are the ones that can be written as part of a name, and fit the size budget.
    keep_b = {
        cp for cp in cmap_b if is_han(cp) and cp not in primary | cmap_a and cp in pinyin_dict
    }
    tmp_a, tmp_b = OUT.with_suffix(".a.tmp"), OUT.with_suffix(".b.tmp")
    subset(hanazono_dir / "HanaMinA.ttf", keep_a, tmp_a)
    subset(hanazono_dir / "HanaMinB.ttf", keep_b, tmp_b)
    drop = ["vhea", "vmtx", "BASE", "GDEF", "GSUB", "GPOS", "prop", "FFTM"]
    merged = Merger(options=Options(drop_tables=drop)).merge([str(tmp_a), str(tmp_b)])
    tmp_a.unlink()
    tmp_b.unlink()
    # A modified font takes a new name (OFL reserved names); the copyright line (ID 0) stays.
    name = merged["name"]
    name.names = [rec for rec in name.names if rec.nameID == 0]
    names = {
        1: FAMILY,
        2: "Regular",
        3: "MeritHanFallback-Regular;hanazono-20170904-subset",
        4: FAMILY + " Regular",
        5: "Version 20170904 (gw1796612) subset",
        6: "MeritHanFallback-Regular",
        10: "Subset of HanaMinA and HanaMinB 20170904 (Hanazono fonts, GlyphWiki Project), "
        "merged for Merit Bank: only the CJK ideographs WenQuanYi Micro Hei lacks. "
        "Modified by subsetting and merging; see credits/fonts/README.md.",
        13: "Hanazono Font License or SIL Open Font License 1.1 "
        "(see credits/fonts/LICENSE-hanazono.txt)",
    }
    for name_id, text in names.items():
        name.setName(text, name_id, 3, 1, 0x409)
        name.setName(text, name_id, 1, 0, 0)
    merged.save(OUT)
    print(f"{OUT}: {len(keep_a)} + {len(keep_b)} characters, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
