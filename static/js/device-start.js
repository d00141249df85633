// Starting an inspection where the Wi-Fi does not reach (#37). 开始检查 asks the server first; when it cannot be
// reached, the tablet starts the inspection itself: it queues the start (its key, the checklist version it holds,
// its clock) and opens the blank form it keeps for that version (inspections/device_form_views.py) under the
// start's key. Everything filled there queues as usual, addressed to the placeholder inspection 0; the outbox sends
// the start first and, once the server has made the inspection, sends the rest to it (readdressed here).
(function () {
  "use strict";
  var S = window.Sixs, T = S.T, zh = S.zh, screen = S.screen;
  var STARTED = "sixs-started:";  // start key → the server's inspection ("/inspections/123"), once it was made
  var PLACEHOLDER = "/inspections/0";
  var W = {
    notHeld: zh ? "网络不通，这台平板也还没有保存这个车间的检查表：请在有网络时打开一次首页，之后离线也能开始检查。" :
                  "No network, and this tablet holds no checklist for this workshop yet: open the home page once while online; after that, inspections start offline too.",
    choose: zh ? "网络不通，按本机保存的检查表开始。请选择：" : "No network: starting from the checklists this tablet holds. Choose one:",
    version: zh ? "第 %n 版" : "version %n",
    startLabel: zh ? "开始检查：%w" : "Start of an inspection: %w",
    startNotMade: zh ? "这次检查没能在服务器上开始（%e），所以本项没有上传。" : "This inspection could not be started on the server (%e), so this was not uploaded.",
    workshopGone: zh ? "%w已不在您的检查范围内（或已撤销）" : "%w is no longer among the workshops you may inspect (or was retired)",
    draftLine: zh ? "开始于 %t（本机时间）· 已填 %n 项，待上传" : "started %t (tablet time) · %n changes waiting",
    startLost: zh ? "本机找不到这次检查的开始记录" : "this tablet no longer holds the start of this inspection",
    noKey: zh ? "这是本机保存的空白检查表。请从车间页点“开始新检查”。" : "This is the blank form this tablet keeps. Start from a workshop page with “Start a new inspection”.",
    categoryKept: zh ? "本类已暂存在本机，联网后自动上传。" : "This category is kept on this tablet and uploads when online.",
    categoryNaConfirm: zh ? "本类已评的 %n 项将改为不适用。确定吗？" : "%n items already scored in this category become N/A. Go on?"
  };

  function startedAs(key) { try { return localStorage.getItem(STARTED + key); } catch (e) { return null; } }
  function rememberStart(key, path) { try { localStorage.setItem(STARTED + key, path); } catch (e) {} }

  // ---- the outbox's side: the start goes first, what was filled follows to the inspection it made ----
  function readdress(change, path) {
    change.url = change.url.replace(PLACEHOLDER + "/", path + "/");
    change.page = path;
  }
  // Before each round: queued changes of a device inspection the server has made get its address (and keep it).
  function readdressAll(everything) {
    return everything.reduce(function (p, c) {
      var path = c.device && c.kind !== "start" && c.url.indexOf(PLACEHOLDER + "/") >= 0 && startedAs(c.device);
      if (!path) return p;
      readdress(c, path);
      return p.then(function () { return S.store.put(c); });
    }, Promise.resolve());
  }
  // A change whose start is not made (refused and set aside, or lost) cannot go anywhere: set aside with the reason.
  function strand(change, everything) {
    var start = everything.filter(function (c) { return c.kind === "start" && c.key === change.device; })[0];
    var reason = start && start.setAside ? W.startNotMade.replace("%e", start.setAside.reason)
                                         : W.startNotMade.replace("%e", W.startLost);
    var item = screen.itemEl(change.item), text = item && item.querySelector(".item-text");
    change.setAside = { reason: reason, at: Date.now(), label: change.label || (text ? text.textContent.trim() : change.item || "") };
    return S.store.put(change);
  }
  // The server made the start (201 with the inspection's address): remember it, move the queue to it.
  function made(change, response) {
    var path = new URL(response.headers.get("Location"), location.href).pathname;
    rememberStart(change.key, path);
    S.logSent(change);
    return S.store.all().then(readdressAll).then(function () { return S.store.remove(change.seq); }).then(function () {
      document.dispatchEvent(new CustomEvent("sixs:started", { detail: { key: change.key, path: path } }));
    });
  }
  // why the server refused a start, in the person's words: a workshop out of their scope looks like one that does not
  // exist (the server never tells which), so the tablet names the workshop it started at
  function refusedReason(change, response, reason) {
    return response.status === 404 ? W.workshopGone.replace("%w", change.workshop || "") : reason;
  }
  function needsStart(change) { return !!change.device && change.kind !== "start" && !startedAs(change.device); }
  S.starts = { held: held, startedAs: startedAs, readdressAll: readdressAll, strand: strand, made: made, needsStart: needsStart, refusedReason: refusedReason };

  // ---- 开始检查 on the home page, a workshop page or its QR label's page ----
  function held() {
    // the device's copy of what it holds (sw.js answers it; the server answers 404)
    return fetch("/offline/holdings.json?held=1", { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; });
  }
  function workshopOf(action) {
    var m = /\/workshops\/([^/]+)\/inspections$/.exec(new URL(action, location.href).pathname);
    return m ? decodeURIComponent(m[1]) : null;
  }
  function startOffline(form, key, signedOut) {
    var code = workshopOf(form.action), chosen = form.elements.checklist ? form.elements.checklist.value : "";
    return held().then(function (holdings) {
      var workshop = holdings && String(holdings.user) === String(S.ME) &&
        holdings.workshops.filter(function (w) { return w.code === code; })[0];
      var offered = workshop ? workshop.checklists.filter(function (c) { return !chosen || c.key === chosen; }) : [];
      if (!offered.length) { screen.showFormError(form, W.notHeld); return; }
      if (offered.length > 1) { choose(form, offered); return; }
      var checklist = offered[0], blank = checklist.form + "?device=" + encodeURIComponent(key);
      var change = { kind: "start", url: form.action, key: key, page: S.PAGE, label: W.startLabel.replace("%w", workshop.name),
                     workshop: workshop.name,
                     fields: [["client_key", key], ["checklist", checklist.key], ["version", String(checklist.version)],
                              ["device_started_at", new Date().toISOString()]], form: blank };
      return S.store.add(change).then(function () {
        if (signedOut) return;  // the sign-in page first (askToSignIn); the start waits in the queue
        location.assign(blank);
      });
    });
  }
  function choose(form, offered) {
    var box = form.querySelector("[data-offline-choice]");
    if (!box) {
      box = document.createElement("div");
      box.className = "offline-choice"; box.setAttribute("data-offline-choice", "");
      form.appendChild(box);
    }
    box.textContent = "";
    var p = document.createElement("p");
    p.textContent = W.choose;
    box.appendChild(p);
    offered.forEach(function (c) {
      var button = document.createElement("button");
      button.type = "button"; button.className = "btn btn-large"; button.setAttribute("data-choose-checklist", c.key);
      button.textContent = c.name + " · " + W.version.replace("%n", c.version);
      box.appendChild(button);
    });
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-choose-checklist]");
    if (!button) return;
    var form = button.closest("form");
    var input = form.elements.checklist;
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden"; input.name = "checklist";
      form.appendChild(input);
    }
    input.value = button.getAttribute("data-choose-checklist");
    startOffline(form, form.elements.client_key.value, false);
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-start-once]") || !window.fetch || !S.outbox) return;
    e.preventDefault();
    if (form.getAttribute("data-sending") === "yes") return;  // a second tap while the first is on its way
    form.setAttribute("data-sending", "yes");
    if (!form.elements.client_key.value) form.elements.client_key.value = S.newKey();
    var key = form.elements.client_key.value, chosen = form.elements.checklist ? form.elements.checklist.value : "";
    // online, the server chooses the version (the newest published); its key makes a retry the same start
    var change = { kind: "start", url: form.action, key: key, fields: [["client_key", key]].concat(chosen ? [["checklist", chosen]] : []) };
    var attempt = navigator.onLine ? S.outbox.send(change) : Promise.reject(new Error("offline"));
    attempt.then(function (response) {
      if (response.status >= 500) return startOffline(form, key, false);
      if (!S.outbox.acknowledged(change, response)) {  // signed out meanwhile: keep the start, ask to sign in
        return startOffline(form, key, true).then(screen.askToSignIn);
      }
      if (response.status === 201) { location.assign(response.headers.get("Location")); return; }
      if (response.ok) { form.submit(); return; }  // several checklists on offer: the server's page asks which
      return response.text().then(function (html) { screen.showFormError(form, screen.errorIn(html) || String(response.status)); });
    }, function () {
      return startOffline(form, key, false);
    }).then(function () { form.removeAttribute("data-sending"); }, function () { form.removeAttribute("data-sending"); });
  });

  // ---- home: inspections started here that the server has not made yet (or refused), to go back to ----
  function listDeviceDrafts() {
    var box = document.querySelector("[data-device-drafts]");
    if (!box) return;
    S.store.all().then(function (changes) {
      var starts = changes.filter(function (c) { return c.kind === "start" && c.form && S.mine(c); });
      var list = box.querySelector("ul"), row = document.getElementById("device-draft-row");
      list.textContent = "";
      starts.forEach(function (start) {
        var li = row.content.firstElementChild.cloneNode(true), a = li.querySelector("a");
        var filled = changes.filter(function (c) { return c.device === start.key; }).length;
        a.href = start.form;
        a.setAttribute("data-device-draft", start.key);
        a.querySelector("strong").textContent = start.workshop || start.label;
        a.querySelector(".muted").textContent = W.draftLine.replace("%t", new Date(start.queuedAt).toLocaleString(
          document.documentElement.lang || undefined)).replace("%n", filled) + (start.setAside ? " · " + start.setAside.reason : "");
        list.appendChild(li);
      });
      box.hidden = !starts.length;
    });
  }
  document.addEventListener("DOMContentLoaded", listDeviceDrafts);

  // ---- the blank form: one category at a time, as the server's form shows them ----
  var head = document.querySelector("[data-device-form]");
  if (!head) return;
  function panels() { return Array.prototype.slice.call(document.querySelectorAll("[data-category-panel]")); }
  function show(key) {
    var found = panels().filter(function (p) { return p.getAttribute("data-category-panel") === key; })[0];
    if (!found) return;
    panels().forEach(function (p) { p.hidden = p !== found; });
    Array.prototype.forEach.call(document.querySelectorAll("a.tab[data-category-key]"), function (tab) {
      if (tab.getAttribute("data-category-key") === key) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
    });
    window.scrollTo(0, 0);
  }
  function shownKey() {
    var shown = panels().filter(function (p) { return !p.hidden; })[0];
    return shown ? shown.getAttribute("data-category-panel") : null;
  }
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest('a[href^="#category-"]');
    if (link) { e.preventDefault(); show(link.getAttribute("href").slice("#category-".length)); return; }
    var na = e.target.closest && e.target.closest('[data-action="category-na"]');
    if (na) { e.preventDefault(); categoryNotApplicable(na.closest("[data-category-panel]")); }
  });
  // 保存，下一类: every answer is queued as it is given, so the button only moves on
  document.addEventListener("submit", function (e) {
    var panel = e.target;
    if (!panel.matches("[data-category-panel]")) return;
    e.preventDefault();
    var next = e.submitter && e.submitter.getAttribute("data-next-category");
    if (next) show(next); else screen.say(W.categoryKept);
  });
  // 本类全部不适用: each item of the category answered N/A, queued like any answer
  function categoryNotApplicable(panel) {
    var items = Array.prototype.slice.call(panel.querySelectorAll(".item-answer[data-save-url]"));
    var scored = items.filter(function (f) { return S.form.answerOf(f).score && S.form.answerOf(f).score !== "na"; });
    if (scored.length && !window.confirm(W.categoryNaConfirm.replace("%n", scored.length))) return;
    items.forEach(function (fieldset) {
      var radio = fieldset.querySelector('input[type=radio][value="na"]');
      var box = fieldset.querySelector(".na-toggle input[type=checkbox]");
      var target = radio || box;
      if (!target || target.checked) return;
      target.checked = true;
      target.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }
  // the server has made this inspection: on to its own page (what still waits is sent from there)
  document.addEventListener("sixs:started", function (e) {
    if (e.detail.key !== S.DEVICE_KEY) return;
    var category = shownKey();
    location.replace(e.detail.path + (category ? "?category=" + encodeURIComponent(category) : ""));
  });
  // one kept copy of a version's blank form serves every workshop: this page's workshop is the one in its address
  function ownWorkshop() {
    var m = /^\/workshops\/([^/]+)\//.exec(location.pathname), code = m ? decodeURIComponent(m[1]) : null;
    if (!code || head.getAttribute("data-workshop") === code) return;
    head.setAttribute("data-workshop", code);
    var title = head.querySelector("h1");
    held().then(function (holdings) {
      var workshop = holdings && holdings.workshops.filter(function (w) { return w.code === code; })[0];
      title.firstChild.textContent = (workshop ? workshop.name : code) + " ";
      document.title = document.title.replace(/^[^·]*·/, (workshop ? workshop.name : code) + " ·");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    ownWorkshop();
    if (!S.DEVICE_KEY) {
      screen.say(W.noKey);
      Array.prototype.forEach.call(document.querySelectorAll("[data-category-panel] input, [data-category-panel] textarea, [data-category-panel] button"),
                                   function (el) { el.disabled = true; });
      return;
    }
    var path = startedAs(S.DEVICE_KEY);
    if (path && navigator.onLine) { location.replace(path); return; }
    var wanted = /^#category-(.+)$/.exec(location.hash);
    if (wanted) show(wanted[1]);
  });
})();
