"""The programme dashboard's committed-vs-paid line chart, as geometry for an inline SVG (no
script, no CDN), with the table of the same figures beside it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.numbers import format_compact_currency
from django.utils import translation

from partnerships.commitments.money import format_money
from portal.ui import formats

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 260, 96, 16, 16, 40


def _month_series(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every month from the first to the last point, carrying the cumulative totals forward."""
    if not points:
        return []
    by_month = {p["month"]: p for p in points}
    month, last = points[0]["month"], points[-1]["month"]
    series, carry = [], {"committed": Decimal(0), "paid": Decimal(0)}
    while month <= last:
        carry = by_month.get(month, carry)
        series.append({"month": month, "committed": carry["committed"], "paid": carry["paid"]})
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return series


class _Plot:
    """Pixel positions of a series: x by month index, y by value against the top value."""

    def __init__(self, series: list[dict[str, Any]]) -> None:
        self.series = series
        self.height = HEIGHT - TOP - BOTTOM
        self.step = (WIDTH - LEFT - RIGHT) / max(len(series) - 1, 1)
        self.top_value = max(
            max(p["committed"] for p in series), max(p["paid"] for p in series)
        ) or Decimal(1)

    def x(self, index: int, shift: float = 0) -> str:
        return f"{LEFT + index * self.step + shift:.1f}"

    def y(self, value: Decimal) -> str:
        # Pixel positions only; the amounts themselves stay Decimal and are shown as text.
        return f"{TOP + self.height - self.height * (value / self.top_value):.1f}"

    def line(self, key: str) -> str:
        return " ".join(f"{self.x(i)},{self.y(p[key])}" for i, p in enumerate(self.series))

    def ticks(self) -> list[dict[str, str]]:
        locale = translation.to_locale(translation.get_language() or "en")
        return [
            {
                "y": self.y(self.top_value * Decimal(n) / 4),
                "label": format_compact_currency(
                    self.top_value * Decimal(n) / 4, "USD", locale=locale, fraction_digits=1
                ),
            }
            for n in range(5)
        ]

    def months(self) -> list[dict[str, str]]:
        every = max(1, len(self.series) // 8)
        return [
            {"x": self.x(i), "label": formats.month(p["month"])}
            for i, p in enumerate(self.series)
            if i % every == 0 or i == len(self.series) - 1
        ]

    def markers(self) -> list[dict[str, str]]:
        # A dot per month, so a single month (or a flat line) is still visible.
        return [
            {
                "x": self.x(i),
                "committed": self.y(p["committed"]),
                "paid_x": self.x(i, -4),
                "paid_y": f"{float(self.y(p['paid'])) - 4:.1f}",
            }
            for i, p in enumerate(self.series)
        ]


def chart(points: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Geometry of the committed-vs-paid line chart from ``totals.commitment_timeline``'s
    points (``month``, cumulative ``committed`` and ``paid`` USD); ``None`` with no points."""
    series = _month_series(points)
    if not series:
        return None
    plot = _Plot(series)
    rows = [
        {
            "month": formats.month(p["month"]),
            "committed": format_money(p["committed"], "USD"),
            "paid": format_money(p["paid"], "USD"),
        }
        for p in series
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": TOP + plot.height,
        "committed": plot.line("committed"),
        "paid": plot.line("paid"),
        "markers": plot.markers(),
        "ticks": plot.ticks(),
        "months": plot.months(),
        "rows": rows,
        "last": rows[-1],
    }
