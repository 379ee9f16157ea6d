"""A result's trend as a server-drawn SVG (no script): the values over time, the reference range shaded.

The chart is decoration for sighted readers; the page always has the same values in a table, and the SVG
carries a title and a description saying what it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from careline.records.queries import TrendPoint

WIDTH, HEIGHT = 600, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40  # room for the axis labels


@dataclass(frozen=True)
class _Scale:
    low: Decimal
    high: Decimal

    def y(self, value: Decimal) -> float:
        span = self.high - self.low or Decimal(1)
        return round(TOP + float((self.high - value) / span) * (HEIGHT - TOP - BOTTOM), 1)


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


def _bounds(points: Sequence[TrendPoint]) -> _Scale:
    """The value axis: every value and both limits in view, with a little room above and below."""
    numbers = [p.number for p in points if p.number is not None]
    numbers += [p.low for p in points if p.low is not None] + [p.high for p in points if p.high is not None]
    low, high = min(numbers), max(numbers)
    pad = (high - low) * Decimal("0.15") or abs(high) * Decimal("0.1") or Decimal(1)
    return _Scale(low - pad, high + pad)


def trend_chart_svg(points: Sequence[TrendPoint], *, test_name: str, unit: str) -> SafeString:
    """An SVG line chart of POINTS' numeric values, oldest left, with the latest reference range shaded.

    Empty when fewer than two points are numbers (nothing to trend).
    """
    numeric = [p for p in points if p.number is not None]
    if len(numeric) < 2:
        return SafeString("")
    scale = _bounds(numeric)
    plot_width = WIDTH - LEFT - RIGHT
    step = plot_width / (len(numeric) - 1)
    xs = [round(LEFT + index * step, 1) for index in range(len(numeric))]
    latest = numeric[-1]
    parts: list[SafeString] = []
    # The reference range of the latest result, shaded (an open-ended range runs to the chart's edge).
    if latest.low is not None or latest.high is not None:
        top = scale.y(latest.high) if latest.high is not None else TOP
        bottom = scale.y(latest.low) if latest.low is not None else HEIGHT - BOTTOM
        parts.append(
            format_html(
                '<rect class="trend-range" x="{}" y="{}" width="{}" height="{}"></rect>',
                LEFT,
                top,
                plot_width,
                max(bottom - top, 1),
            )
        )
        for limit in (latest.low, latest.high):
            if limit is not None:
                parts.append(
                    format_html(
                        '<text class="trend-axis" x="{}" y="{}" text-anchor="end">{}</text>',
                        LEFT - 6,
                        scale.y(limit) + 4,
                        _plain(limit),
                    )
                )
    parts.append(
        format_html(
            '<line class="trend-axis-line" x1="{}" y1="{}" x2="{}" y2="{}"></line>',
            LEFT,
            HEIGHT - BOTTOM,
            WIDTH - RIGHT,
            HEIGHT - BOTTOM,
        )
    )
    line = " ".join(
        f"{x},{scale.y(p.number)}" for x, p in zip(xs, numeric, strict=True) if p.number is not None
    )
    parts.append(format_html('<polyline class="trend-line" points="{}"></polyline>', line))
    parts.append(
        format_html_join(
            "",
            '<circle class="trend-point trend-{}" cx="{}" cy="{}" r="5"></circle>'
            '<text class="trend-value" x="{}" y="{}" text-anchor="middle">{}</text>',
            (
                (p.flag, x, scale.y(p.number), x, scale.y(p.number) - 10, p.value)
                for x, p in zip(xs, numeric, strict=True)
                if p.number is not None
            ),
        )
    )
    for x, p, anchor in ((xs[0], numeric[0], "start"), (xs[-1], numeric[-1], "end")):
        parts.append(
            format_html(
                '<text class="trend-axis" x="{}" y="{}" text-anchor="{}">{}</text>',
                x,
                HEIGHT - BOTTOM + 20,
                anchor,
                date_format(p.collected_at, "j M Y"),
            )
        )
    title = _("%(test)s over time") % {"test": test_name}
    summary = _("%(count)s results from %(first)s to %(last)s, latest %(value)s %(unit)s.") % {
        "count": len(numeric),
        "first": date_format(numeric[0].collected_at, "j M Y"),
        "last": date_format(latest.collected_at, "j M Y"),
        "value": latest.value,
        "unit": unit,
    }
    if latest.low is not None or latest.high is not None:
        summary += " " + _("The shaded band is the reference range.")
    return format_html(
        '<svg class="trend-chart" viewBox="0 0 {} {}" role="img" aria-labelledby="trend-svg-title trend-svg-desc">'
        '<title id="trend-svg-title">{}</title><desc id="trend-svg-desc">{}</desc>{}</svg>',
        WIDTH,
        HEIGHT,
        title,
        summary,
        SafeString("".join(parts)),
    )
