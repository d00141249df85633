// What the outbox shows: each item's save state, the badge with what waits, the progress counted with what waits,
// the server's fragments put in place, the sign-in request, changes set aside after a refusal, another user's
// queue on a shared tablet, and the page forms that wait in the queue.
(function () {
  "use strict";
  var S = window.Sixs, T = S.T, zh = S.zh, all = S.store.all, remove = S.store.remove;
  var mine = S.mine, waiting = S.waiting, setAside = S.setAside;

  // ---- what the person sees ----
  function itemEl(key) { return document.querySelector('.item[data-item-code="' + key + '"]'); }
  function showState(key, cls, text) {
    var item = itemEl(key); if (!item) return;
    var state = item.querySelector(".save-state"); if (!state) return;
    var rev = state.querySelector('input[type=hidden]');
    state.textContent = "";
    if (rev) state.appendChild(rev);
    var span = document.createElement("span");
    span.className = cls; span.textContent = text; span.setAttribute("data-state", cls.replace("state-", ""));
    state.appendChild(span);
  }
  function updateCounter(changes) {
    var box = document.getElementById("outbox");
    if (!box) return;
    var n = changes.length;
    box.hidden = n === 0;
    // the page keeps room under the badge (app.css): the last item's buttons scroll clear of it
    document.documentElement.classList.toggle("outbox-shown", n > 0);
    var count = box.querySelector("[data-outbox-count]");
    count.textContent = T.count.replace("%n", n);
    count.setAttribute("data-outbox-count", n);
    showProgress(changes);
  }
  function refreshCounter() {
    return all().then(function (changes) {
      updateCounter(changes.filter(waiting)); showSetAside(changes.filter(setAside)); showQueuedPhotos(changes.filter(waiting));
    });
  }

  // The progress bar counts answers the server has confirmed (data-answered) plus the ones waiting in the
  // outbox for items the server has not seen answered yet, so an offline round still shows how far it got.
  function showProgress(changes) {
    var count = document.querySelector(".progress-count");
    if (!count) return;
    var fresh = {};
    changes.forEach(function (c) {
      if (c.kind === "answer" && c.fresh && c.score !== "" && c.page === S.PAGE) fresh[c.item] = true;
    });
    var pending = Object.keys(fresh).length, total = parseInt(count.getAttribute("data-total"), 10);
    var answered = Math.min(parseInt(count.getAttribute("data-answered"), 10) + pending, total);
    count.setAttribute("data-pending", pending);
    count.textContent = T.progress.replace("%a", answered).replace("%t", total) + (pending ? T.pending.replace("%n", pending) : "");
    var bar = document.querySelector("#progress progress");
    if (bar) bar.value = answered;
    showRunningScore(changes);
  }

  // each category's tab as the server draws it: answered / items, and the category's percent so far
  function showTabCounts(progress, categories, answers, score) {
    categories.forEach(function (category) {
      var tab = progress.querySelector('a.tab[data-category-key="' + category.key + '"]');
      if (!tab) return;
      var done = category.items.filter(function (item) { return Object.prototype.hasOwnProperty.call(answers, item.key); }).length;
      var counted = score && score.categories.filter(function (c) { return c.key === category.key; })[0];
      var percent = counted && counted.percent !== null ? " · " + S.scoring.whole(counted.percent) + "%" : "";
      tab.querySelector(".tab-count").textContent = done + "/" + category.items.length + percent;
      tab.classList.toggle("complete", done === category.items.length);
    });
  }

  // The score so far with what waits in the outbox (scoring.js, by the server's rules): what the server last
  // confirmed (#progress data-answers) with this page's queued answers on top, latest last. With nothing queued
  // the server's own figure stands.
  function showRunningScore(changes) {
    var rules = document.getElementById("device-rules"), progress = document.getElementById("progress");
    if (!rules || !progress || !S.scoring) return;
    var queued = {}, any = false;
    changes.forEach(function (c) {
      if (c.kind !== "answer" || c.score === "" || c.page !== S.PAGE) return;
      queued[c.item] = c.score === "na" ? "na" : parseInt(c.score, 10);
      any = true;
    });
    if (!any) return;
    var sheet = JSON.parse(rules.getAttribute("data-rules")), held = JSON.parse(progress.getAttribute("data-answers") || "{}");
    var answers = {};  // held: {key: [value, revision]}
    Object.keys(held).forEach(function (key) { answers[key] = held[key][0]; });
    Object.keys(queued).forEach(function (key) { answers[key] = queued[key]; });
    var score = S.scoring.running(sheet.categories, answers, sheet.scheme);
    showTabCounts(progress, sheet.categories, answers, score);
    var shown = progress.querySelector(".running-score");
    if (!score || score.overall_percent === null) { if (shown) shown.hidden = true; return; }
    if (!shown) {
      shown = document.createElement("span");
      progress.querySelector(".progress-line").appendChild(shown);
    }
    shown.hidden = false;
    shown.className = "running-score" + (score.failed_critical.length ? " failed" : "");
    shown.setAttribute("data-running", S.scoring.oneDecimal(score.overall_percent));
    shown.setAttribute("data-device", "");  // counted on this tablet, with what waits to be sent
    shown.textContent = T.runningNow + " " + S.scoring.oneDecimal(score.overall_percent) + "% " + (score.grade || "");
    if (score.failed_critical.length) {
      var strong = document.createElement("strong");
      strong.setAttribute("data-critical-failed", score.failed_critical.join(" "));
      strong.textContent = T.criticalFailed;
      shown.appendChild(document.createTextNode(" · "));
      shown.appendChild(strong);
    }
  }

  // the server's answer: the item's state line, plus the progress bar and tabs out of band; put in place only on
  // the change's own page (the queue is sent from whichever page is open). Returns the item's new revision.
  function applyAnswer(change, html) {
    var key = change.item, tpl = document.createElement("template");
    tpl.innerHTML = html;
    var revIn = tpl.content.querySelector('input[name="rev-' + key + '"]');
    var rev = revIn ? parseInt(revIn.value, 10) : null;
    if (change.page !== S.PAGE) return rev;
    var progress = tpl.content.getElementById("progress");
    if (progress) {
      progress.removeAttribute("hx-swap-oob");
      var old = document.getElementById("progress");
      if (old) { old.replaceWith(progress); if (window.htmx) htmx.process(progress); }
    }
    var item = itemEl(key);
    if (item) {
      var state = item.querySelector(".save-state");
      state.innerHTML = "";
      state.appendChild(tpl.content);
      if (window.htmx) htmx.process(state);
    }
    return rev;
  }
  function applyPhotos(key, html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var strip = tpl.content.firstElementChild, old = document.getElementById("photos-" + key);
    if (strip && old) old.replaceWith(strip);
  }


  // Said where it is seen: the message at the top, and the badge that stays in the corner of the form, both with
  // the way to sign in (back to this page afterwards); every waiting item says why it waits.
  function askToSignIn() {
    var href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
    function link(cls) {
      var a = document.createElement("a");
      a.href = href; a.textContent = T.signInLink; a.className = cls;
      a.setAttribute("data-action", "sign-in-again");
      return a;
    }
    var box = document.getElementById("outbox-message");
    if (box) {
      box.textContent = T.signIn + " ";
      box.appendChild(link(""));
      box.hidden = false;
      box.setAttribute("data-outbox-state", "sign-in");
    }
    var badge = document.getElementById("outbox");
    if (badge && !badge.querySelector("[data-action=sign-in-again]")) badge.appendChild(link("btn btn-small btn-primary"));
    if (badge) badge.setAttribute("data-outbox-state", "sign-in");
    all().then(function (changes) {
      changes.filter(waiting).forEach(function (c) { showState(c.item, "state-queued", T.signIn); });
    });
  }

  // what was typed, readable: an invisible control character (the usual reason for a refusal) is shown by its code,
  // and a direction override cannot turn the rest of the line around
  function visible(text) {
    return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, function (c) {
      return "[U+" + (c.charCodeAt(0) + 0x10000).toString(16).slice(1).toUpperCase() + "]";
    });
  }
  function typed(change) {
    if (change.kind === "photo") return T.setAsidePhoto;
    if (change.kind === "markup") return T.setAsideMarkup;
    if (change.kind !== "answer") return "";
    var parts = [];
    if (change.score !== "" && change.score !== undefined && change.score !== null) parts.push(T.setAsideScore.replace("%s", change.score));
    if (typeof change.note === "string" && change.note) parts.push(T.setAsideNote.replace("%s", visible(change.note)));
    return parts.join(zh ? "，" : ", ");
  }
  function showSetAside(changes) {
    var box = document.getElementById("outbox-refused");
    if (!box) {
      if (!changes.length) return;
      box = document.createElement("div");
      box.id = "outbox-refused";
      box.className = "outbox-message outbox-refused";
      box.setAttribute("role", "alert");
      var after = document.getElementById("outbox-others") || document.getElementById("outbox-message");
      if (after) after.insertAdjacentElement("afterend", box); else document.body.prepend(box);
    }
    box.hidden = !changes.length;
    box.textContent = "";
    if (!changes.length) return;
    var title = document.createElement("p");
    title.textContent = T.setAsideTitle;
    box.appendChild(title);
    var list = document.createElement("ul");
    changes.forEach(function (c) {
      var row = document.createElement("li"), what = typed(c);
      row.setAttribute("data-set-aside", c.key);
      var label = document.createElement("strong");
      label.textContent = c.setAside.label;
      row.appendChild(label);
      row.appendChild(document.createTextNode((what ? (zh ? "：" : ": ") + what : "") + " — " + c.setAside.reason + " "));
      var drop = document.createElement("button");
      drop.type = "button"; drop.className = "btn btn-small"; drop.textContent = T.setAsideDismiss;
      drop.setAttribute("data-action", "dismiss-set-aside");
      drop.addEventListener("click", function () { remove(c.seq).then(refreshCounter); });
      row.appendChild(drop);
      list.appendChild(row);
    });
    box.appendChild(list);
  }
  // what to say of a queued form: its own words if it has them (kept with the change, as the form may be gone by
  // the time it is sent), else the red-tag wording
  var FORM_TEXTS = { queued: T.formQueued, sent: T.formSent, refused: T.formRefused };
  function formText(change, which) {
    return ((change.texts || {})[which] || FORM_TEXTS[which]).replace("%s", change.label);
  }
  // Another user's queue on this tablet (their session ended, someone else signed in): kept for them, never sent as
  // the one signed in now, unless they choose to discard it.
  function showOthers(changes) {
    var box = document.getElementById("outbox-others");
    if (!box) return;
    var byUser = {};
    changes.forEach(function (c) { (byUser[c.user] = byUser[c.user] || []).push(c); });
    var users = Object.keys(byUser);
    if (!users.length || box.getAttribute("data-dismissed") === users.join(",")) { box.hidden = true; return; }
    var theirs = byUser[users[0]], name = theirs[0].userName || "#" + users[0];
    box.textContent = "";
    var text = document.createElement("p");
    text.textContent = T.othersQueue.replace(/%u/g, name).replace("%n", theirs.length);
    box.appendChild(text);
    var keep = document.createElement("button"), drop = document.createElement("button");
    keep.type = drop.type = "button";
    keep.className = "btn btn-large"; drop.className = "btn btn-large btn-danger";
    keep.textContent = T.keepForThem.replace("%u", name); keep.setAttribute("data-action", "keep-for-them");
    drop.textContent = T.discardTheirs; drop.setAttribute("data-action", "discard-theirs");
    keep.onclick = function () { box.setAttribute("data-dismissed", users.join(",")); box.hidden = true; };
    drop.onclick = function () {
      if (!window.confirm(T.discardConfirm.replace("%u", name).replace("%n", theirs.length))) return;
      theirs.reduce(function (p, c) { return p.then(function () { return remove(c.seq); }); }, Promise.resolve())
        .then(function () { return all(); }).then(function (left) { showOthers(left.filter(function (c) { return !mine(c); })); });
    };
    box.appendChild(keep); box.appendChild(drop);
    box.setAttribute("data-other-user", users[0]);
    box.setAttribute("data-other-count", theirs.length);
    box.hidden = false;
  }
  function errorIn(html) {
    var doc = new DOMParser().parseFromString(html, "text/html"), error = doc.querySelector("[data-error]");
    return error ? error.textContent.trim() : "";
  }
  function say(text) {
    var box = document.getElementById("outbox-message");
    if (box) { box.textContent = text; box.hidden = false; }
  }
  function showFormError(form, text) {
    var error = form.parentNode.querySelector("[data-error]");
    if (!error) {
      error = document.createElement("p");
      error.className = "error"; error.setAttribute("role", "alert"); error.setAttribute("data-error", "");
      form.parentNode.insertBefore(error, form);
    }
    error.textContent = text;
    error.scrollIntoView({ block: "center" });
  }
  // A form that makes one move (a fix marked done) says, once queued, that it waits, instead of inviting a second
  // tap; its card's other forms go too (they need the network). Also after a reload, from the queue.
  function showWaiting(form, text) {
    var card = form.closest(".card") || form.parentNode;
    Array.prototype.forEach.call(card.querySelectorAll("form"), function (f) { f.hidden = true; });
    var note = card.querySelector("[data-queued-note]");
    if (!note) {
      note = document.createElement("p");
      note.className = "queued-note"; note.setAttribute("data-queued-note", "");
      card.appendChild(note);
    }
    note.textContent = text;
  }
  function showWaitingForms(changes) {
    changes.forEach(function (c) {
      if (c.kind !== "form" || c.page !== S.PAGE) return;
      Array.prototype.forEach.call(document.querySelectorAll("form[data-offline-once]"), function (form) {
        if (form.action === c.url) showWaiting(form, formText(c, "queued"));
      });
    });
  }
  // A photo waiting on the tablet shows as a thumbnail of its own, marked as waiting: the person sees it was taken,
  // and a finding's "photo needed" prompt (app.css: an img in the item's .photos) is met.
  var queuedUrls = {};
  function showQueuedPhotos(changes) {
    var waitingNow = {};
    changes.forEach(function (c) {
      if (c.kind !== "photo" || c.page !== S.PAGE || !c.blob || c.setAside) return;
      waitingNow[c.seq] = true;
      var strip = document.getElementById("photos-" + c.item);
      if (!strip || strip.querySelector('[data-queued-photo="' + c.seq + '"]')) return;
      queuedUrls[c.seq] = queuedUrls[c.seq] || URL.createObjectURL(c.blob);
      var span = document.createElement("span"), img = document.createElement("img"), badge = document.createElement("span");
      span.className = "photo queued"; span.setAttribute("data-queued-photo", String(c.seq));
      img.src = queuedUrls[c.seq]; img.width = 72; img.height = 72; img.alt = T.queuedPhoto;
      badge.className = "queued-badge"; badge.textContent = T.queuedPhotoBadge;
      span.appendChild(img); span.appendChild(badge);
      strip.appendChild(span);
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-queued-photo]"), function (el) {
      var seq = el.getAttribute("data-queued-photo");
      if (waitingNow[seq]) return;
      el.remove();
      if (queuedUrls[seq]) { URL.revokeObjectURL(queuedUrls[seq]); delete queuedUrls[seq]; }
    });
  }
  function markQueued(changes) {
    changes.forEach(function (c) { if (c.page === S.PAGE) showState(c.item, "state-queued", T.queued); });
  }

  S.screen = {
    itemEl: itemEl, showState: showState, updateCounter: updateCounter, refreshCounter: refreshCounter,
    applyAnswer: applyAnswer, applyPhotos: applyPhotos, askToSignIn: askToSignIn, showSetAside: showSetAside,
    formText: formText, showOthers: showOthers, errorIn: errorIn, say: say, showFormError: showFormError,
    showWaiting: showWaiting, showWaitingForms: showWaitingForms, markQueued: markQueued, showQueuedPhotos: showQueuedPhotos
  };
})();
