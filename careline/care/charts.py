"""A measure's readings as a server-drawn SVG (no script), with the warning and critical thresholds drawn.

Decoration for sighted readers: the page lists the same readings in a table; the SVG has a title and a
description. Presentation attributes only (no inline style), so the Content-Security-Policy holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

from careline.care.measures import MEASURE_FACTS, Measure, plain_number
from careline.care.models import Reading, Thresholds

WIDTH, HEIGHT = 600, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 14, 36
COLOURS = {"normal": "#1f5fa8", "warning": "#9a6700", "critical": "#b42318"}


def _limits(thresholds: Thresholds | None) -> list[tuple[Decimal, str, str]]:
    """(value, severity, label) of each threshold line drawn."""
    if thresholds is None:
        return []
    lines = []
    for name, severity in (
        ("warning_low", "warning"),
        ("warning_high", "warning"),
        ("critical_low", "critical"),
        ("critical_high", "critical"),
        ("second_warning_high", "warning"),
        ("second_critical_high", "critical"),
    ):
        value = getattr(thresholds, name)
        if value is not None:
            lines.append((value, severity, name.replace("_", " ")))
    return lines


def reading_chart_svg(
    readings: Sequence[Reading], *, measure: str, thresholds: Thresholds | None, chart_id: str
) -> SafeString:
    """An SVG of READINGS of MEASURE over time (the diastolic as a second line), thresholds as dashed lines.

    Empty with fewer than two readings.
    """
    points = [r for r in readings if r.measure == measure]
    if len(points) < 2 or measure == Measure.SYMPTOM:
        return SafeString("")
    limits = _limits(thresholds)
    numbers = [r.value for r in points] + [r.value2 for r in points if r.value2 is not None]
    numbers += [value for value, _, _ in limits]
    low, high = min(numbers), max(numbers)
    pad = (high - low) * Decimal("0.1") or Decimal(1)
    low, high = low - pad, high + pad
    first, last = points[0].taken_at, points[-1].taken_at
    span = (last - first).total_seconds() or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: datetime) -> float:
        return round(LEFT + (moment - first).total_seconds() / span * plot_w, 1)

    def y(value: Decimal) -> float:
        return round(TOP + float((high - value) / (high - low)) * plot_h, 1)

    # Built with f-strings: every number is formatted here and every text passes `escape`, so nothing
    # unescaped reaches the page; format_html per element cost most of the worklist's time (200 charts).
    parts: list[str] = []
    for value, severity, name in limits:
        level, colour, shown = y(value), COLOURS[severity], escape(plain_number(value))
        parts.append(
            f'<line x1="{LEFT}" y1="{level}" x2="{WIDTH - RIGHT}" y2="{level}" stroke="{colour}" '
            f'stroke-dasharray="6 4" stroke-width="1.5"><title>{escape(name)} {shown}</title></line>'
            f'<text x="{LEFT - 4}" y="{level + 4}" text-anchor="end" font-size="11" fill="{colour}">{shown}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="#555"></line>'
    )
    series = [[(x(r.taken_at), y(r.value), r) for r in points]]
    if any(r.value2 is not None for r in points):
        series.append([(x(r.taken_at), y(r.value2), r) for r in points if r.value2 is not None])
    for line in series:
        parts.append(
            f'<polyline points="{" ".join(f"{px},{py}" for px, py, _ in line)}" fill="none" stroke="#1f5fa8" '
            'stroke-width="2"></polyline>'
        )
        parts.extend(
            f'<circle cx="{px}" cy="{py}" r="4" fill="{COLOURS[r.severity]}"><title>{escape(r.shown)}</title></circle>'
            for px, py, r in line
        )
    for moment, anchor in ((first, "start"), (last, "end")):
        parts.append(
            f'<text x="{x(moment)}" y="{HEIGHT - BOTTOM + 18}" text-anchor="{anchor}" font-size="11" '
            f'fill="#333">{escape(moment.strftime("%b %d"))}</text>'
        )
    label = dict(Measure.choices)[measure]
    unit = MEASURE_FACTS[measure].unit
    description = (
        f"{len(points)} readings from {first:%b %d} to {last:%b %d}, latest {points[-1].shown}. "
        "Dashed lines are the warning (amber) and critical (red) thresholds."
    )
    return format_html(
        '<svg class="care-chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc">'
        '<title id="{}-title">{} ({})</title><desc id="{}-desc">{}</desc>{}</svg>',
        WIDTH, HEIGHT, chart_id, chart_id, chart_id, label, unit, chart_id, description, SafeString("".join(parts)),
    )  # fmt: skip
