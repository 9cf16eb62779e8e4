"""The ops dashboard page (``GET /ops/dashboard``) and its script (``GET /ops/dashboard.js``).

The page is a shell without data, so it is public; every data request it makes carries the
operator's bearer token, which the operator pastes and the page keeps in ``sessionStorage``
(gone with the tab, never in a URL, never sent anywhere but this API). Nothing is loaded from
elsewhere: the script is a route of this API (``script-src 'self'``), the one ``<style>`` is
allowed by its SHA-256 in the Content-Security-Policy, the chart is the server's SVG fetched with
the token and shown from a ``blob:`` URL, the numbers' table is built with ``textContent``.
The jurisdictions and services are embedded: they are the public catalogue, not data.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from html import escape

from gyeonggi.complaints.dashboard import DEFAULT_DAYS, MAX_DAYS
from gyeonggi.complaints.jurisdictions import JURISDICTIONS
from gyeonggi.complaints.services import SERVICES

TOKEN_KEY = "gyeonggi.ops.token"

_STYLE = """
:root { color-scheme: light; --line: #d1d5db; --muted: #4b5563; --accent: #1d4ed8; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 "Noto Sans CJK KR", "Noto Sans KR", "Malgun Gothic",
  "Apple SD Gothic Neo", system-ui, sans-serif; color: #111827; background: #f8fafc; }
header { background: #0f172a; color: #f8fafc; padding: 10px 20px; display: flex;
  align-items: baseline; gap: 16px; flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; }
header p { margin: 0; color: #cbd5e1; font-size: 13px; }
main { padding: 12px 20px 24px; display: grid; grid-template-columns: minmax(0, 1fr) 300px;
  gap: 16px; max-width: 1320px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px; }
h2 { font-size: 15px; margin: 0 0 8px; }
form { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: end; margin: 0; }
label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
input, select, button { font: inherit; padding: 4px 6px; border: 1px solid #9ca3af;
  border-radius: 4px; background: #fff; color: #111827; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
#chart { width: 100%; height: auto; display: block; margin-top: 10px; min-height: 120px; }
#status { min-height: 1.4em; margin: 8px 0 0; color: var(--muted); }
#status.error { color: #b91c1c; font-weight: 600; }
#token-state { font-size: 12px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 12px;
  font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 2px 6px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.surge td { color: #b91c1c; font-weight: 600; }
.scroll { max-height: 280px; overflow: auto; }
ol { padding-left: 20px; margin: 0; }
ol li { margin: 0 0 6px; }
ol button { background: none; border: none; color: var(--accent); padding: 0; text-align: left;
  text-decoration: underline; }
.note { font-size: 12px; color: var(--muted); }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
""".strip()


def _options() -> tuple[str, str]:
    jurisdictions = "".join(
        f'<option value="{escape(j.id)}">{escape(j.name_ko)} · {escape(j.name_en)}</option>'
        for j in JURISDICTIONS
    )
    services = "".join(
        f'<option value="{escape(s.code)}">{escape(s.name("ko"))} · {escape(s.name("en"))}</option>'
        for s in SERVICES
    )
    return jurisdictions, services


def content_security_policy() -> str:
    """The page's policy: its own script, its one style by hash, images from blobs only."""
    digest = base64.b64encode(hashlib.sha256(_STYLE.encode("utf-8")).digest()).decode()
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            f"style-src 'sha256-{digest}'",
            "img-src blob:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


@cache
def page_html() -> str:
    """The dashboard's HTML (UTF-8 text); the same for everyone, it holds no data."""
    jurisdictions, services = _options()
    return f"""<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>민원 물량 대시보드 · Complaint volumes (ops)</title>
<style>{_STYLE}</style>
<script src="dashboard.js" defer></script>
</head>
<body>
<header>
<h1>민원 물량·예측·급증 <span lang="en">· Complaint volumes, forecasts and surges</span></h1>
<p>경기도 운영 화면 <span lang="en">· Gyeonggi ops view (operator / civil-servant)</span></p>
</header>
<main>
<div>
<section aria-labelledby="series-title">
<h2 id="series-title">계열 선택 <span lang="en">· Series</span></h2>
<form id="series-form">
<label>시·군 <span lang="en">jurisdiction</span>
<select id="jurisdiction" name="jurisdiction_id">{jurisdictions}</select></label>
<label>민원 분야 <span lang="en">service</span>
<select id="service" name="service_code">{services}</select></label>
<label>기간(일) <span lang="en">days</span>
<input id="days" name="days" type="number" min="1" max="{MAX_DAYS}" value="{DEFAULT_DAYS}">
</label>
<label>마지막 날 <span lang="en">end (KST)</span>
<input id="end" name="end" type="date"></label>
<button type="submit">보기 <span lang="en">· Show</span></button>
</form>
<p id="status" role="status" aria-live="polite"></p>
<img id="chart" alt="" hidden>
<details id="numbers" hidden>
<summary>숫자 표 <span lang="en">· the numbers as a table</span></summary>
<div class="scroll">
<table>
<caption id="table-caption"></caption>
<thead><tr><th scope="col">날짜 date</th><th scope="col">건수 count</th>
<th scope="col">예측 forecast</th><th scope="col">하한 lower</th><th scope="col">상한 upper</th>
<th scope="col">급증 surge</th></tr></thead>
<tbody id="rows"></tbody>
</table>
</div>
</details>
</section>
</div>
<aside>
<section aria-labelledby="token-title">
<h2 id="token-title">접근 토큰 <span lang="en">· Bearer token</span></h2>
<form id="token-form">
<label>토큰 붙여넣기 <span lang="en">paste a token</span>
<input id="token" type="password" autocomplete="off" spellcheck="false"></label>
<button type="submit">저장 <span lang="en">· Keep</span></button>
<button type="button" id="forget" class="secondary">삭제 <span lang="en">· Forget</span></button>
</form>
<p id="token-state"></p>
<p class="note">이 탭의 sessionStorage에만 보관됩니다. <span lang="en">Kept in this tab's
sessionStorage only, sent only to this API.</span></p>
</section>
<section aria-labelledby="top-title">
<h2 id="top-title">급증 상위 <span lang="en">· Top surges</span></h2>
<p class="note" id="top-window"></p>
<ol id="top"></ol>
</section>
</aside>
</main>
</body>
</html>
"""


# The script keeps the token out of URLs and the DOM's markup, and writes only text nodes.
_SCRIPT = """
"use strict";
(() => {
  const KEY = "__TOKEN_KEY__";
  const $ = (id) => document.getElementById(id);
  const status = $("status"), chart = $("chart"), rows = $("rows");
  let chartUrl = null;

  const token = () => sessionStorage.getItem(KEY) || "";
  const say = (text, isError) => {
    status.textContent = text;
    status.className = isError ? "error" : "";
  };
  const tokenState = () => {
    $("token-state").textContent = token()
      ? "토큰 있음 · token kept for this tab"
      : "토큰 없음 · no token yet: paste one (gyeonggi auth token operator)";
  };

  async function call(path, params) {
    const response = await fetch(path + "?" + params.toString(), {
      headers: { Authorization: "Bearer " + token() },
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
    if (!response.ok) {
      let detail = "";
      try {
        const body = await response.json();
        detail = body[0].description;
      } catch (e) {
        detail = response.statusText;
      }
      const why = { 401: "토큰 없음/만료 · token missing or expired",
                    403: "권한 없음 · role not allowed" }[response.status] || "";
      throw new Error(response.status + " " + why + (detail ? " — " + detail : ""));
    }
    return response;
  }

  function selection() {
    const params = new URLSearchParams();
    params.set("jurisdiction_id", $("jurisdiction").value);
    params.set("service_code", $("service").value);
    params.set("days", $("days").value || "__DEFAULT_DAYS__");
    if ($("end").value) params.set("end", $("end").value);
    return params;
  }

  const cell = (tr, text) => {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : String(text);
    tr.appendChild(td);
  };

  function fillTable(view) {
    rows.replaceChildren();
    for (const day of view.days) {
      if (day.count === null && day.forecast === null) continue;
      const tr = document.createElement("tr");
      if (day.surge) tr.className = "surge";
      cell(tr, day.date + (day.partial ? " *" : ""));
      cell(tr, day.count);
      cell(tr, day.forecast);
      cell(tr, day.lower);
      cell(tr, day.upper);
      cell(tr, day.surge ? "급증 surge" : "");
      rows.appendChild(tr);
    }
    $("table-caption").textContent = view.names.jurisdiction.ko + " " + view.names.service.ko +
      " · " + view.first + " – " + view.end + " (* 오늘, 집계 중 · today, partial)";
    $("numbers").hidden = false;
  }

  async function show() {
    if (!token()) { say("먼저 토큰을 붙여넣으세요 · paste a token first", true); return; }
    const params = selection();
    say("불러오는 중 · loading…", false);
    try {
      const [data, picture] = await Promise.all([
        call("volumes.json", params), call("volumes.svg", params)]);
      const view = await data.json();
      const blob = await picture.blob();
      if (chartUrl) URL.revokeObjectURL(chartUrl);
      chartUrl = URL.createObjectURL(blob);
      chart.src = chartUrl;
      chart.alt = view.names.jurisdiction.ko + " " + view.names.service.ko + " " +
        view.names.service.en + ": " + view.days.length + " days, " +
        view.surges.length + " surge day(s); the table below has the numbers";
      chart.hidden = false;
      fillTable(view);
      say(view.surges.length
        ? "급증 " + view.surges.length + "일 · " + view.surges.length + " surge day(s): " +
          view.surges.map((s) => s.date + " (" + s.count + ")").join(", ")
        : "급증 없음 · no surge in this window", false);
      history.replaceState(null, "", "#" + params.get("jurisdiction_id") + "/" +
        params.get("service_code"));
    } catch (error) {
      say(error.message, true);
    }
  }

  async function overview() {
    const list = $("top");
    list.replaceChildren();
    if (!token()) return;
    const params = new URLSearchParams();
    params.set("days", "30");
    if ($("end").value) params.set("end", $("end").value);
    try {
      const view = await (await call("volumes.json", params)).json();
      $("top-window").textContent = view.first + " – " + view.end + " · " +
        view.series_with_surges + " 계열 series";
      for (const item of view.top) {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = item.names.jurisdiction.ko + " " + item.names.service.ko +
          " · " + item.surge_days + "일 days, +" + item.excess;
        button.addEventListener("click", () => {
          $("jurisdiction").value = item.jurisdiction_id;
          $("service").value = item.service_code;
          show();
        });
        li.appendChild(button);
        list.appendChild(li);
      }
      if (!view.top.length) $("top-window").textContent += " · 급증 없음 · none";
    } catch (error) {
      $("top-window").textContent = error.message;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const [j, s] = decodeURIComponent(location.hash.slice(1)).split("/");
    if (j) $("jurisdiction").value = j;
    if (s) $("service").value = s;
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token").value.trim().replace(/^Bearer\\s+/i, "");
      $("token").value = "";
      if (value) sessionStorage.setItem(KEY, value);
      tokenState();
      overview();
      show();
    });
    $("forget").addEventListener("click", () => {
      sessionStorage.removeItem(KEY);
      tokenState();
    });
    $("series-form").addEventListener("submit", (event) => {
      event.preventDefault();
      show();
    });
    tokenState();
    if (token()) { overview(); show(); }
  });
})();
""".lstrip()


@cache
def script_js() -> str:
    """The page's script (served as ``/ops/dashboard.js``, so no inline script is needed)."""
    return _SCRIPT.replace("__TOKEN_KEY__", TOKEN_KEY).replace(
        "__DEFAULT_DAYS__", str(DEFAULT_DAYS)
    )
