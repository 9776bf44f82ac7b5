"""A small dependency-free SVG chart rendered on the server (strict CSP: no script, no inline style).

Colours come from classes styled in static/css/fraud.css.
"""

from __future__ import annotations

from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from payplug import dates

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 40, 12, 28


def _n(value: float) -> str:
    return f"{value:.1f}"


def daily_chart(days, series, rate, *, title: str, rate_label: str) -> str:
    """Stacked bars per day (series: list of (css class, label, values)) and a fraud-rate line (0..1)."""
    n = max(len(days), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    totals = [sum(values[i] for _, _, values in series) for i in range(len(days))]
    top = max([*totals, 1])
    band = plot_w / n
    bar_w = max(band * 0.7, 1)
    parts = [
        format_html(
            '<svg class="fraud-chart" viewBox="0 0 {} {}" role="img" aria-labelledby="chart-title">'
            '<title id="chart-title">{}</title>',
            WIDTH,
            HEIGHT,
            title,
        ),
        format_html(
            '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>', LEFT, TOP + plot_h, LEFT + plot_w, TOP + plot_h
        ),
        format_html('<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>', LEFT - 4, TOP + 8, top),
        format_html('<text class="tick" x="{}" y="{}" text-anchor="end">0</text>', LEFT - 4, TOP + plot_h),
    ]
    max_rate = max([*rate, 0.01])
    parts.append(
        format_html(
            '<text class="tick rate" x="{}" y="{}">{}%</text>', LEFT + plot_w + 4, TOP + 8, round(max_rate * 100, 1)
        )
    )
    for i, day in enumerate(days):
        x = LEFT + i * band + (band - bar_w) / 2
        y = TOP + plot_h
        for css, label, values in series:
            value = values[i]
            if not value:
                continue
            h = plot_h * value / top
            y -= h
            parts.append(
                format_html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{} {}: {}</title></rect>',
                    css,
                    _n(x),
                    _n(y),
                    _n(bar_w),
                    _n(h),
                    dates.format_date(day),
                    label,
                    value,
                )
            )
        if i % max(n // 6, 1) == 0:
            parts.append(
                format_html(
                    '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                    _n(x + bar_w / 2),
                    HEIGHT - 8,
                    dates.format_month_day(day),
                )
            )
    points = " ".join(
        f"{LEFT + i * band + band / 2:.1f},{TOP + plot_h - plot_h * r / max_rate:.1f}" for i, r in enumerate(rate)
    )
    if points:
        parts.append(
            format_html('<polyline class="rate-line" points="{}"><title>{}</title></polyline>', points, rate_label)
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(str(p) for p in parts))  # noqa: S308  every value above went through format_html


def legend(series, rate_label: str) -> str:
    items = "".join(
        format_html('<li><span class="swatch {}" aria-hidden="true"></span>{}</li>', css, label)
        for css, label, _ in series
    )
    items += format_html('<li><span class="swatch rate-line" aria-hidden="true"></span>{}</li>', escape(rate_label))
    return mark_safe(f'<ul class="chart-legend">{items}</ul>')  # noqa: S308  built with format_html
