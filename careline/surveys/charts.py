"""Bar charts drawn on the server as SVG (no script, CSP-safe), beside a table of the same figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 220
LEFT = 44
TOP = 12
BOTTOM = 34


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    show_label: bool


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str
    bars: list[Bar]
    scale_top: float
    unit: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP

    @property
    def bottom(self) -> int:
        return self.height - BOTTOM

    @property
    def mid(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def scale_mid(self) -> float:
        return self.scale_top / 2

    @property
    def label_y(self) -> int:
        return self.height - 12


def bar_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    description: str,
    unit: str = "",
    top: float | None = None,
) -> BarChart:
    """A chart of POINTS (label, value; None draws no bar) scaled to TOP (or the largest value, rounded up)."""
    values = [v for _, v in points if v is not None]
    scale_top = top if top is not None else max([1.0, *values])
    if top is None and scale_top > 10:
        scale_top = float(10 ** (len(str(int(scale_top))) - 1) * (int(str(int(scale_top))[0]) + 1))
    plot_width = WIDTH - LEFT - 8
    plot_height = HEIGHT - TOP - BOTTOM
    step = plot_width / max(1, len(points))
    every = max(1, len(points) // 12)
    bars = []
    for index, (label, value) in enumerate(points):
        height = 0.0 if value is None else plot_height * min(1.0, value / scale_top)
        bars.append(
            Bar(
                x=round(LEFT + index * step + step * 0.15, 1),
                y=round(TOP + plot_height - height, 1),
                width=round(step * 0.7, 1),
                height=round(height, 1),
                label=label,
                value="no data" if value is None else f"{value:g}{unit}",
                show_label=index % every == 0,
            )
        )
    return BarChart(title=title, description=description, bars=bars, scale_top=scale_top, unit=unit)
