/* The kiosk page's script (gyeonggi.forms.kiosk_page): the form dialogue of /forms/sessions,
   one question at a time. It writes text nodes only (never HTML), keeps the kiosk's token in
   this tab's sessionStorage and a session's key in a variable, and calls this API only. */
"use strict";
(() => {
  const CONFIG = /*__CONFIG__*/null;
  const S = CONFIG.strings;
  const $ = (id) => document.getElementById(id);
  const el = {
    question: $("question"), said: $("said"), error: $("error"), hint: $("hint"),
    context: $("context"), content: $("content"), choices: $("choices"),
    form: $("answer-form"), answer: $("answer"), answerLabel: $("answer-label"),
    speak: $("speak"), busy: $("busy"), screen: $("screen"), setup: $("setup"),
    setupForm: $("setup-form"), setupMessage: $("setup-message"), token: $("token"),
    langKo: $("lang-ko"), langEn: $("lang-en"), easy: $("easy"), restart: $("restart"),
    idle: $("idle"), idleText: $("idle-text"),
  };
  // The API's routes, relative to this page: /forms/kiosk -> /forms/sessions, and in AWS
  // /<stage>/forms/kiosk -> /<stage>/forms/sessions.
  const PREFIX = location.pathname.slice(0, Math.max(0, location.pathname.lastIndexOf("/forms/")));
  const INPUTS = {
    name: { autocomplete: "name", inputmode: "text", hint: null },
    rrn: { autocomplete: "off", inputmode: "numeric", hint: "hint_rrn" },
    phone: { autocomplete: "tel-national", inputmode: "tel", hint: "hint_phone" },
    address: { autocomplete: "street-address", inputmode: "text", hint: "hint_address" },
    date: { autocomplete: "off", inputmode: "text", hint: "hint_date" },
    count: { autocomplete: "off", inputmode: "numeric", hint: "hint_count" },
    account: { autocomplete: "off", inputmode: "numeric", hint: "hint_account" },
  };
  const RRN = /(\d{6})\s*[-‐‑–—]?\s*(\d)\d{6}(?!\d)/g;

  // Everything about the person at the kiosk; reset() forgets all of it.
  let ui = { lang: defaultLang(), easy: false, langChosen: false };
  let session = null; // {id, key, view}
  let busy = false;
  let lastAction = null;
  let pollTimer = null;
  let blobUrls = [];
  let idleTimer = null;
  let warnTimer = null;

  function defaultLang() {
    const wanted = (navigator.languages || [navigator.language || "ko"]).map((l) => l.slice(0, 2));
    const first = wanted.find((l) => l === "ko" || l === "en");
    return first || "ko";
  }

  function s(key, n) {
    const entry = S[key];
    let value = ui.lang === "en" ? entry.en : (ui.easy && entry.easy) || entry.ko;
    if (n !== undefined) value = value.replace("{n}", String(n));
    return value;
  }

  const mask = (value) => String(value).replace(RRN, (_, birth, digit) => birth + "-" + digit + "******");
  const token = () => sessionStorage.getItem(CONFIG.tokenKey) || "";
  const url = (path) => PREFIX + path;

  // ------------------------------------------------------------------ the API

  class ApiError extends Error {
    constructor(status, description) {
      super(description || String(status));
      this.status = status;
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + token() };
    if (session && session.key) headers["X-Session-Key"] = session.key;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url(path), {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
      });
    } catch (e) {
      throw new ApiError(0, s("error_network"));
    }
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const description = Array.isArray(data) && data[0] ? data[0].description : "";
      throw new ApiError(response.status, description);
    }
    return data;
  }

  const sessionPath = () => "/forms/sessions/" + encodeURIComponent(session.id);

  async function begin(body) {
    const view = await api("POST", "/forms/sessions", {
      lang: ui.lang, easy: ui.lang === "ko" && ui.easy, keep_lang: ui.langChosen, ...body,
    });
    session = { id: view.session_id, key: view.session_key || null, view };
    return view;
  }

  // One utterance: the first starts the session. Returns whether it went through.
  async function say(textToSend, action) {
    if (busy) return false;
    lastAction = action || "answer";
    return run(() =>
      session
        ? api("POST", sessionPath() + "/messages", { text: textToSend })
        : begin({ text: textToSend }));
  }

  async function chooseForm(formId) {
    if (busy) return;
    lastAction = "form";
    await run(async () => {
      const old = session;
      if (old && !["confirmed", "cancelled"].includes(old.view.state)) forget(old);
      session = null;
      return begin({ form_id: formId });
    });
  }

  async function prefer(change) {
    if (busy) return;
    lastAction = "prefer";
    await run(() => api("PATCH", sessionPath(), change));
  }

  // One request: busy while it runs, its answer drawn, its failure said.
  async function run(request) {
    busy = true;
    el.screen.setAttribute("aria-busy", "true");
    el.busy.textContent = s("sending");
    try {
      const view = await request();
      if (view) {
        if (session) session.view = view;
        render(view);
      }
      return true;
    } catch (error) {
      failed(error);
      return false;
    } finally {
      busy = false;
      el.screen.removeAttribute("aria-busy");
      el.busy.textContent = "";
    }
  }

  function failed(error) {
    const status = error instanceof ApiError ? error.status : -1;
    if (status === 401) {
      sessionStorage.removeItem(CONFIG.tokenKey);
      showSetup(s("setup_expired"));
      return;
    }
    if (status === 404 && session) {
      reset(false);
      showError(s("error_expired"));
      return;
    }
    if (status === 409 && session) {
      refresh();
    }
    showError(status === 0 ? s("error_network") : status === 400 && error.message ? error.message : s("error_generic"));
    focus(el.answer.offsetParent ? el.answer : el.question);
  }

  function showError(message) {
    el.error.textContent = message;
  }

  // A session left behind (a new person, a new form): its values are erased on the server at
  // once, rather than when it expires ten minutes later.
  function forget(old) {
    const headers = { Authorization: "Bearer " + token(), "Content-Type": "application/json" };
    if (old.key) headers["X-Session-Key"] = old.key;
    fetch(url("/forms/sessions/" + encodeURIComponent(old.id) + "/messages"), {
      method: "POST", headers, keepalive: true, cache: "no-store", credentials: "omit",
      referrerPolicy: "no-referrer", body: JSON.stringify({ text: S.cancel_word[old.view.lang] || S.cancel_word.ko }),
    }).catch(() => {});
  }

  async function refresh() {
    if (!session) return;
    try {
      const view = await api("GET", sessionPath());
      if (!session) return;
      const changed = view.state !== session.view.state;
      session.view = view;
      if (changed) render(view);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 404)) failed(error);
    }
  }

  // ------------------------------------------------------------------ drawing

  function node(tag, props, children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "text") n.textContent = v;
      else if (k === "on") n.addEventListener("click", v);
      else if (v !== null && v !== undefined && v !== false) n.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children || []) n.appendChild(c);
    return n;
  }

  function button(label, onClick, cls, lang) {
    return node("button", { type: "button", class: cls || "secondary", text: label, lang: lang || null, on: onClick });
  }

  function focus(target) {
    if (target && typeof target.focus === "function") target.focus();
  }

  function applyWords() {
    const lang = ui.lang;
    document.documentElement.lang = lang;
    document.title = s("title");
    for (const n of document.querySelectorAll("[data-text]")) n.textContent = s(n.dataset.text);
    for (const n of document.querySelectorAll("[data-label]")) n.setAttribute("aria-label", s(n.dataset.label));
    el.langKo.setAttribute("aria-pressed", String(lang === "ko"));
    el.langEn.setAttribute("aria-pressed", String(lang === "en"));
    el.easy.setAttribute("aria-pressed", String(ui.easy));
    el.easy.hidden = lang !== "ko";
    el.speak.hidden = !("speechSynthesis" in window) || typeof SpeechSynthesisUtterance === "undefined";
  }

  function clearScreen() {
    stopPolling();
    for (const u of blobUrls) URL.revokeObjectURL(u);
    blobUrls = [];
    el.content.replaceChildren();
    el.choices.replaceChildren();
    el.choices.className = "choices";
    el.context.textContent = "";
    el.said.textContent = "";
    el.error.textContent = "";
    el.hint.textContent = "";
    el.hint.removeAttribute("data-text");
    el.answer.value = "";
    el.answer.removeAttribute("aria-invalid");
    el.answer.setAttribute("aria-describedby", "hint");
    el.form.hidden = false;
    for (const n of [el.question, el.said, el.content, el.choices, el.answerLabel]) n.removeAttribute("lang");
    if ("speechSynthesis" in window) window.speechSynthesis.cancel();
  }

  function setInput(type, labelKey) {
    const spec = INPUTS[type] || { autocomplete: "off", inputmode: "text", hint: null };
    el.answer.setAttribute("autocomplete", spec.autocomplete);
    el.answer.setAttribute("inputmode", spec.inputmode);
    el.answerLabel.textContent = s(labelKey || "answer_label");
    return spec.hint;
  }

  // The part of the assistant's reply before the question it asks again (which is the heading).
  function feedback(reply, question) {
    if (!reply) return "";
    const at = question ? reply.lastIndexOf(question) : -1;
    return (at >= 0 ? reply.slice(0, at) : reply).trim();
  }

  function chooseFormScreen(reply) {
    el.question.textContent = s("choose_form");
    el.hint.textContent = s("choose_hint");
    el.hint.dataset.text = "choose_hint";
    if (reply) el.said.textContent = reply;
    el.choices.className = "choices forms";
    el.choices.setAttribute("aria-labelledby", "question");
    for (const form of CONFIG.forms) {
      const title = ui.lang === "en" ? form.en : ui.easy ? form.easy : form.ko;
      el.choices.appendChild(button(title, () => chooseForm(form.id), "secondary"));
    }
    setInput("text", "need_label");
  }

  function render(view) {
    clearScreen();
    ui.lang = view.lang === "en" ? "en" : "ko";
    ui.easy = Boolean(view.easy);
    applyWords();
    const reply = view.reply ? mask(view.reply) : "";
    const problems = view.problems || [];
    const screens = { collecting: collectingScreen, confirming: confirmScreen, confirmed: doneScreen, cancelled: cancelledScreen };
    (screens[view.state] || otherScreen)(view, reply);
    for (const n of [el.question, el.said, el.content, el.choices]) n.setAttribute("lang", view.lang);
    if (problems.length && el.said.textContent) {
      // A refused value: said as an alert, and the input marked and described by it.
      el.error.textContent = el.said.textContent;
      el.said.textContent = "";
      el.answer.setAttribute("aria-invalid", "true");
      el.answer.setAttribute("aria-describedby", "error hint");
      focus(el.answer);
    } else if (lastAction === "deny" && !el.form.hidden) {
      focus(el.answer);
    } else {
      focus(el.question);
    }
    if (!["collecting", "confirming", "cancelled"].includes(view.state)) startPolling();
    touch();
  }

  function collectingScreen(view, reply) {
    if (!view.form_id || !view.asking) {
      chooseFormScreen(reply);
      return;
    }
    const asking = view.asking;
    el.context.textContent = view.form_title + " · " + s("remaining", view.missing.length || 1);
    el.question.textContent = asking.question;
    el.said.textContent = feedback(reply, asking.question);
    const hintKey = setInput(asking.type, "answer_label");
    const hints = [];
    if (hintKey) hints.push(s(hintKey));
    if (!asking.required) hints.push(s("optional"));
    el.hint.textContent = hints.join(" ");
    const words = (key) => S[key][view.lang] || S[key].ko;
    if (asking.type === "boolean") {
      el.choices.appendChild(button(s("yes"), () => say(words("yes_word")), "secondary"));
      el.choices.appendChild(button(s("no"), () => say(words("no_word")), "secondary"));
    }
    for (const choice of asking.choices || []) {
      el.choices.appendChild(button(choice.label, () => say(choice.label), "secondary"));
    }
    if (asking.type === "count") {
      for (const n of ["1", "2", "3"]) el.choices.appendChild(button(n, () => say(n), "secondary"));
    }
    if (!asking.required) {
      el.choices.appendChild(button(s("skip_field"), () => say(words("skip_word"), "skip"), "secondary"));
    }
  }

  function summaryList(view) {
    const list = node("dl", { class: "summary", "aria-label": s("summary_label") });
    for (const item of view.summary || []) {
      list.appendChild(node("div", {}, [node("dt", { text: item.label }), node("dd", { text: mask(item.value) })]));
    }
    return list;
  }

  function warningsList(view) {
    if (!view.warnings || !view.warnings.length) return null;
    return node("div", { class: "note" }, [
      node("h2", { text: s("warnings_label") }),
      node("ul", {}, view.warnings.map((w) => node("li", { text: mask(w) }))),
    ]);
  }

  function confirmScreen(view, reply) {
    el.context.textContent = view.form_title || "";
    el.question.textContent = s("confirm_title");
    if (lastAction !== "prefer" && reply && !reply.includes((view.summary[0] || {}).label || "\u0000")) {
      el.said.textContent = reply; // "what should I change?" after a no, or a correction noted
    }
    el.content.appendChild(summaryList(view));
    const warnings = warningsList(view);
    if (warnings) el.content.appendChild(warnings);
    const words = (key) => S[key][view.lang] || S[key].ko;
    el.choices.appendChild(button(s("confirm_yes"), () => say(words("yes_word"), "confirm"), "primary"));
    el.choices.appendChild(button(s("confirm_no"), () => say(words("no_word"), "deny"), "secondary"));
    setInput("text", "change_label");
  }

  function endScreen(titleKey, view, reply) {
    el.context.textContent = view.form_title || "";
    el.question.textContent = s(titleKey);
    if (reply) el.content.appendChild(node("p", { class: "reply", text: reply }));
    el.form.hidden = true;
    el.choices.appendChild(button(s("new_person"), () => reset(true), "primary"));
  }

  function doneScreen(view, reply) {
    endScreen("done_title", view, reply);
    el.content.appendChild(summaryList(view));
    showLinks(view);
  }

  function cancelledScreen(view, reply) {
    endScreen("cancelled_title", view, reply);
  }

  // A state this page does not know yet (the steps after a confirmation are added by the
  // issuance): its reply, its summary, and the links it offers, drawn without new code.
  function otherScreen(view, reply) {
    endScreen((S[view.state + "_title"] ? view.state + "_title" : "other_title"), view, reply);
    if (view.asking && view.asking.question) el.content.appendChild(node("p", { class: "reply", text: view.asking.question }));
    if (view.summary && view.summary.length) el.content.appendChild(summaryList(view));
    showLinks(view);
  }

  // Links beyond self and messages: a PNG (a QR code) is fetched with the token and shown as a
  // picture; a same-site path, an https link or a wallet's URI (openid4vp:...) as a link.
  function showLinks(view) {
    const links = Object.entries(view.links || {}).filter(([name]) => name !== "self" && name !== "messages");
    if (!links.length) return;
    const list = node("ul", { class: "links", "aria-label": s("links_label") });
    for (const [name, target] of links) {
      if (typeof target !== "string") continue;
      if (target.startsWith("/") && /\.png(\?|$)/.test(target)) {
        const img = node("img", { class: "qr", alt: s("qr_alt") });
        list.appendChild(node("li", {}, [img]));
        picture(target).then((src) => { if (src) img.src = src; });
      } else if (/^(\/|https:|openid4vp:|openid-credential-offer:)/.test(target)) {
        const href = target.startsWith("/") ? url(target) : target;
        list.appendChild(node("li", {}, [node("a", { href, text: S[name + "_link"] ? s(name + "_link") : name.replace(/[_-]+/g, " ") })]));
      }
    }
    el.content.appendChild(list);
  }

  async function picture(path) {
    try {
      const headers = { Authorization: "Bearer " + token() };
      if (session && session.key) headers["X-Session-Key"] = session.key;
      const response = await fetch(url(path), { headers, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" });
      if (!response.ok) return null;
      const src = URL.createObjectURL(await response.blob());
      blobUrls.push(src);
      return src;
    } catch (e) {
      return null;
    }
  }

  function startPolling() {
    stopPolling();
    pollTimer = setInterval(refresh, CONFIG.pollSeconds * 1000);
  }

  function stopPolling() {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  }

  // ------------------------------------------------------------------ switches, speech

  function setLang(lang) {
    ui.langChosen = true;
    if (session && ["collecting", "confirming"].includes(session.view.state)) {
      prefer({ lang, easy: lang === "ko" ? ui.easy : false });
      return;
    }
    ui.lang = lang;
    if (lang !== "ko") ui.easy = false;
    applyWords();
    if (session) render(session.view); else { clearScreen(); chooseFormScreen(""); focus(el.question); }
  }

  function toggleEasy() {
    const easy = !ui.easy;
    if (session && ["collecting", "confirming"].includes(session.view.state)) {
      prefer({ easy });
      return;
    }
    ui.easy = easy;
    applyWords();
    if (session) { session.view.easy = easy; render(session.view); } else { clearScreen(); chooseFormScreen(""); }
    focus(el.easy);
  }

  function speak() {
    if (!("speechSynthesis" in window)) { showError(s("no_voice")); return; }
    const lang = (session && session.view.lang) || ui.lang;
    const parts = [el.said.textContent, el.error.textContent, el.question.textContent, el.hint.textContent];
    for (const b of el.choices.querySelectorAll("button")) parts.push(b.textContent);
    const utterance = new SpeechSynthesisUtterance(parts.filter(Boolean).join(". "));
    utterance.lang = lang === "en" ? "en-US" : "ko-KR";
    const voice = window.speechSynthesis.getVoices().find((v) => v.lang.replace("_", "-").startsWith(utterance.lang.slice(0, 2)));
    if (voice) utterance.voice = voice;
    utterance.rate = ui.easy ? 0.85 : 1;
    utterance.onerror = (event) => { if (event.error !== "interrupted" && event.error !== "canceled") el.said.textContent = s("no_voice"); };
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(utterance);
  }

  // ------------------------------------------------------------------ starting over, idling

  function reset(announce) {
    if (session && ["collecting", "confirming"].includes(session.view.state)) forget(session);
    session = null;
    lastAction = null;
    busy = false;
    if (el.idle.open) el.idle.close();
    clearTimeout(idleTimer);
    clearInterval(warnTimer);
    ui = { lang: defaultLang(), easy: false, langChosen: false };
    clearScreen();
    applyWords();
    chooseFormScreen("");
    if (announce) el.said.textContent = s("reset_done");
    focus(el.question);
  }

  function touch() {
    if (el.idle.open) return;
    clearTimeout(idleTimer);
    const pristine = !session && !el.answer.value && !ui.langChosen && !ui.easy;
    if (!pristine) idleTimer = setTimeout(warnIdle, CONFIG.idleSeconds * 1000);
  }

  // The count is against the clock, not of ticks: a throttled or sleeping tab still clears.
  function warnIdle() {
    const deadline = Date.now() + CONFIG.warnSeconds * 1000;
    const left = () => Math.ceil((deadline - Date.now()) / 1000);
    el.idleText.textContent = s("idle_text", CONFIG.warnSeconds);
    el.idle.showModal();
    focus($("idle-continue"));
    warnTimer = setInterval(() => {
      if (left() <= 0) { clearInterval(warnTimer); reset(true); return; }
      el.idleText.textContent = s("idle_text", left());
    }, 1000);
  }

  function stillHere() {
    clearInterval(warnTimer);
    if (el.idle.open) el.idle.close();
    touch();
    focus(el.question);
  }

  // ------------------------------------------------------------------ setting up the kiosk

  function showSetup(message) {
    el.setup.hidden = false;
    el.screen.hidden = true;
    el.setupMessage.textContent = message || "";
    focus($("setup-title"));
  }

  function takeFragmentToken() {
    // "#token=..." is never sent to a server (no access log sees it); keep it, then erase it
    // from the address bar and the history entry.
    const match = /^#token=([A-Za-z0-9._~+/=-]+)$/.exec(location.hash);
    if (!match) return;
    sessionStorage.setItem(CONFIG.tokenKey, match[1]);
    history.replaceState(null, "", location.pathname + location.search);
  }

  function start() {
    takeFragmentToken();
    applyWords();
    el.setupForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = el.token.value.trim().replace(/^Bearer\s+/i, "");
      el.token.value = "";
      if (!value) return;
      sessionStorage.setItem(CONFIG.tokenKey, value);
      el.setup.hidden = true;
      el.screen.hidden = false;
      if (session) render(session.view); else reset(false);
    });
    el.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = el.answer.value.trim();
      if (!value) {
        showError(s("error_empty"));
        el.answer.setAttribute("aria-invalid", "true");
        el.answer.setAttribute("aria-describedby", "error hint");
        focus(el.answer);
        return;
      }
      // What was typed leaves the screen as it is sent (a resident registration number is
      // shown again only masked, in the assistant's reply); it comes back if sending fails.
      el.answer.value = "";
      say(value).then((sent) => {
        if (!sent && session && !el.answer.value) el.answer.value = value;
      });
    });
    el.langKo.addEventListener("click", () => setLang("ko"));
    el.langEn.addEventListener("click", () => setLang("en"));
    el.easy.addEventListener("click", toggleEasy);
    el.restart.addEventListener("click", () => reset(true));
    el.speak.addEventListener("click", speak);
    $("idle-continue").addEventListener("click", stillHere);
    $("idle-end").addEventListener("click", () => reset(true));
    el.idle.addEventListener("cancel", (event) => { event.preventDefault(); stillHere(); });
    for (const type of ["keydown", "pointerdown", "input"]) document.addEventListener(type, touch, true);
    chooseFormScreen("");
    if (!token()) showSetup("");
  }

  document.addEventListener("DOMContentLoaded", start);
})();
