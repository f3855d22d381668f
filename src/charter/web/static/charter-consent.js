/*
 * Charter consent banner. One tag in the host page, carrying only the controller's publishable key:
 *
 *   <script src="https://charter.example/static/charter-consent.js" data-key="chp_…"></script>
 *
 * Scripts that need consent are written inert and named by cookie category (or purpose id):
 *
 *   <script type="text/plain" data-charter-purpose="analytics" src="/analytics.js"></script>
 *
 * Nothing non-essential runs and no cookie is set before the person chooses. The choice is recorded in Charter's
 * ledger against an anonymous visitor id kept in a first-party cookie (`charter_consent`) on the host's own
 * domain; the host links it to the account at login. Global Privacy Control refuses marketing before any tag can
 * fire. `Charter.show()` or any element with `data-charter-open` reopens the banner.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.Charter) { return; }
  var KEY = script.getAttribute("data-key") || "";
  var BASE = new URL(script.src, document.baseURI).origin;
  var COOKIE = "charter_consent";
  var GPC_CATEGORIES = ["marketing"];
  var LANGS = [["zh-CN", "简体中文"], ["zh-TW", "繁體中文"], ["en", "English"]];

  var state = {
    config: null, status: {}, gpc: navigator.globalPrivacyControl === true, visitor: readVisitor(),
    lang: pickLanguage(script.getAttribute("data-lang") || document.documentElement.lang || navigator.language),
    root: null, opener: null, listeners: []
  };

  function pickLanguage(value) {
    var v = String(value || "").toLowerCase().replace("_", "-");
    if (/^zh-(tw|hk|mo|hant)/.test(v)) { return "zh-TW"; }
    if (v.indexOf("zh") === 0) { return "zh-CN"; }
    return v.indexOf("en") === 0 ? "en" : "zh-CN";
  }

  // --- the first-party cookie: only the anonymous visitor id, set once a choice is recorded -----------------

  function readVisitor() {
    var found = document.cookie.split("; ").filter(function (c) { return c.indexOf(COOKIE + "=") === 0; })[0];
    var parts = found ? decodeURIComponent(found.slice(COOKIE.length + 1)).split(".") : [];
    return parts[0] === "v1" && /^[0-9a-f]{32}$/.test(parts[1] || "") ? parts[1] : null;
  }

  function writeVisitor(id) {
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = COOKIE + "=" + encodeURIComponent("v1." + id) + "; Path=/; Max-Age=15552000; SameSite=Lax" +
      secure;
  }

  function newVisitor() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // --- Charter's API ------------------------------------------------------------------------------------------

  function api(path, body) {
    return fetch(BASE + "/v1/banner/" + encodeURIComponent(KEY) + path, {
      method: "POST", mode: "cors", credentials: "omit", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error((data.error && data.error.message) || response.statusText); }
        return data;
      });
    });
  }

  function record(choices) {
    if (!state.visitor) { state.visitor = newVisitor(); }
    return api("/choices", {
      visitor_id: state.visitor, choices: choices, language: state.lang, gpc: state.gpc,
      policy_hash: state.config.policy.hash
    }).then(function (data) {
      writeVisitor(state.visitor);
      state.status = data.status;
      activate();
      notify();
      return data;
    });
  }

  // --- what may run -------------------------------------------------------------------------------------------

  function categoryOf(name) {
    if (!state.config) { return null; }
    var cats = state.config.categories;
    for (var i = 0; i < cats.length; i++) {
      if (cats[i].id === name) { return cats[i]; }
      for (var j = 0; j < cats[i].purposes.length; j++) {
        if (cats[i].purposes[j].id === name) { return cats[i]; }
      }
    }
    return null;
  }

  function allows(name) {
    var category = categoryOf(name);
    if (!category) { return false; }
    if (state.gpc && GPC_CATEGORIES.indexOf(category.id) >= 0) { return false; }
    var s = state.status[category.id];
    return s === "always" || s === "granted";
  }

  function activate() {
    var blocked = document.querySelectorAll('script[type="text/plain"][data-charter-purpose]');
    Array.prototype.forEach.call(blocked, function (inert) {
      if (inert.getAttribute("data-charter-activated") || !allows(inert.getAttribute("data-charter-purpose"))) {
        return;
      }
      var live = document.createElement("script");
      Array.prototype.forEach.call(inert.attributes, function (a) {
        if (a.name !== "type" && a.name !== "data-charter-purpose") { live.setAttribute(a.name, a.value); }
      });
      live.type = inert.getAttribute("data-type") || "text/javascript";
      if (!inert.src) { live.text = inert.text; }
      inert.setAttribute("data-charter-activated", "true");
      inert.parentNode.insertBefore(live, inert.nextSibling);
    });
  }

  // --- the dialog ---------------------------------------------------------------------------------------------

  function t(key) { return state.config.texts[key][state.lang]; }
  function tr(text) { return text[state.lang]; }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  var STYLE = ".charter-consent{position:fixed;inset:0;background:rgba(0,0,0,.35);display:flex;align-items:flex-end;" +
    "justify-content:center;z-index:2147483647;font:15px/1.45 system-ui,sans-serif}" +
    ".charter-consent [role=dialog]{background:#fff;color:#1d1d1f;max-width:640px;width:100%;max-height:90vh;" +
    "overflow:auto;padding:20px 24px;border-radius:12px 12px 0 0;box-shadow:0 -4px 24px rgba(0,0,0,.2)}" +
    ".charter-consent h2{font-size:19px;margin:0 0 8px}.charter-consent .cat{border-top:1px solid #ddd;" +
    "padding:10px 0}.charter-consent .cat label{font-weight:600;margin-left:6px}.charter-consent .cat p," +
    ".charter-consent .note{margin:4px 0 0 26px;color:#444;font-size:13px}.charter-consent .note{margin-left:0}" +
    ".charter-consent .buttons{display:flex;gap:8px;flex-wrap:wrap;justify-content:flex-end;margin-top:14px}" +
    // The host's own stylesheet applies too: set every property a button's look depends on (white-on-white
    // labels were seen on a host that styles all buttons).
    ".charter-consent button{font:inherit;padding:8px 14px;border-radius:8px;border:1px solid #1d1d1f;" +
    "background:#fff;color:#1d1d1f;min-width:0;min-height:0;text-transform:none;letter-spacing:normal;" +
    "box-shadow:none;cursor:pointer}.charter-consent button.primary{background:#1d1d1f;color:#fff}" +
    ".charter-consent :focus-visible{outline:3px solid #0a66d8;outline-offset:2px}" +
    ".charter-consent fieldset{border:0;padding:0;margin:12px 0 0}.charter-consent legend{font-weight:600}";

  function build() {
    var cfg = state.config;
    var cats = cfg.categories.map(function (c) {
      var id = "charter-cat-" + c.id;
      var locked = c.required || (state.gpc && GPC_CATEGORIES.indexOf(c.id) >= 0);
      var box = el("input", { type: "checkbox", id: id, "data-category": c.id, "aria-describedby": id + "-desc" });
      box.checked = c.required || (!locked && state.status[c.id] === "granted");
      box.disabled = locked;
      var used = c.purposes.map(function (p) { return tr(p.label); }).join(" · ");
      var extra = c.required ? " (" + t("always_on") + ")" : (locked ? " — " + t("gpc") : "");
      return el("div", { "class": "cat" }, [box, el("label", { "for": id, text: tr(c.label) + extra }),
        el("p", { id: id + "-desc", text: tr(c.description) + " " + t("purposes") + ": " + used })]);
    });
    var langSelect = el("select", { id: "charter-consent-lang", "aria-label": t("language") },
      LANGS.map(function (l) { return el("option", { value: l[0], text: l[1] }); }));
    langSelect.value = state.lang;
    langSelect.addEventListener("change", function () { setLanguage(langSelect.value); });
    var reconsent = Object.keys(state.status).some(function (k) { return state.status[k] === "needs_reconsent"; });
    var dialog = el("div", {
      role: "dialog", "aria-modal": "true", "aria-labelledby": "charter-consent-title",
      "aria-describedby": "charter-consent-intro", lang: state.lang, tabindex: "-1"
    }, [
      el("h2", { id: "charter-consent-title", text: t("title") }),
      el("p", { id: "charter-consent-intro", text: t("intro") }),
      reconsent ? el("p", { "class": "note", role: "status", text: t("reconsent") }) : null,
      state.gpc ? el("p", { "class": "note", text: t("gpc") }) : null,
      el("label", { "for": "charter-consent-lang", text: t("language") + " " }), langSelect,
      el("fieldset", {}, [el("legend", { text: t("categories") })].concat(cats)),
      el("div", { "class": "buttons" }, [
        el("button", { type: "button", "data-action": "reject", text: t("reject_all") }),
        el("button", { type: "button", "data-action": "save", text: t("save") }),
        el("button", { type: "button", "data-action": "accept", "class": "primary", text: t("accept_all") }),
        el("button", { type: "button", "data-action": "close", "aria-label": t("close"), text: "×" })
      ]),
      state.visitor ? el("p", { "class": "note" }, [el("button", { type: "button", "data-action": "receipt",
        text: t("receipt") })]) : null
    ]);
    dialog.addEventListener("click", onClick);
    dialog.addEventListener("keydown", onKey);
    return el("div", { "class": "charter-consent", id: "charter-consent" }, [el("style", { text: STYLE }), dialog]);
  }

  function choicesFrom(mode) {
    var out = {};
    state.config.categories.forEach(function (c) {
      if (c.required) { return; }
      var box = state.root.querySelector('input[data-category="' + c.id + '"]');
      out[c.id] = mode === "accept" ? true : mode === "reject" ? false : box.checked;
    });
    return out;
  }

  function onClick(event) {
    var action = event.target.getAttribute && event.target.getAttribute("data-action");
    if (!action) { return; }
    if (action === "close") { hide(); return; }
    if (action === "receipt") { downloadReceipt(); return; }
    record(choicesFrom(action)).then(hide, function (err) { console.warn("Charter:", err.message); });
  }

  function focusable() {
    return Array.prototype.filter.call(
      state.root.querySelectorAll("button, select, input, a[href], [tabindex]:not([tabindex='-1'])"),
      function (n) { return !n.disabled; });
  }

  function onKey(event) {
    if (event.key === "Escape") { event.preventDefault(); hide(); return; }
    if (event.key !== "Tab") { return; }
    var nodes = focusable();
    var first = nodes[0], last = nodes[nodes.length - 1];
    if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
    else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
  }

  function show() {
    if (!state.config) { return; }
    if (state.root) { state.root.remove(); }
    state.opener = state.opener || document.activeElement;
    state.root = build();
    document.body.appendChild(state.root);
    focusable()[0].focus();
  }

  function hide() {
    if (!state.root) { return; }
    state.root.remove();
    state.root = null;
    if (state.opener && state.opener.focus) { state.opener.focus(); }
    state.opener = null;
  }

  function setLanguage(lang) {
    state.lang = pickLanguage(lang);
    if (state.root) {
      var focusedId = document.activeElement && document.activeElement.id;
      show();
      var again = focusedId && document.getElementById(focusedId);
      if (again) { again.focus(); }
    }
  }

  function downloadReceipt() {
    api("/receipt", { visitor_id: state.visitor }).then(function (data) {
      var blob = new Blob([JSON.stringify(data.receipts, null, 2)], { type: "application/json" });
      var link = el("a", { href: URL.createObjectURL(blob), download: "consent-receipts.json" });
      document.body.appendChild(link);
      link.click();
      link.remove();
    });
  }

  function notify() {
    state.listeners.forEach(function (fn) { try { fn(Object.assign({}, state.status)); } catch (e) { /* host's */ } });
  }

  // --- start --------------------------------------------------------------------------------------------------

  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-charter-open]");
    if (opener) { event.preventDefault(); state.opener = opener; show(); }
  });

  new MutationObserver(function () { if (state.config) { activate(); } })
    .observe(document.documentElement, { childList: true, subtree: true });

  window.Charter = {
    show: show, hide: hide, setLanguage: setLanguage,
    allows: allows,
    status: function () { return Object.assign({}, state.status); },
    onChange: function (fn) { state.listeners.push(fn); },
    ready: null
  };

  window.Charter.ready = api("/session", { visitor_id: state.visitor, gpc: state.gpc }).then(function (data) {
    state.config = data.config;
    state.status = data.status;
    state.gpc = state.gpc || data.gpc;
    var pending = GPC_CATEGORIES.filter(function (c) {
      return state.gpc && state.status[c] && state.status[c] !== "refused" && state.status[c] !== "always";
    });
    var gpcDone = pending.length ? record(pending.reduce(function (o, c) { o[c] = false; return o; }, {}))
      : Promise.resolve(null);
    return gpcDone.then(function (recorded) {
      var prompt = recorded ? recorded.needs_prompt : data.needs_prompt;
      activate();
      notify();
      if (prompt) {
        if (document.body) { show(); } else { document.addEventListener("DOMContentLoaded", show); }
      }
      return state.status;
    });
  }).catch(function (err) { console.warn("Charter:", err.message); });
})();
