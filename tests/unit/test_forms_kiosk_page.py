"""The kiosk page's server side (``gyeonggi.forms.kiosk_page``): its policy allows exactly its
one script and one style, it names nothing outside this API, its markup holds together, and its
words exist in Korean and English. The page in a browser: tests/integration/
test_forms_kiosk_browser.py."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gyeonggi.forms import kiosk_page
from gyeonggi.forms.catalogue import FORM_IDS

VOID = {"meta", "link", "input", "br", "img", "hr", "source", "area", "base", "col", "wbr"}


class Markup(HTMLParser):
    """Elements, ids, references between them, and the inline script and style."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.ids: list[str] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self._raw_tag: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.elements.append((tag, values))
        if "id" in values:
            self.ids.append(values["id"])
        if tag in self.raw:
            self._raw_tag = tag
            self.raw[tag].append("")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else '-'}>")
            return
        self.stack.pop()
        self._raw_tag = None

    def handle_data(self, data: str) -> None:
        if self._raw_tag:
            self.raw[self._raw_tag][-1] += data


@pytest.fixture(scope="module")
def markup() -> Markup:
    parser = Markup()
    parser.feed(kiosk_page.page_html())
    parser.close()
    return parser


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_policy_allows_its_one_script_and_one_style_by_hash(markup: Markup) -> None:
    policy = dict(part.split(" ", 1) for part in kiosk_page.content_security_policy().split("; "))
    assert markup.raw["script"] == [kiosk_page.script_js()]
    assert markup.raw["style"] == [kiosk_page.style_css()]
    assert policy["script-src"] == _sha(kiosk_page.script_js())
    assert policy["style-src"] == _sha(kiosk_page.style_css())
    assert policy["default-src"] == "'none'" and policy["connect-src"] == "'self'"
    assert policy["img-src"] == "blob:" and policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'" and policy["form-action"] == "'none'"
    assert "unsafe" not in kiosk_page.content_security_policy()
    headers = kiosk_page.kiosk_headers()
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in headers["Permissions-Policy"]


def test_nothing_is_loaded_from_elsewhere(markup: Markup) -> None:
    for tag, attrs in markup.elements:
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
        assert "style" not in attrs, f"<{tag} style>: inline styles are not allowed by the policy"
        assert not any(a.startswith("on") for a in attrs), f"<{tag}>: inline handlers"
    page = kiosk_page.page_html()
    # No address with a host: absolute (https://...) or protocol-relative (//host.example).
    assert not re.search(r"[a-z]+://|[\s\"'(=]//[a-z0-9-]+\.[a-z]", page, re.I)
    css = kiosk_page.style_css()
    assert "@import" not in css and "url(" not in css and "@font-face" not in css
    script = kiosk_page.script_js()
    for banned in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "localStorage",
        "://",
        "XMLHttpRequest",
        "WebSocket",
    ):
        assert banned not in script, banned


def test_the_markup_holds_together(markup: Markup) -> None:
    assert markup.problems == [] and markup.stack == []
    assert len(markup.ids) == len(set(markup.ids)), "ids are unique"
    ids = set(markup.ids)
    for tag, attrs in markup.elements:
        for name in ("aria-labelledby", "aria-describedby", "for"):
            for ref in attrs.get(name, "").split():
                assert ref in ids, f"<{tag} {name}={ref}> names no element"
        if tag == "button":
            assert attrs.get("type") in ("button", "submit"), attrs
        if tag == "input":
            labels = [a for t, a in markup.elements if t == "label" and a.get("for") == attrs["id"]]
            assert labels, f"input #{attrs['id']} has a label"
    html = kiosk_page.page_html()
    assert html.startswith('<!doctype html>\n<html lang="ko">')
    assert '<meta charset="utf-8">' in html
    viewport = next(a for t, a in markup.elements if t == "meta" and a.get("name") == "viewport")
    assert "user-scalable" not in viewport["content"] and "maximum-scale" not in viewport["content"]
    assert "<title>경기도 민원 서류 도우미</title>" in html
    # The two languages' buttons name their own language.
    assert '<button type="button" id="lang-en" lang="en"' in html


def test_every_word_is_there_in_korean_and_english(markup: Markup) -> None:
    for key, entry in kiosk_page.STRINGS.items():
        assert set(entry) <= {"ko", "en", "easy"} and entry["ko"] and entry["en"], key
        placeholders = {lang: set(re.findall(r"\{\w+\}", text)) for lang, text in entry.items()}
        assert len({frozenset(p) for p in placeholders.values()}) == 1, key
        # English words are English, Korean words Korean.
        assert not re.search(r"[가-힣]", entry["en"]), key
        assert re.search(r"[가-힣]", entry["ko"]), key
    keys = {a[k] for _, a in markup.elements for k in ("data-text", "data-label") if k in a}
    assert keys <= set(kiosk_page.STRINGS)
    assert kiosk_page.text("restart", "en") == "Start over"
    assert kiosk_page.text("speak", "ko", easy=True) == "소리로 듣기"
    assert kiosk_page.text("send", "ko", easy=True) == "보내기"  # no easy form: the plain one


def test_the_script_carries_the_forms_and_its_settings() -> None:
    script = kiosk_page.script_js()
    assert "/*__CONFIG__*/" not in script
    start = script.index("const CONFIG = ") + len("const CONFIG = ")
    config, _ = json.JSONDecoder().raw_decode(script[start:])
    assert [f["id"] for f in config["forms"]] == list(FORM_IDS)
    first = config["forms"][0]
    assert first["ko"] == "주민등록표 등본·초본 교부 신청"
    assert first["easy"] == "주민등록 등본·초본 떼기"
    assert first["en"].startswith("Copy")
    assert config["strings"] == kiosk_page.STRINGS
    assert config["idleSeconds"] == 120 and config["warnSeconds"] >= 20  # WCAG 2.2.1
    assert "</" not in script[start:].split(";", 1)[0]  # no "</script>" inside the data


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed here")
def test_the_script_is_valid_javascript(tmp_path: Path) -> None:
    source = tmp_path / "kiosk.js"
    source.write_text(kiosk_page.script_js(), encoding="utf-8")
    checked = subprocess.run(
        ["node", "--check", str(source)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr
