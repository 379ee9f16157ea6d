"""A measure's readings as a server-drawn SVG (no script), with the warning and critical thresholds drawn.

Decoration for sighted readers: the page lists the same readings in a table; the SVG has a title and a
description. Presentation attributes only (no inline style), so the Content-Security-Policy holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.utils.html import format_html, format_html_join
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

    parts: list[SafeString] = []
    for value, severity, label in limits:
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-dasharray="6 4" stroke-width="1.5">'
                "<title>{} {}</title></line>"
                '<text x="{}" y="{}" text-anchor="end" font-size="11" fill="{}">{}</text>',
                LEFT,
                y(value),
                WIDTH - RIGHT,
                y(value),
                COLOURS[severity],
                label,
                plain_number(value),
                LEFT - 4,
                y(value) + 4,
                COLOURS[severity],
                plain_number(value),
            )
        )
    parts.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#555"></line>',
            LEFT,
            HEIGHT - BOTTOM,
            WIDTH - RIGHT,
            HEIGHT - BOTTOM,
        )
    )
    series = [[(x(r.taken_at), y(r.value), r) for r in points]]
    if any(r.value2 is not None for r in points):
        series.append([(x(r.taken_at), y(r.value2), r) for r in points if r.value2 is not None])
    for line in series:
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="#1f5fa8" stroke-width="2"></polyline>',
                " ".join(f"{px},{py}" for px, py, _ in line),
            )
        )
        parts.append(
            format_html_join(
                "",
                '<circle cx="{}" cy="{}" r="4" fill="{}"><title>{}</title></circle>',
                ((px, py, COLOURS[r.severity], r.shown) for px, py, r in line),
            )
        )
    for moment, anchor in ((first, "start"), (last, "end")):
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="{}" font-size="11" fill="#333">{}</text>',
                x(moment),
                HEIGHT - BOTTOM + 18,
                anchor,
                moment.strftime("%b %d"),
            )
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
