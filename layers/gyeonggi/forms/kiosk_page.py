"""The barrier-free kiosk page (``GET /forms/kiosk``, issue 11, section 5).

The same dialogue as ``/forms/sessions``, as one web page for a kiosk or a phone: one question at
a time in very large type and high contrast, every control a real button or input reachable by
keyboard and named for screen readers, Korean and English with a switch, easy Korean with a
switch, the question read aloud by the browser's own speech synthesis, an inactivity timeout
that clears the screen for the next person. docs/FORMS.md ("The kiosk page") has the choices
and how they are tested.

The page holds no data, so it is public; the requests it makes carry the kiosk's bearer token
(a machine account of the ``kiosk`` group), which staff give it once: pasted on its set-up
screen or handed in the URL's fragment (``#token=...``, which browsers never send to a server,
so no access log sees it), then kept in the tab's ``sessionStorage`` and the fragment erased.
A session's key is kept in a variable only, and forgotten when the page starts over.

Nothing comes from elsewhere and nothing runs that the policy did not name: the one ``<style>``
and the one ``<script>`` are inline and allowed by their SHA-256 in the Content-Security-Policy
(one response, no second route to keep in step), requests go to this API only
(``connect-src 'self'``), pictures only from ``blob:`` (a QR code fetched with the token, for
the identity check that follows a confirmation). The script writes text nodes only.

The script and the style are files beside this module (``kiosk/``), so that they can be read,
linted and syntax-checked as what they are; the page's own words, in Korean, easy Korean and
English, are :data:`STRINGS`, given to the script with the seven forms' titles.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from gyeonggi.forms.catalogue import FORM_IDS, catalogue

KIOSK_DIR = Path(__file__).parent / "kiosk"
TOKEN_KEY = "gyeonggi.kiosk.token"
#: Seconds without a touch or a key before the page asks whether anyone is still there, and
#: then before it starts over (WCAG 2.2.1: warned, and 30 s to say so with one action). The
#: kiosk's sessions expire on the server after ten minutes in any case.
IDLE_SECONDS = 120
WARN_SECONDS = 30
#: How often a session past its confirmation is read again, so that the steps that follow
#: (the identity check, the submission) show as they happen.
POLL_SECONDS = 5

# The page's own words. "easy" is easy Korean where it differs from the plain Korean; a key
# without it falls back to "ko". ``{n}`` is filled in by the script.
STRINGS: dict[str, dict[str, str]] = {
    "title": {
        "ko": "경기도 민원 서류 도우미",
        "en": "Gyeonggi petition forms assistant",
        "easy": "경기도 서류 도우미",
    },
    "skip": {"ko": "질문으로 바로 가기", "en": "Skip to the question"},
    "settings": {"ko": "화면 설정", "en": "Screen settings"},
    "lang_group": {"ko": "언어", "en": "Language"},
    "easy": {"ko": "쉬운 말", "en": "Easy Korean"},
    "speak": {"ko": "질문 읽어 주기", "en": "Read the question aloud", "easy": "소리로 듣기"},
    "restart": {"ko": "처음부터 다시", "en": "Start over"},
    "choose_form": {
        "ko": "어떤 서류가 필요하세요?",
        "en": "Which form do you need?",
        "easy": "어떤 서류가 필요해요?",
    },
    "choose_hint": {
        "ko": "아래에서 고르거나, 필요한 것을 직접 적어 주세요.",
        "en": "Pick one below, or write what you need.",
        "easy": "아래에서 하나를 골라요. 직접 써도 돼요.",
    },
    "forms_group": {"ko": "서류 목록", "en": "Forms"},
    "answer_label": {"ko": "직접 입력", "en": "Type your answer", "easy": "직접 쓰기"},
    "need_label": {"ko": "필요한 서류를 직접 입력", "en": "Type what you need"},
    "change_label": {"ko": "고칠 내용 입력", "en": "Type what to change"},
    "send": {"ko": "보내기", "en": "Send"},
    "skip_field": {"ko": "건너뛰기", "en": "Skip"},
    "optional": {
        "ko": "없으면 건너뛰어도 돼요.",
        "en": "You may skip this one.",
        "easy": "없으면 건너뛰어요.",
    },
    "yes": {"ko": "네", "en": "Yes"},
    "no": {"ko": "아니요", "en": "No"},
    "yes_word": {"ko": "네", "en": "yes"},
    "no_word": {"ko": "아니요", "en": "no"},
    "skip_word": {"ko": "건너뛸게요", "en": "skip"},
    "cancel_word": {"ko": "취소할게요", "en": "cancel"},
    "confirm_title": {
        "ko": "이 내용이 맞나요?",
        "en": "Is this right?",
        "easy": "맞는지 봐 주세요",
    },
    "confirm_yes": {"ko": "네, 맞아요", "en": "Yes, it is right"},
    "confirm_no": {"ko": "고칠게요", "en": "No, change something", "easy": "고칠 게 있어요"},
    "summary_label": {"ko": "입력한 내용", "en": "What you entered", "easy": "쓴 내용"},
    "warnings_label": {"ko": "확인할 점", "en": "Please note", "easy": "알아 둘 것"},
    "done_title": {
        "ko": "신청서가 준비됐어요",
        "en": "Your form is ready",
        "easy": "신청서가 다 됐어요",
    },
    "cancelled_title": {"ko": "신청을 취소했어요", "en": "The application is cancelled"},
    "other_title": {"ko": "진행 중이에요", "en": "In progress", "easy": "하고 있어요"},
    "new_person": {"ko": "처음 화면으로", "en": "Back to the start", "easy": "처음으로"},
    "remaining": {"ko": "남은 질문 {n}개", "en": "Questions left: {n}", "easy": "{n}개 남았어요"},
    "form_label": {"ko": "신청서", "en": "Form"},
    "setup_title": {"ko": "키오스크 설정 (담당 직원용)", "en": "Kiosk setup (staff only)"},
    "setup_text": {
        "ko": "이 키오스크의 접속 토큰을 붙여 넣으세요. 이 탭에만 보관되고, 주소에는 남지 않아요.",
        "en": "Paste this kiosk's access token. It is kept in this tab only, never in an address.",
    },
    "setup_label": {"ko": "접속 토큰", "en": "Access token"},
    "setup_save": {"ko": "저장", "en": "Save"},
    "setup_expired": {
        "ko": "이 키오스크의 접속이 끝났어요. 담당 직원을 불러 주세요.",
        "en": "This kiosk's sign-in has ended. Please ask a member of staff.",
        "easy": "지금은 쓸 수 없어요. 직원을 불러 주세요.",
    },
    "sending": {"ko": "보내는 중이에요…", "en": "Sending…", "easy": "보내고 있어요…"},
    "error_network": {
        "ko": "연결이 안 돼요. 잠시 뒤 다시 해 주세요.",
        "en": "No connection. Please try again in a moment.",
    },
    "error_expired": {
        "ko": "시간이 지나 입력한 내용이 지워졌어요. 처음부터 다시 해 주세요.",
        "en": "Time ran out and what you entered was erased. Please start again.",
        "easy": "시간이 지나서 처음부터 다시 해야 해요.",
    },
    "error_generic": {
        "ko": "문제가 생겼어요. 다시 해 주세요.",
        "en": "Something went wrong. Please try again.",
    },
    "error_empty": {
        "ko": "답을 적어 주세요.",
        "en": "Please type an answer.",
        "easy": "답을 써 주세요.",
    },
    "idle_title": {"ko": "아직 계세요?", "en": "Are you still there?"},
    "idle_text": {
        "ko": "{n}초 뒤에 처음 화면으로 돌아가고, 입력한 내용은 지워져요.",
        "en": "In {n} seconds this screen starts over and what you entered is erased.",
        "easy": "{n}초 뒤에 처음으로 돌아가요. 쓴 내용은 지워져요.",
    },
    "idle_continue": {"ko": "계속할게요", "en": "I am still here"},
    "idle_end": {"ko": "지금 끝낼게요", "en": "Finish now"},
    "reset_done": {
        "ko": "처음 화면이에요. 입력한 내용은 지웠어요.",
        "en": "Started over. What was entered is erased.",
    },
    "no_voice": {
        "ko": "이 기기에서는 읽어 주기를 쓸 수 없어요.",
        "en": "Reading aloud is not available on this device.",
    },
    "qr_alt": {
        "ko": "휴대폰 지갑으로 찍을 QR 코드",
        "en": "QR code to scan with your phone's wallet",
    },
    "links_label": {"ko": "이어서 할 일", "en": "Next", "easy": "다음에 할 일"},
    "hint_rrn": {
        "ko": "숫자 13자리 (생년월일 6자리와 뒤 7자리). 보낸 뒤에는 가려져요.",
        "en": "13 digits (six of the birth date, then seven). Hidden once sent.",
        "easy": "숫자 13자리예요. 보내면 가려져요.",
    },
    "hint_phone": {"ko": "예: 010-1234-5678", "en": "For example 010-1234-5678"},
    "hint_date": {
        "ko": "예: 오늘, 어제, 12월 3일",
        "en": "For example: today, yesterday, 3 December",
    },
    "hint_address": {
        "ko": "도로명 주소 (예: 수원시 팔달구 효원로 1)",
        "en": "Road-name address (for example: 1 Hyowon-ro, Paldal-gu, Suwon)",
    },
    "hint_count": {"ko": "숫자로 적어 주세요.", "en": "A number.", "easy": "숫자로 써요."},
    "hint_account": {"ko": "계좌번호 (숫자와 -)", "en": "Account number (digits and -)"},
}


def text(key: str, lang: str, easy: bool = False) -> str:
    """One of the page's own words in ``lang`` (easy Korean when asked for and written)."""
    entry = STRINGS[key]
    if lang == "en":
        return entry["en"]
    return entry.get("easy", entry["ko"]) if easy else entry["ko"]


def _forms() -> list[dict[str, Any]]:
    """The seven forms as the first screen's buttons: id and title in each language."""
    forms = catalogue()
    return [
        {
            "id": fid,
            "ko": forms[fid].title.get("ko"),
            "easy": forms[fid].title.get("ko", True),
            "en": forms[fid].title.get("en"),
        }
        for fid in FORM_IDS
    ]


def _config() -> dict[str, Any]:
    return {
        "strings": STRINGS,
        "forms": _forms(),
        "tokenKey": TOKEN_KEY,
        "idleSeconds": IDLE_SECONDS,
        "warnSeconds": WARN_SECONDS,
        "pollSeconds": POLL_SECONDS,
    }


def _json_for_script(data: Any) -> str:
    # Inside <script>, "</script" or "<!--" in a string would end or confuse the element.
    return json.dumps(data, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")


@cache
def style_css() -> str:
    """The page's style sheet (inline, allowed by its hash)."""
    return (KIOSK_DIR / "kiosk.css").read_text(encoding="utf-8").strip()


@cache
def script_js() -> str:
    """The page's script (inline, allowed by its hash), with its configuration in it."""
    source = (KIOSK_DIR / "kiosk.js").read_text(encoding="utf-8").strip()
    marker = "/*__CONFIG__*/null"
    if source.count(marker) != 1:
        raise RuntimeError("kiosk.js must hold the configuration marker once")
    return source.replace(marker, _json_for_script(_config()))


def _sha256(source: str) -> str:
    digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode()
    return f"'sha256-{digest}'"


@cache
def content_security_policy() -> str:
    """The page's policy: its one script and one style by hash, requests to this API only,
    pictures from blobs only, no frames, forms, plugins or base URL."""
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {_sha256(script_js())}",
            f"style-src {_sha256(style_css())}",
            "img-src blob:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def kiosk_headers() -> Mapping[str, str]:
    """The page's response headers: its policy, no referrer, no sniffing, no powerful
    features (a kiosk needs no camera, microphone or location), revalidated on every load."""
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": content_security_policy(),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        "Cache-Control": "no-cache",
    }


@cache
def page_html() -> str:
    """The page (UTF-8 text) in Korean, as a kiosk starts; the script switches its words."""

    def t(key: str) -> str:
        return escape(text(key, "ko"))

    return f"""<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light">
<title>{t("title")}</title>
<style>{style_css()}</style>
</head>
<body>
<a class="skip" href="#question" data-text="skip">{t("skip")}</a>
<header class="bar">
<p class="brand" data-text="title">{t("title")}</p>
<nav class="controls" aria-label="{t("settings")}" data-label="settings">
<div class="lang" role="group" aria-label="{t("lang_group")}" data-label="lang_group">
<button type="button" id="lang-ko" lang="ko" aria-pressed="true">한국어</button>
<button type="button" id="lang-en" lang="en" aria-pressed="false">English</button>
</div>
<button type="button" id="easy" aria-pressed="false" data-text="easy">{t("easy")}</button>
<button type="button" id="restart" data-text="restart">{t("restart")}</button>
</nav>
</header>
<main id="main">
<section id="setup" class="panel" aria-labelledby="setup-title" hidden>
<h1 id="setup-title" tabindex="-1" data-text="setup_title">{t("setup_title")}</h1>
<p id="setup-message" class="error" role="alert"></p>
<p id="setup-text" data-text="setup_text">{t("setup_text")}</p>
<form id="setup-form" class="answer">
<label for="token" data-text="setup_label">{t("setup_label")}</label>
<input id="token" type="password" autocomplete="off" spellcheck="false">
<button type="submit" class="primary" data-text="setup_save">{t("setup_save")}</button>
</form>
</section>
<section id="screen" class="panel" aria-labelledby="question">
<p id="context" class="context"></p>
<p id="said" class="said" role="status"></p>
<p id="error" class="error" role="alert"></p>
<h1 id="question" tabindex="-1" data-text="choose_form">{t("choose_form")}</h1>
<p id="hint" class="hint" data-text="choose_hint">{t("choose_hint")}</p>
<button type="button" id="speak" class="secondary speak" hidden
 data-text="speak">{t("speak")}</button>
<div id="content"></div>
<div id="choices" class="choices" role="group" aria-labelledby="question"></div>
<form id="answer-form" class="answer">
<label for="answer" id="answer-label" data-text="need_label">{t("need_label")}</label>
<input id="answer" type="text" maxlength="500" autocomplete="off" spellcheck="false"
 aria-describedby="hint">
<button type="submit" class="primary" id="send" data-text="send">{t("send")}</button>
</form>
<p id="busy" class="busy" aria-hidden="true"></p>
</section>
</main>
<dialog id="idle" aria-labelledby="idle-title" aria-describedby="idle-text">
<h2 id="idle-title" data-text="idle_title">{t("idle_title")}</h2>
<p id="idle-text"></p>
<div class="choices">
<button type="button" id="idle-continue" class="primary"
 data-text="idle_continue">{t("idle_continue")}</button>
<button type="button" id="idle-end" class="secondary"
 data-text="idle_end">{t("idle_end")}</button>
</div>
</dialog>
<script>{script_js()}</script>
</body>
</html>
"""
