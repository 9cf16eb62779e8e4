"""The ops view's pure parts: parameters, assembling a series and the overview, SVG, the page."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from gyeonggi.common.errors import InvalidInput
from gyeonggi.complaints import dashboard_page
from gyeonggi.complaints.chart import nice_step, render_series_svg
from gyeonggi.complaints.dashboard import (
    VolumeQuery,
    VolumeReader,
    parse_volume_query,
    volumes_view,
)

TODAY = date(2024, 7, 19)
SVG = "{http://www.w3.org/2000/svg}"


class FakeReader(VolumeReader):
    """Answers from dicts, and records the ranges asked for (the work must stay bounded)."""

    def __init__(
        self,
        counts: dict[str, dict[str, int]] | None = None,
        forecasts: dict[str, list[dict[str, Any]]] | None = None,
        surges: dict[str, list[dict[str, Any]]] | None = None,
        index: list[dict[str, Any]] | None = None,
    ) -> None:
        self._counts = counts or {}
        self._forecasts = forecasts or {}
        self._surges = surges or {}
        self._index = index or []
        self.asked: list[tuple[str, str, date, date]] = []

    def daily_counts(self, key: str, first: date, last: date) -> dict[str, int]:
        self.asked.append(("counts", key, first, last))
        lo, hi = first.isoformat(), last.isoformat()
        return {d: c for d, c in self._counts.get(key, {}).items() if lo <= d <= hi}

    def forecasts_between(self, key: str, first: date, last: date) -> list[dict[str, Any]]:
        self.asked.append(("forecasts", key, first, last))
        lo, hi = first.isoformat(), last.isoformat()
        return [f for f in self._forecasts.get(key, []) if lo <= f["day"] <= hi]

    def surges_between(self, key: str, first: date, last: date) -> list[dict[str, Any]]:
        self.asked.append(("surges", key, first, last))
        return self._surges.get(key, [])

    def indexed_surges(self, first: date, last: date) -> list[dict[str, Any]]:
        self.asked.append(("index", "", first, last))
        return [s for s in self._index if first.isoformat() <= s["date"] <= last.isoformat()]


def _forecast(day: date, mean: float) -> dict[str, Any]:
    return {
        "day": day.isoformat(),
        "forecast": mean,
        "lower": mean - 5,
        "upper": mean + 5,
        "alert_upper": mean + 10,
        "generated_at": "2024-07-18T21:00:00+00:00",
    }


def _reader() -> FakeReader:
    key = "suwon.gg.kr#water-sewer"
    counts = {(TODAY - timedelta(days=n)).isoformat(): 20 + n % 3 for n in range(1, 40)}
    counts["2024-07-18"] = 61
    counts["2024-07-19"] = 4
    del counts["2024-07-10"]  # a day without complaints has no item
    forecasts = [_forecast(TODAY + timedelta(days=h), 21.0) for h in range(-3, 15)]
    return FakeReader(
        counts={key: counts},
        forecasts={key: forecasts},
        surges={key: [{"key": "surge#2024-07-18", "count": 61, "detected_at": "t"}]},
    )


# ------------------------------------------------------------------ parameters


def test_parameters_default_to_sixty_days_ending_today() -> None:
    query = parse_volume_query({"jurisdiction_id": "suwon.gg.kr"}, TODAY)
    assert query == VolumeQuery("suwon.gg.kr", None, 60, TODAY)
    assert query.first == TODAY - timedelta(days=59) and not query.is_series


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"jurisdiction_id": "atlantis gg"}, "jurisdiction_id"),
        ({"jurisdiction_id": "suwon.gg.kr", "service_code": "graffiti"}, "service_code"),
        ({"service_code": "noise"}, "jurisdiction_id"),
        ({"days": "0"}, "days"),
        ({"days": "401"}, "days"),
        ({"days": "ten"}, "days"),
        ({"end": "19/07/2024"}, "end"),
        ({"end": "2024-07-20"}, "end"),
    ],
)
def test_bad_parameters_name_themselves(params: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_volume_query(params, TODAY)
    assert caught.value.field == field and caught.value.message.startswith(field)


def test_the_chart_needs_a_series() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_volume_query({"jurisdiction_id": "suwon.gg.kr"}, TODAY, require_series=True)
    assert caught.value.field == "service_code"


# ------------------------------------------------------------------ assembling


def test_series_joins_counts_forecasts_and_surges_day_by_day() -> None:
    reader = _reader()
    params = {"jurisdiction_id": "suwon.gg.kr", "service_code": "water-sewer", "days": "30"}
    view = volumes_view(parse_volume_query(params, TODAY), reader, TODAY)

    days = {d["date"]: d for d in view["days"]}
    assert view["first"] == "2024-06-20" and len(view["days"]) == 30 + 14
    assert days["2024-07-10"]["count"] == 0  # absent item: no complaint that day
    assert days["2024-06-20"]["forecast"] is None  # no forecast stored that far back
    assert days["2024-07-18"] == {
        "date": "2024-07-18",
        "count": 61,
        "partial": False,
        "forecast": 21.0,
        "lower": 16.0,
        "upper": 26.0,
        "alert_upper": 31.0,
        "surge": True,
    }
    assert days["2024-07-19"]["partial"] is True
    assert days["2024-08-02"]["count"] is None and days["2024-08-02"]["forecast"] == 21.0
    assert view["surges"] == [
        {
            "date": "2024-07-18",
            "count": 61,
            "forecast": 21.0,
            "alert_upper": 31.0,
            "excess": 40.0,
            "detected_at": "t",
        }
    ]
    assert view["names"]["service"]["ko"] == "상하수도"
    # Bounded: one range per table, nothing province-wide.
    assert [a[0] for a in reader.asked] == ["counts", "forecasts", "surges"]


def test_overview_ranks_series_by_excess_and_filters_a_jurisdiction() -> None:
    def surge(jid: str, code: str, day: str, excess: float) -> dict[str, Any]:
        return {"jurisdiction_id": jid, "service_code": code, "date": day, "excess": excess}

    reader = FakeReader(
        index=[
            surge("suwon.gg.kr", "noise", "2024-07-01", 5),
            surge("ansan.gg.kr", "odor-air", "2024-07-02", 30),
            surge("suwon.gg.kr", "noise", "2024-07-03", 9),
            surge("suwon.gg.kr", "tax", "2024-07-04", 12),
            surge("suwon.gg.kr", "tax", "2023-01-01", 99),  # outside the window
            surge("narnia.gg.kr", "tax", "2024-07-04", 99),  # not in the catalogue
        ]
    )
    province = volumes_view(parse_volume_query({}, TODAY), reader, TODAY)
    assert [(t["jurisdiction_id"], t["service_code"]) for t in province["top"]] == [
        ("ansan.gg.kr", "odor-air"),
        ("suwon.gg.kr", "noise"),
        ("suwon.gg.kr", "tax"),
    ]
    assert province["top"][1]["surge_days"] == 2 and province["top"][1]["excess"] == 14
    suwon = volumes_view(
        parse_volume_query({"jurisdiction_id": "suwon.gg.kr"}, TODAY), reader, TODAY
    )
    assert {t["jurisdiction_id"] for t in suwon["top"]} == {"suwon.gg.kr"}
    assert [a[0] for a in reader.asked] == ["index", "index"]


# ------------------------------------------------------------------ SVG


def _chart(**changes: Any) -> ET.Element:
    params = {"jurisdiction_id": "suwon.gg.kr", "service_code": "water-sewer", "days": "30"}
    view = volumes_view(parse_volume_query(params, TODAY), _reader(), TODAY) | changes
    text = render_series_svg(view)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.encode("utf-8"))


def test_svg_is_well_formed_with_band_line_bars_markers_and_legend() -> None:
    root = _chart()
    by_id = {e.get("id"): e for e in root.iter() if e.get("id")}
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert {"chart-title", "chart-desc", "interval-band", "forecast-line", "legend"} <= set(by_id)
    band = by_id["interval-band"].get("d") or ""
    assert band.startswith("M") and band.endswith("Z")
    assert len(by_id["counts"].findall(f"{SVG}rect")) == 30
    markers = [e for e in root.iter(f"{SVG}path") if e.get("class") == "surge-marker"]
    assert len(markers) == 1
    assert "2024-07-18" in (markers[0].findtext(f"{SVG}title") or "")
    labels = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert "07.18" in labels or any(re.fullmatch(r"\d\d\.\d\d", t) for t in labels)
    assert any("수원시" in t and "Suwon" in t for t in labels)
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter(f"{SVG}style"))


def test_svg_escapes_names() -> None:
    evil = {"en": '<script>alert("x")</script> & co', "ko": "<b>"}
    names = {"jurisdiction": evil, "service": {"en": "s", "ko": "s"}}
    text = render_series_svg(
        volumes_view(
            parse_volume_query({"jurisdiction_id": "suwon.gg.kr", "service_code": "noise"}, TODAY),
            FakeReader(),
            TODAY,
        )
        | {"names": names}
    )
    assert "<script>" not in text and "&lt;script&gt;" in text
    root = ET.fromstring(text.encode("utf-8"))
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter(f"{SVG}b"))
    # No counts and no forecasts: still a chart, without a band or a line.
    assert {e.get("id") for e in root.iter()} >= {"counts", "legend"}
    assert "interval-band" not in {e.get("id") for e in root.iter()}


@pytest.mark.parametrize(("top", "step"), [(0, 0.2), (7, 2), (48, 10), (61, 20), (950, 200)])
def test_nice_steps(top: float, step: float) -> None:
    assert nice_step(top) == pytest.approx(step)


# ------------------------------------------------------------------ the page


def test_page_style_is_allowed_by_its_hash_and_nothing_is_external() -> None:
    html = dashboard_page.page_html()
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode()
    policy = dashboard_page.content_security_policy()
    assert f"style-src 'sha256-{digest}'" in policy and "unsafe" not in policy
    assert html.count("<script") == 1 and '<script src="dashboard.js" defer></script>' in html
    # Inline attributes would need 'unsafe-inline': none are used.
    assert " style=" not in html and not re.search(r"\son[a-z]+=", html)
    for text in (html, dashboard_page.script_js()):
        assert not any(u in text for u in ("http:", "https:", '"//', "url(", "innerHTML"))
    assert html.count("<option") == 31 + 15
    assert "localStorage" not in dashboard_page.script_js()


def test_overview_shows_only_the_readers_jurisdictions() -> None:
    def surge(jid: str, code: str, excess: float) -> dict[str, Any]:
        return {
            "jurisdiction_id": jid,
            "service_code": code,
            "date": "2024-07-02",
            "excess": excess,
        }

    reader = FakeReader(
        index=[
            surge("suwon.gg.kr", "noise", 5),
            surge("ansan.gg.kr", "odor-air", 30),
            surge("osan.gg.kr", "tax", 12),
        ]
    )
    query = parse_volume_query({}, TODAY)
    mine = volumes_view(query, reader, TODAY, frozenset({"suwon.gg.kr", "osan.gg.kr"}))
    assert [t["jurisdiction_id"] for t in mine["top"]] == ["osan.gg.kr", "suwon.gg.kr"]
    assert mine["series_with_surges"] == 2
    assert volumes_view(query, reader, TODAY, frozenset())["top"] == []
    assert len(volumes_view(query, reader, TODAY, None)["top"]) == 3  # the province's
