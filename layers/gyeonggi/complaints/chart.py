"""The ops chart of one series as SVG, drawn on the server with ``xml.etree``.

Drawn from the document :func:`gyeonggi.complaints.dashboard.series_view` returns, so the
JSON and the picture cannot disagree. Daily counts are bars, the forecast a line over its
90 % interval drawn as a band, surge days red bars with a marker; labels are Korean and
English. Only presentation attributes are used, no ``<style>`` or script, so the image needs
nothing from its page and the strictest Content-Security-Policy (``default-src 'none'``) holds.
ElementTree escapes every text and attribute, so names cannot inject markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from xml.etree import ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH, HEIGHT = 960, 420
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 78, 64
FONT = "'Noto Sans CJK KR', 'Noto Sans KR', 'Malgun Gothic', 'Apple SD Gothic Neo', sans-serif"
COLORS = {
    "count": "#64748b",
    "partial": "#cbd5e1",
    "surge": "#dc2626",
    "forecast": "#1d4ed8",
    "band": "#93c5fd",
    "grid": "#e5e7eb",
    "axis": "#374151",
    "text": "#111827",
}


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_step(top: float, ticks: int = 5) -> float:
    """A step of 1, 2 or 5 times a power of ten giving about ``ticks`` ticks up to ``top``."""
    raw = max(top, 1.0) / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return float(factor * magnitude)
    return float(10 * magnitude)  # pragma: no cover - the loop always returns


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: Any) -> ET.Element:
    # Attribute names use "_" for "-" (stroke_width -> stroke-width); values become text.
    element = ET.SubElement(
        parent, tag, {k.rstrip("_").replace("_", "-"): str(v) for k, v in attrs.items()}
    )
    if text is not None:
        element.text = text
    return element


def _runs(values: Sequence[float | None]) -> list[list[int]]:
    """Index runs where a value exists, so lines and bands break over missing forecasts."""
    runs: list[list[int]] = []
    for i, value in enumerate(values):
        if value is None:
            continue
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def render_series_svg(view: dict[str, Any]) -> str:
    """The chart of one series' view as an SVG document (UTF-8 text with its declaration).

    Parameters
    ----------
    view
        What ``series_view`` returns: ``days`` (``date``, ``count``, ``partial``, ``forecast``,
        ``lower``, ``upper``, ``surge``), ``names``, ``end`` and ``interval``.
    """
    days: list[dict[str, Any]] = view["days"]
    n = max(len(days), 1)
    names = view["names"]
    title = (
        f"{names['jurisdiction']['ko']} {names['service']['ko']} · "
        f"{names['jurisdiction']['en']} — {names['service']['en']}"
    )
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_value = max(
        [1.0]
        + [float(d["count"]) for d in days if d["count"] is not None]
        + [float(d["upper"]) for d in days if d["upper"] is not None]
        + [float(d["forecast"]) for d in days if d["forecast"] is not None]
    )
    step = nice_step(top_value)
    y_max = math.ceil(top_value / step) * step
    slot = plot_w / n

    def x(i: int) -> float:
        return LEFT + (i + 0.5) * slot

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / y_max)

    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "width": str(WIDTH),
            "height": str(HEIGHT),
            "viewBox": f"0 0 {WIDTH} {HEIGHT}",
            "role": "img",
            "aria-labelledby": "chart-title chart-desc",
            "font-family": FONT,
            "font-size": "12",
        },
    )
    surges = [d for d in days if d["surge"]]
    _sub(svg, "title", title, id="chart-title")
    _sub(
        svg,
        "desc",
        f"일별 민원 건수와 {round(view['interval'] * 100)}% 예측구간 · daily complaints "
        f"{view['first']} to {view['end']}, forecast with its "
        f"{round(view['interval'] * 100)}% interval; {len(surges)} surge day(s).",
        id="chart-desc",
    )
    _sub(svg, "rect", x=0, y=0, width=WIDTH, height=HEIGHT, fill="#ffffff")
    _sub(svg, "text", title, x=LEFT, y=24, font_size=16, font_weight="bold", fill=COLORS["text"])

    # Grid and the y axis.
    grid = _sub(svg, "g", id="y-axis")
    value = 0.0
    while value <= y_max + 1e-9:
        yy = y(value)
        _sub(grid, "line", x1=LEFT, x2=WIDTH - RIGHT, y1=yy, y2=yy, stroke=COLORS["grid"])
        _sub(grid, "text", _fmt(value), x=LEFT - 8, y=yy + 4, text_anchor="end")
        value += step
    _sub(
        grid,
        "text",
        "건수 · complaints/day",
        x=16,
        y=TOP + plot_h / 2,
        text_anchor="middle",
        transform=f"rotate(-90 16 {TOP + plot_h / 2:.1f})",
        fill=COLORS["axis"],
    )

    # The interval band: upper edge forward, lower edge back, one closed path per run.
    uppers = [d["upper"] if d["lower"] is not None else None for d in days]
    band_d = []
    for run in _runs(uppers):
        forward = [f"{x(i):.1f},{y(float(days[i]['upper'])):.1f}" for i in run]
        back = [f"{x(i):.1f},{y(float(days[i]['lower'])):.1f}" for i in reversed(run)]
        band_d.append("M" + " L".join(forward + back) + " Z")
    if band_d:
        _sub(
            svg,
            "path",
            id="interval-band",
            d=" ".join(band_d),
            fill=COLORS["band"],
            fill_opacity="0.45",
            stroke="none",
        )

    # Counts; today's (still being counted) paler, surge days red.
    bars = _sub(svg, "g", id="counts")
    bar_w = max(slot * 0.7, 1.0)
    for i, d in enumerate(days):
        if d["count"] is None:
            continue
        color = COLORS["surge"] if d["surge"] else COLORS["partial" if d["partial"] else "count"]
        bar = _sub(
            bars,
            "rect",
            x=f"{x(i) - bar_w / 2:.1f}",
            y=f"{y(float(d['count'])):.1f}",
            width=f"{bar_w:.1f}",
            height=f"{plot_h - (y(float(d['count'])) - TOP):.1f}",
            fill=color,
        )
        note = " (오늘, 집계 중 · today, partial)" if d["partial"] else ""
        _sub(bar, "title", f"{d['date']}: {d['count']}{note}")

    # The forecast line, broken where no forecast was stored.
    forecasts = [d["forecast"] for d in days]
    line_d = [
        "M" + " L".join(f"{x(i):.1f},{y(float(days[i]['forecast'])):.1f}" for i in run)
        for run in _runs(forecasts)
    ]
    if line_d:
        _sub(
            svg,
            "path",
            id="forecast-line",
            d=" ".join(line_d),
            fill="none",
            stroke=COLORS["forecast"],
            stroke_width=2,
            stroke_linejoin="round",
        )

    # Surge markers: a red triangle above the bar, with the figures as a tooltip.
    markers = _sub(svg, "g", id="surges")
    for i, d in enumerate(days):
        if not d["surge"]:
            continue
        tip = y(float(d["count"] or 0)) - 6
        marker = _sub(
            markers,
            "path",
            class_="surge-marker",
            d=f"M{x(i):.1f},{tip:.1f} l-6,-10 h12 Z",
            fill=COLORS["surge"],
        )
        expected = "" if d["forecast"] is None else f", 예측 forecast {_fmt(d['forecast'])}"
        _sub(marker, "title", f"급증 surge {d['date']}: {d['count']}{expected}")

    # "Today" (the end of counts) where forecasts continue after it.
    end_index = next((i for i, d in enumerate(days) if d["date"] == view["end"]), None)
    if end_index is not None and end_index < len(days) - 1:
        xx = x(end_index) + slot / 2
        _sub(
            svg,
            "line",
            id="end-line",
            x1=f"{xx:.1f}",
            x2=f"{xx:.1f}",
            y1=TOP,
            y2=TOP + plot_h,
            stroke=COLORS["axis"],
            stroke_dasharray="4 3",
        )
        _sub(svg, "text", "예측 → forecast", x=f"{xx + 4:.1f}", y=TOP + 12, fill=COLORS["axis"])

    # The x axis: dates, about a dozen labels, the month and day (the year where it changes).
    axis = _sub(svg, "g", id="x-axis")
    base = TOP + plot_h
    _sub(axis, "line", x1=LEFT, x2=WIDTH - RIGHT, y1=base, y2=base, stroke=COLORS["axis"])
    every = max(1, math.ceil(n / 12))
    if every > 7:
        every = 7 * math.ceil(every / 7)
    last_year = None
    for i in range(0, len(days), every):
        day = days[i]["date"]
        year = day[:4]
        _sub(axis, "line", x1=x(i), x2=x(i), y1=base, y2=base + 4, stroke=COLORS["axis"])
        _sub(axis, "text", day[5:].replace("-", "."), x=x(i), y=base + 18, text_anchor="middle")
        if year != last_year:
            _sub(axis, "text", year, x=x(i), y=base + 32, text_anchor="middle", fill="#6b7280")
            last_year = year
    _sub(
        axis,
        "text",
        "날짜 (한국 시간) · date (KST)",
        x=LEFT + plot_w / 2,
        y=HEIGHT - 10,
        text_anchor="middle",
        fill=COLORS["axis"],
    )

    _legend(svg, round(view["interval"] * 100))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(svg, encoding="unicode")


def _legend(svg: ET.Element, percent: int) -> None:
    legend = _sub(svg, "g", id="legend")
    entries = [
        ("rect", COLORS["count"], "일별 건수 · daily count"),
        ("line", COLORS["forecast"], "예측 · forecast"),
        ("band", COLORS["band"], f"{percent}% 예측구간 · interval"),
        ("rect", COLORS["surge"], "급증 · surge"),
    ]
    xx, yy = LEFT, 50
    for kind, color, label in entries:
        if kind == "line":
            _sub(legend, "line", x1=xx, x2=xx + 18, y1=yy, y2=yy, stroke=color, stroke_width=2)
        else:
            opacity = "0.45" if kind == "band" else "1"
            _sub(
                legend,
                "rect",
                x=xx,
                y=yy - 6,
                width=18,
                height=12,
                fill=color,
                fill_opacity=opacity,
            )
        _sub(legend, "text", label, x=xx + 24, y=yy + 4, fill=COLORS["text"])
        xx += 24 + 9 * len(label) + 20
