"""Server-side SVG charts of the township view (reportlab.graphics; no JavaScript)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib.colors import HexColor, white
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits.access import visible_villages
from credits.models import Household, User, VillagePeriod, VillagePeriodStat
from credits.oversight.periods import keys_of_month
from credits.oversight.township import require_region_admin

PALETTE = ["#b71c1c", "#e65100", "#f9a825", "#2e7d32", "#00838f", "#1565c0", "#6a1b9a", "#5d4037"]
FONT = "Helvetica"  # the browser draws the text with the page's own (Chinese) font stack


@dataclass
class CategoryMonths:
    """Points awarded per month and category in the region (net of reversals)."""

    months: list[int]
    categories: list[str]
    points: dict[tuple[int, str], int]


@dataclass
class ParticipationGrid:
    """Participation (0..1) of each village in each month of a year."""

    months: list[int]
    villages: list[tuple[int, str]]  # (id, name) in table order
    rates: dict[tuple[int, int], float]


def category_months(session: Session, actor: User, year: int) -> CategoryMonths:
    """Sum the region's points by month and category over a year, from the aggregates."""
    require_region_admin(actor)
    months = [year * 100 + m for m in range(1, 13)]
    rows = session.execute(
        select(
            VillagePeriodStat.period,
            VillagePeriodStat.category,
            func.sum(VillagePeriodStat.points_awarded),
        )
        .where(
            VillagePeriodStat.village_id.in_(visible_villages(actor)),
            VillagePeriodStat.period.between(months[0], months[-1]),
        )
        .group_by(VillagePeriodStat.period, VillagePeriodStat.category)
    )
    points = {(int(p), c or ""): int(s or 0) for p, c, s in rows}
    totals: dict[str, int] = defaultdict(int)
    for (_, category), value in points.items():
        totals[category] += value
    # Largest first; a category with nothing awarded (deductions) gets no colour.
    categories = sorted((c for c, v in totals.items() if v > 0), key=lambda c: (-totals[c], c))
    return CategoryMonths(months, categories, points)


def participation_grid(
    session: Session, actor: User, villages: list[tuple[int, str]], year: int
) -> ParticipationGrid:
    """Participation per village and month for the villages shown on the page."""
    require_region_admin(actor)
    months = [year * 100 + m for m in range(1, 13)]
    ids = [vid for vid, _ in villages]
    scope = visible_villages(actor)
    households = dict(
        session.execute(
            select(Household.village_id, func.count())
            .where(
                Household.village_id.in_(ids),
                Household.village_id.in_(scope),
                Household.active.is_(True),
            )
            .group_by(Household.village_id)
        ).all()  # type: ignore[arg-type]
    )
    keys = {keys_of_month(m)[0]: m for m in months}
    rates: dict[tuple[int, int], float] = defaultdict(float)
    for vid, key, active in session.execute(
        select(VillagePeriod.village_id, VillagePeriod.period, VillagePeriod.households_active)
        .where(VillagePeriod.village_id.in_(ids), VillagePeriod.period.in_(list(keys)))
        .where(VillagePeriod.village_id.in_(scope))
    ):
        if households.get(vid):
            rates[(vid, keys[key])] = active / households[vid]
    return ParticipationGrid(months, villages, dict(rates))


def _svg(drawing: Drawing, title: str, name: str) -> str:
    text = renderSVG.drawToString(drawing)
    # Drop the XML prolog and doctype so the SVG can sit inline in HTML; give the ids a
    # prefix, or two charts on one page would clip each other with the first one's path.
    body = text[text.index("<svg") :]
    body = body.replace('id="clip"', f'id="{name}-clip"').replace(
        "url(#clip)", f"url(#{name}-clip)"
    )
    body = body.replace('id="group"', f'id="{name}-group"')
    body = body.replace("<title>...</title>", f"<title>{_escape(title)}</title>", 1)
    body = body.replace("<desc>...</desc>", "", 1)
    return body.replace(">", f' role="img" aria-label="{_escape(title)}">', 1)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def category_chart(data: CategoryMonths, title: str, empty: str) -> str:
    """A stacked bar per month, one colour per category, with a legend."""
    width, height, left, bottom, top = 640, 300, 50, 40, 20
    legend_rows = -(-len(data.categories) // 4)
    d = Drawing(width, height + legend_rows * 18)
    base = legend_rows * 18 + bottom
    plot_h = height - bottom - top
    totals = [sum(data.points.get((m, c), 0) for c in data.categories) for m in data.months]
    peak = max([t for t in totals if t > 0], default=0)
    slot = (width - left - 10) / len(data.months)
    d.add(Line(left, base, width - 10, base, strokeColor=HexColor("#888888")))
    if peak == 0:
        d.add(
            String(
                width / 2, base + plot_h / 2, empty, fontName=FONT, fontSize=14, textAnchor="middle"
            )
        )
    for i, month in enumerate(data.months):
        x = left + i * slot + slot * 0.15
        y: float = base
        for j, cat in enumerate(data.categories):
            value = max(0, data.points.get((month, cat), 0))
            if value and peak:
                h = value / peak * plot_h
                d.add(
                    Rect(
                        x,
                        y,
                        slot * 0.7,
                        h,
                        fillColor=HexColor(PALETTE[j % len(PALETTE)]),
                        strokeColor=white,
                        strokeWidth=0.5,
                    )
                )
                y += h
        d.add(
            String(
                x + slot * 0.35,
                base - 16,
                f"{month % 100}",
                fontName=FONT,
                fontSize=12,
                textAnchor="middle",
            )
        )
        if totals[i] > 0:
            d.add(
                String(
                    x + slot * 0.35,
                    y + 4,
                    str(totals[i]),
                    fontName=FONT,
                    fontSize=10,
                    textAnchor="middle",
                )
            )
    for j, cat in enumerate(data.categories):
        lx, ly = left + (j % 4) * 150, (legend_rows - 1 - j // 4) * 18 + 4
        d.add(Rect(lx, ly, 12, 12, fillColor=HexColor(PALETTE[j % len(PALETTE)]), strokeWidth=0))
        d.add(String(lx + 16, ly + 2, cat or "—", fontName=FONT, fontSize=12))
    return _svg(d, title, "categories")


def participation_chart(grid: ParticipationGrid, title: str, limit: int = 30) -> str:
    """A heat map: one row per village, one cell per month, the percentage written in it."""
    villages = grid.villages[:limit]
    left, cell_w, cell_h, head = 130, 40, 22, 22
    width = left + cell_w * len(grid.months) + 10
    height = head + cell_h * max(1, len(villages)) + 4
    d = Drawing(width, height)
    for i, month in enumerate(grid.months):
        d.add(
            String(
                left + i * cell_w + cell_w / 2,
                height - 16,
                f"{month % 100}",
                fontName=FONT,
                fontSize=12,
                textAnchor="middle",
            )
        )
    for r, (vid, name) in enumerate(villages):
        y = height - head - (r + 1) * cell_h
        # Anchored at the start: reportlab measures CJK text with a Latin font's widths.
        d.add(String(4, y + 6, name[:8], fontName=FONT, fontSize=12))
        for i, month in enumerate(grid.months):
            rate = grid.rates.get((vid, month), 0.0)
            shade = HexColor(_shade(rate))
            d.add(
                Rect(left + i * cell_w, y, cell_w - 2, cell_h - 2, fillColor=shade, strokeWidth=0)
            )
            if rate:
                d.add(
                    String(
                        left + i * cell_w + cell_w / 2 - 1,
                        y + 6,
                        f"{round(rate * 100)}",
                        fontName=FONT,
                        fontSize=10,
                        textAnchor="middle",
                        fillColor=white if rate >= 0.5 else HexColor("#333333"),
                    )
                )
    return _svg(d, title, "participation")


def _shade(rate: float) -> str:
    """White to deep red as participation rises."""
    rate = max(0.0, min(1.0, rate))
    r = 255 - int(72 * rate)
    g = 255 - int(227 * rate)
    b = 255 - int(227 * rate)
    return f"#{r:02x}{g:02x}{b:02x}"
