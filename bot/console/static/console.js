// The console's script: in a Mini App it proves who asks with Telegram's init data on every
// request (read from telegram-web-app.js, or from the URL fragment when that script cannot
// load), swapping pages in place; in an office browser the session cookie does that and
// links work as links. Images and downloads are fetched the same way, then shown or saved.
(function () {
  "use strict";
  var PREFIX = "/console";
  var HASH = window.location.hash;

  function fromFragment() {
    var raw = HASH.replace(/^#/, "");
    if (!raw) return "";
    var params = new URLSearchParams(raw);
    return params.get("tgWebAppData") || "";
  }

  function initData() {
    var tg = window.Telegram && window.Telegram.WebApp;
    if (tg && tg.initData) return tg.initData;
    return fromFragment();
  }

  function theme() {
    var tg = window.Telegram && window.Telegram.WebApp;
    var params = tg && tg.themeParams && Object.keys(tg.themeParams).length ? tg.themeParams : null;
    if (!params) {
      var raw = new URLSearchParams(HASH.replace(/^#/, "")).get("tgWebAppThemeParams");
      if (raw) { try { params = JSON.parse(raw); } catch (e) { params = null; } }
    }
    if (!params) return;
    var root = document.documentElement.style;
    Object.keys(params).forEach(function (key) {
      var value = String(params[key]);
      if (/^#[0-9a-fA-F]{3,8}$/.test(value)) {
        root.setProperty("--tg-theme-" + key.replace(/_/g, "-"), value);
      }
    });
    document.documentElement.classList.add("tg");
    if (tg && tg.ready) { tg.ready(); tg.expand && tg.expand(); }
  }

  var INIT = "";

  function headers(extra) {
    var h = { "X-Console-Fragment": "1" };
    if (INIT) h["X-Telegram-Init-Data"] = INIT;
    for (var k in extra || {}) h[k] = extra[k];
    return h;
  }

  function content() { return document.getElementById("content"); }

  // A page fetched in place brings the header with it (in the reader's language, saying who
  // is signed in): swapped in, with the page's language, title and the script's messages.
  function frame() {
    var next = document.getElementById("frame-next");
    if (!next) return;
    var header = document.getElementById("frame");
    if (header) header.innerHTML = next.innerHTML;
    document.documentElement.lang = next.getAttribute("data-lang") || document.documentElement.lang;
    document.title = next.getAttribute("data-title") || document.title;
    ["msg-401", "msg-error"].forEach(function (k) {
      var v = next.getAttribute("data-" + k);
      if (v) document.body.setAttribute("data-" + k, v);
    });
    next.remove();
  }

  function show(html, keepScroll) {
    content().innerHTML = html;
    frame();
    loadImages();
    if (!keepScroll) window.scrollTo(0, 0);
    live();
  }

  // The overview is live: while it is shown (and the tab is visible), it is fetched again
  // every little while, in place.
  var TIMER = null;
  function live() {
    if (TIMER) { clearTimeout(TIMER); TIMER = null; }
    var marker = document.querySelector("[data-refresh]");
    if (!marker) return;
    var seconds = Math.max(10, parseInt(marker.getAttribute("data-refresh"), 10) || 30);
    TIMER = setTimeout(function () {
      if (document.hidden) { live(); return; }
      var url = window.location.pathname + window.location.search;
      fetch(url, { headers: headers(), credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (text) { if (text !== null) show(text, true); else live(); })
        .catch(function () { live(); });
    }, seconds * 1000);
  }

  function fail(status) {
    var p = document.createElement("p");
    p.className = "problem";
    var said = document.body.getAttribute(status === 401 ? "data-msg-401" : "data-msg-error") || "";
    p.textContent = said.replace("%(status)s", String(status)) || "Error " + status;
    content().innerHTML = "";
    content().appendChild(p);
  }

  function go(url, options, push) {
    return fetch(url, Object.assign({ credentials: "same-origin" }, options || {}))
      .then(function (r) {
        return r.text().then(function (text) {
          if (r.status === 401) { fail(401); return; }
          show(text);
          if (push) history.pushState({ url: url }, "", url + HASH);
        });
      })
      .catch(function () { fail(0); });
  }

  function loadImages() {
    document.querySelectorAll("img[data-src]").forEach(function (img) {
      var src = img.getAttribute("data-src");
      img.removeAttribute("data-src");
      if (!INIT) { img.src = src; return; }
      fetch(src, { headers: headers() }).then(function (r) { return r.ok ? r.blob() : null; })
        .then(function (blob) { if (blob) img.src = URL.createObjectURL(blob); });
    });
  }

  function download(a) {
    fetch(a.href, { headers: headers(), credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { fail(r.status); return null; }
        var name = "download";
        var cd = r.headers.get("Content-Disposition") || "";
        var m = /filename\*=UTF-8''([^;]+)/.exec(cd);
        if (m) name = decodeURIComponent(m[1]);
        return r.blob().then(function (blob) {
          var link = document.createElement("a");
          link.href = URL.createObjectURL(blob);
          link.download = name;
          document.body.appendChild(link);
          link.click();
          link.remove();
        });
      });
  }

  function inApp(url) {
    try { var u = new URL(url, window.location.href); }
    catch (e) { return false; }
    return u.origin === window.location.origin && u.pathname.indexOf(PREFIX) === 0;
  }

  function wire() {
    document.addEventListener("click", function (event) {
      var a = event.target.closest && event.target.closest("a[href]");
      if (!a || !INIT || !inApp(a.href)) return;
      event.preventDefault();
      if (a.hasAttribute("data-download")) { download(a); return; }
      if (a.hasAttribute("data-reload")) {  // the language switch: remembered, then read anew
        fetch(a.href, { headers: headers(), credentials: "same-origin" })
          .then(function () { window.location.reload(); });
        return;
      }
      var u = new URL(a.href);
      go(u.pathname + u.search, { headers: headers() }, true);
    });
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!INIT || !inApp(form.action)) return;
      event.preventDefault();
      var u = new URL(form.action);
      if ((form.method || "get").toLowerCase() === "get") {
        var query = new URLSearchParams();
        new FormData(form).forEach(function (v, k) { if (v) query.append(k, v); });
        go(u.pathname + "?" + query.toString(), { headers: headers() }, true);
      } else {
        var data = new FormData(form);
        var by = event.submitter;  // the button pressed names the move (one form, many buttons)
        if (by && by.name) data.append(by.name, by.value);
        var body = form.enctype === "multipart/form-data" ? data : new URLSearchParams(data);
        go(u.pathname, { method: "POST", headers: headers(), body: body }, false);
      }
    });
    window.addEventListener("popstate", function () {
      go(window.location.pathname + window.location.search, { headers: headers() }, false);
    });
  }

  function boot() {
    theme();
    INIT = initData();
    wire();
    loadImages();
    live();
    var waiting = document.getElementById("boot");
    if (!waiting) return;  // a page the server rendered whole (a cookie session)
    if (!INIT) {
      document.getElementById("boot-wait").classList.add("hidden");
      document.getElementById("boot-none").classList.remove("hidden");
      return;
    }
    go(window.location.pathname + window.location.search, { headers: headers() }, false);
  }

  // Telegram's script may come late or not at all: the fragment serves when it does not.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
