// The offline outbox of the inspection form: every answer, note and photo is queued in IndexedDB first,
// then sent in order. A lost network, a reload, or a closed tab loses nothing; the server ignores replays
// (each change carries its own key) and refuses stale saves as conflicts (each carries the revision seen).
// Its store and words: device.js; what it shows: outbox-screen.js; the form it serves: answer-form.js.
(function () {
  "use strict";
  var S = window.Sixs, T = S.T, zh = S.zh, ME = S.ME, mine = S.mine, waiting = S.waiting, setAside = S.setAside;
  var all = S.store.all, add = S.store.add, remove = S.store.remove, put = S.store.put;
  var newKey = S.newKey, csrfToken = S.csrfToken;
  var answerForm = S.form, answerOf = answerForm.answerOf, setAnswer = answerForm.setAnswer;
  var downscale = answerForm.downscale, showCounts = answerForm.showCounts, showLevelText = answerForm.showLevelText;
  var screen = S.screen, itemEl = screen.itemEl, showState = screen.showState, updateCounter = screen.updateCounter;
  var refreshCounter = screen.refreshCounter, applyAnswer = screen.applyAnswer, applyPhotos = screen.applyPhotos;
  var askToSignIn = screen.askToSignIn, showSetAside = screen.showSetAside, formText = screen.formText;
  var showOthers = screen.showOthers, errorIn = screen.errorIn, say = screen.say, showFormError = screen.showFormError;
  var showWaiting = screen.showWaiting, showWaitingForms = screen.showWaitingForms, markQueued = screen.markQueued;
  var flushing = false, retryTimer = null, retryDelay = 2000;

  // ---- what the server confirmed ----
  // A page reloaded offline comes from the service worker's copy, which can be older than saves made since.
  // The last confirmed revision and value of each item are kept here, so such a page is brought up to date
  // (else the next change would go out against a stale revision and be refused as a conflict with ourselves).
  var CONFIRMED = "sixs-confirmed:";
  function confirmedFor(page) {
    try { return JSON.parse(localStorage.getItem(CONFIRMED + page)) || {}; } catch (e) { return {}; }
  }
  function remember(change, rev) {
    try {
      var all = confirmedFor(change.page), was = all[change.item] || {};
      all[change.item] = { rev: rev, score: change.score !== "" ? change.score : was.score,
                           note: change.note !== null ? change.note : was.note,
                           flag: change.flag === true || change.flag === false ? change.flag : was.flag };
      localStorage.setItem(CONFIRMED + change.page, JSON.stringify(all));
    } catch (e) { /* private mode or full: the conflict screen still protects the data */ }
  }
  function applyConfirmed() {
    var all = confirmedFor(S.PAGE), stale = false;
    // the answers the page says the server holds (the score so far counts from them): brought up to date too
    var progress = document.getElementById("progress"), count = document.querySelector(".progress-count");
    var held = progress ? JSON.parse(progress.getAttribute("data-answers") || "{}") : {};
    Object.keys(all).forEach(function (key) {
      var seen = all[key], rev = document.querySelector('input[name="rev-' + key + '"]'), item = itemEl(key);
      if (seen.score !== undefined && seen.rev > (held[key] ? held[key][1] : 0)) {  // any category's item
        if (count && !held[key]) {
          count.setAttribute("data-answered", String(parseInt(count.getAttribute("data-answered"), 10) + 1));
        }
        held[key] = [seen.score === "na" ? "na" : parseInt(seen.score, 10), seen.rev, held[key] ? held[key][2] : 0];
      }
      if (!rev || !item) return;
      if (parseInt(rev.value, 10) >= seen.rev) { delete all[key]; stale = true; return; }  // the page is newer
      rev.value = String(seen.rev);
      if (seen.score !== undefined) setAnswer(item, seen.score);
      var note = item.querySelector("textarea");
      if (note && typeof seen.note === "string") note.value = seen.note;
      var flag = item.querySelector("input[type=checkbox][name^='flag-']");
      if (flag && typeof seen.flag === "boolean") flag.checked = seen.flag;
    });
    if (progress) progress.setAttribute("data-answers", JSON.stringify(held));
    if (stale) { try { localStorage.setItem(CONFIRMED + S.PAGE, JSON.stringify(all)); } catch (e) {} }
  }

  // ---- queueing ----
  function currentRevision(key) {
    var rev = document.querySelector('input[name="rev-' + key + '"]');
    return rev ? rev.value : "0";
  }
  function queueAnswer(fieldset, score, note, flag) {
    var item = fieldset.closest(".item"), key = item.getAttribute("data-item-code");
    var change = { kind: "answer", url: fieldset.getAttribute("data-save-url"), item: key,
                   page: S.PAGE, score: score, note: note, flag: flag, rev: currentRevision(key), key: newKey(),
                   fresh: currentRevision(key) === "0" };  // not yet answered on the server
    showState(key, "state-saving", T.saving);
    return keepIfRoom(key, 2048, T.storageFullAnswer, function () { return add(change); })
      .then(refreshCounter).then(flush, function () {});
  }
  // The device's storage running short: said while there is still room (STORAGE_LOW), and a change that does not
  // fit is refused on the spot with a clear message, never dropped unnoticed; everything already queued stays.
  var STORAGE_LOW = 20 * 1024 * 1024, STORAGE_MARGIN = 1024 * 1024;
  function keepIfRoom(key, bytes, fullText, keep) {
    function full() {
      showState(key, "state-error", fullText);
      storageSays(fullText, "storage-full");
      return Promise.reject(new Error("storage full"));
    }
    return S.store.roomLeft().then(function (room) {
      if (room !== null && room < bytes + STORAGE_MARGIN) return full();
      return keep().then(function () {
        if (room !== null && room - bytes < STORAGE_LOW) {
          storageSays(T.storageShort.replace("%m", String(Math.max(0, Math.floor((room - bytes) / 1048576)))),
                      "storage-short");
        }
      }, function (error) {
        if (error && error.name === "QuotaExceededError") return full();
        throw error;
      });
    });
  }
  // everything sent: the space it took is free again, so a storage message no longer holds
  function storageSaysNoMore() {
    var box = document.getElementById("outbox-message"), state = box && box.getAttribute("data-outbox-state");
    if (state !== "storage-short" && state !== "storage-full") return;
    box.hidden = true;
    box.removeAttribute("data-outbox-state");
  }
  function storageSays(text, state) {
    say(text);
    var box = document.getElementById("outbox-message");
    if (box) box.setAttribute("data-outbox-state", state);
  }
  // A counting sheet (扣分制) answers with a number and an N/A box; the others with one radio of a row.

  document.addEventListener("change", function (e) {
    var target = e.target;
    var fieldset = target.closest && target.closest(".item-answer[data-save-url]");
    if (fieldset) {
      var isNa = (target.type === "radio" && target.value === "na") ||
                 (target.type === "checkbox" && target.name.indexOf("na-") === 0 && target.checked);
      if (isNa) {  // N/A is never a finding: the flag goes with it
        var flagBox = fieldset.querySelector("input[type=checkbox][name^='flag-']");
        if (flagBox) flagBox.checked = false;
      }
      if (target.classList && target.classList.contains("count")) {  // a typed count is not N/A
        var naBox = fieldset.querySelector(".na-toggle input[type=checkbox]");
        if (naBox) naBox.checked = false;
      }
      showCounts(fieldset);
      showLevelText(fieldset);
      var a = answerOf(fieldset);
      var isNote = target.tagName === "TEXTAREA" || (target.type === "checkbox" && target.name.indexOf("flag-") === 0);
      if (isNote && !a.score) return;  // they wait for a score
      if (!a.score) return;  // an emptied count or an unticked N/A sends nothing until there is an answer
      queueAnswer(fieldset, a.score, a.note, a.flag);
      return;
    }
    if (target.matches && target.matches("input[type=file][data-upload-url]") && target.files.length) {
      var key = target.closest(".item").getAttribute("data-item-code"), url = target.getAttribute("data-upload-url");
      var files = Array.prototype.slice.call(target.files);
      target.value = "";
      showState(key, "state-saving", T.photo);
      files.reduce(function (p, file) {
        return p.then(function () { return downscale(file, 1600); }).then(function (blob) {
          return keepIfRoom(key, blob.size, T.storageFullPhoto, function () {
            return add({ kind: "photo", url: url, item: key, page: S.PAGE, blob: blob, key: newKey() });
          });
        });
      }, Promise.resolve()).then(refreshCounter).then(flush, flush);
    }
  });

  // "use mine" after a conflict: send my value again, now against the revision just shown
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest('[data-action="keep-mine"]');
    if (!button) return;
    e.preventDefault();
    var item = button.closest(".item"), fieldset = item.querySelector(".item-answer[data-save-url]");
    setAnswer(item, button.value);
    var a = answerOf(fieldset);
    queueAnswer(fieldset, button.value, a.note, a.flag);
  });

  // ---- sending, in order ----
  // the queue is sent from whichever page is open: a change's state is shown on its own page only
  function showStateOf(change, cls, text) { if (change.page === S.PAGE) showState(change.item, cls, text); }
  function send(change) {
    var body = new FormData(), headers = { "X-CSRFToken": csrfToken(), "HX-Request": "true", "X-Change-Key": change.key };
    if (change.user) headers["X-Change-User"] = change.user;
    // milliseconds on this tablet's own clock: the server counts changes that went out late (replays)
    if (change.queuedAt) headers["X-Outbox-Waited"] = String(Math.max(0, Date.now() - change.queuedAt));
    if (change.kind === "form" || change.kind === "start" || change.kind === "submit") {  // a page form
      delete headers["HX-Request"];
      change.fields.forEach(function (f) {
        if (f[1] instanceof Blob) body.append(f[0], f[1], "photo.jpg"); else body.append(f[0], f[1]);
      });
      return post(change.url, body, headers);
    }
    if (change.kind === "markup") {  // a photo's markup layer: fields as given, the photo strip comes back
      change.fields.forEach(function (f) { body.append(f[0], f[1]); });
      return post(change.url, body, headers);
    }
    if (change.kind === "answer") {
      if (change.score !== "") body.append("score-" + change.item, change.score);
      if (change.note !== null) body.append("note-" + change.item, change.note);
      if (change.flag === true || change.flag === false) body.append("flag-" + change.item, change.flag ? "1" : "0");
      // the revision this tablet last saw: from the page when the item is on it (updated by every answer),
      // else the one stored with the change
      var onPage = document.querySelector('input[name="rev-' + change.item + '"]');
      body.append("rev-" + change.item, onPage && change.page === S.PAGE ? onPage.value : change.rev);
    } else {
      body.append("photo-" + change.item, change.blob, "photo.jpg");
    }
    return post(change.url, body, headers);
  }
  // A redirect is never followed: it is the sign-in page (or a portal) answering, not the server taking the change.
  // A send that hangs (a Wi-Fi that takes the request and never answers) must not hold the queue: each send has a
  // time limit (longer for a photo), after which it counts as not sent and is retried; 立即同步 cuts it at once.
  // The change stays queued until the server's own answer acknowledges it, so a cut send loses nothing.
  var SEND_TIMEOUT_MS = 20000, PHOTO_TIMEOUT_MS = 60000, sending = null;
  function post(url, body, headers) {
    var controller = window.AbortController ? new AbortController() : null;
    var limit = body instanceof FormData && hasFile(body) ? PHOTO_TIMEOUT_MS : SEND_TIMEOUT_MS;
    var timer = controller ? setTimeout(function () { controller.abort(); }, limit) : null;
    sending = controller;
    return fetch(url, { method: "POST", body: body, headers: headers, credentials: "same-origin", redirect: "manual",
                        signal: controller ? controller.signal : undefined })
      .finally(function () { clearTimeout(timer); if (sending === controller) sending = null; });
  }
  function hasFile(form) {
    var found = false;
    form.forEach(function (value) { if (value instanceof Blob) found = true; });
    return found;
  }
  // Only the server's own answer to this very change lets it leave the device: the X-Change-Ack header naming its
  // key. A redirect, the sign-in page, 400 (an expired page), 401/403/419 or anything else keeps it queued.
  function acknowledged(change, response) {
    return response.type !== "opaqueredirect" && response.headers.get("X-Change-Ack") === change.key;
  }
  function waitForFlush() {  // the current round ends soon after its send is cut
    return new Promise(function (resolve) {
      (function check() { if (!flushing) resolve(); else setTimeout(check, 50); })();
    });
  }
  function flush() {
    if (flushing) return Promise.resolve();
    flushing = true;
    clearTimeout(retryTimer);
    var sentSome = false;  // a change left the device this round (its space is free again)
    function next() {
      // a device inspection the server has made: what was filled for it goes to its address (device-start.js)
      return all().then(function (everything) {
        return S.starts ? S.starts.readdressAll(everything).then(function () { return everything; }) : everything;
      }).then(function (everything) {
        var changes = everything.filter(waiting);
        showOthers(everything.filter(function (c) { return !mine(c) && !c.setAside; }));
        showSetAside(everything.filter(setAside));
        updateCounter(changes);
        screen.showQueuedPhotos(changes);
        if (!changes.length) { retryDelay = 2000; if (sentSome) storageSaysNoMore(); return; }
        if (!ME) { markQueued(changes); return; }  // the sign-in page sends nothing: nobody to send it as
        var change = changes[0];
        if (S.starts && S.starts.needsStart(change)) return S.starts.strand(change, everything).then(next);
        if (!navigator.onLine) { markQueued(changes); return; }
        showStateOf(change, "state-saving", change.kind === "photo" ? T.photo : T.saving);
        return send(change).then(function (response) {
          if (response.status >= 500) throw new Error("server " + response.status);
          retryDelay = 2000;
          if (!acknowledged(change, response)) {
            showStateOf(change, "state-queued", T.signIn);
            askToSignIn();
            return "stop";
          }
          if (response.headers.get("X-Change-Refused")) return refused(change, response).then(next);
          if (change.kind === "form") return formAnswered(change, response).then(next);
          if (change.kind === "start" && response.status === 201) return S.starts.made(change, response).then(next);
          if (change.kind === "start") return refused(change, response).then(next);
          if (change.kind === "submit" && response.status === 201) return submitted(change, response).then(next);
          if (change.kind === "submit") return refused(change, response).then(next);
          return response.text().then(function (html) {
            if (change.kind === "photo" || change.kind === "markup") {
              if (response.ok && change.page === S.PAGE) applyPhotos(change.item, html);  // waiting ones: next round
              showStateOf(change, response.ok ? "state-saved" : "state-error",
                        response.ok ? (change.kind === "photo" ? (zh ? "照片已保存" : "Photo saved") : (zh ? "标注已保存" : "Markup saved"))
                                    : (zh ? "标注未保存" : "Markup not saved"));
            } else {
              var rev = applyAnswer(change, html);
              // later changes to the same item were made on top of this one: they continue from its revision
              if (response.ok && rev !== null) {
                remember(change, rev);
                // read the queue afresh: changes made while this one was on its way are in it too
                return all().then(function (queued) {
                  return queued.filter(function (c) {
                    return c.item === change.item && c.page === change.page && c.kind === "answer" && c.seq !== change.seq;
                  })
                    .reduce(function (p, c) { c.rev = String(rev); return p.then(function () { return put(c); }); },
                            Promise.resolve());
                });
              }
            }
          }).then(function () { sentSome = true; S.logSent(change); return remove(change.seq); }).then(next);
        }, function () {
          return "offline";
        }).then(function (outcome) {
          if (outcome === "offline") { markQueued(changes); scheduleRetry(); }
        });
      });
    }
    return next().catch(function () { scheduleRetry(); }).then(function () { flushing = false; return refreshCounter(); });
  }
  // A record signed on the tablet (device-review.js), submitted: its page gives way to the record.
  function submitted(change, response) {
    S.logSent(change);
    return remove(change.seq).then(function () {
      if (change.page === S.PAGE) location.assign(response.headers.get("Location"));
    });
  }
  // A queued form the server took is done.
  function formAnswered(change, response) {
    say(formText(change, "sent"));
    S.logSent(change);
    return remove(change.seq);
  }
  // A change the server judged and refused (bad input, an inspection no longer open) cannot be fixed without its
  // author and must not hold the queue: it is set aside on the device, shown with the server's reason and what was
  // typed, until the person has dealt with it. The item shows the server's answer too.
  function refused(change, response) {
    return response.text().then(function (html) {
      var reason = errorIn(html);
      if (change.kind === "start") reason = S.starts.refusedReason(change, response, reason);
      if (change.kind === "answer") applyAnswer(change, html);
      else if (change.kind !== "form") showStateOf(change, "state-error", reason || T.setAsideUnknown);
      if (change.kind === "form") say(formText(change, "refused").replace("%e", reason));
      var item = itemEl(change.item), text = item && item.querySelector(".item-text");
      change.setAside = { reason: reason || T.setAsideUnknown + " (" + response.status + ")", at: Date.now(),
                          label: change.label || (text ? text.textContent.trim() : change.item || "") };
      return put(change);
    });
  }
  // ---- page forms that must survive a dropped network (a red tag with its photo) ----
  // Sent at once when the network is there; otherwise queued whole, photo included, and sent by the outbox.
  // The form's client_key makes a resend harmless: the server returns the tag raised the first time.
  function formFields(form) {
    var entries = [];
    new FormData(form).forEach(function (value, name) { entries.push([name, value]); });
    return entries.reduce(function (p, entry) {
      return p.then(function (out) {
        var value = entry[1];
        if (!(value instanceof File)) { out.push(entry); return out; }
        if (!value.size) return out;
        return downscale(value, 1600).then(function (blob) { out.push([entry[0], blob]); return out; });
      });
    }, Promise.resolve([]));
  }
  function freshKey(form) { if (form.elements.client_key) form.elements.client_key.value = newKey(); }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("form[data-offline-queue]") || !window.fetch || !window.FormData) return;
    e.preventDefault();
    if (form.getAttribute("data-sending") === "yes") return;  // a second tap while the first is on its way
    form.setAttribute("data-sending", "yes");
    var what = form.elements.what ? form.elements.what.value.trim() : "";
    var label = form.getAttribute("data-offline-label") + (what ? (zh ? "「" + what + "」" : " “" + what + "”") : "");
    formFields(form).then(function (fields) {
      var texts = { queued: form.getAttribute("data-offline-queued"), sent: form.getAttribute("data-offline-sent"),
                    refused: form.getAttribute("data-offline-refused") };
      var change = { kind: "form", url: form.action, key: form.elements.client_key.value, page: S.PAGE,
                     fields: fields, label: label, texts: texts };
      function keep() {
        return add(change).then(function () {
          if (form.matches("[data-offline-once]")) showWaiting(form, formText(change, "queued"));
          else { form.reset(); freshKey(form); }
          say(formText(change, "queued"));
          refreshCounter(); scheduleRetry();
        });
      }
      if (!navigator.onLine) return keep();
      return send(change).then(function (response) {
        if (response.status >= 500) return keep();
        if (!acknowledged(change, response)) return keep().then(askToSignIn);
        if (response.status === 201) { location.assign(response.headers.get("Location")); return; }
        return response.text().then(function (html) { showFormError(form, errorIn(html) || String(response.status)); });
      }, keep);
    }).then(function () { form.removeAttribute("data-sending"); }, function () { form.removeAttribute("data-sending"); });
  });
  // a page from the cache carries the key of the form it was: each form shown gets its own
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-offline-queue]"), freshKey);
  });
  // 开始检查: a key per showing of the page, so two taps (or a retry) start one inspection, not two; a page shown
  // again (Back) starts anew
  function startKeys() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-start-once]"), freshKey);
  }
  document.addEventListener("DOMContentLoaded", startKeys);
  window.addEventListener("pageshow", function (e) { if (e.persisted) startKeys(); });
  function scheduleRetry() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  // ---- on load: show what is still queued, then send it ----
  function restore() {
    applyConfirmed();
    return all().then(function (everything) {
      var changes = everything.filter(waiting);
      showOthers(everything.filter(function (c) { return !mine(c) && !c.setAside; }));
      showSetAside(everything.filter(setAside));
      changes.forEach(function (c) {
        if (c.page !== S.PAGE) return;
        var item = itemEl(c.item);
        if (item && c.kind === "answer") {
          if (c.score !== "") setAnswer(item, c.score);
          var note = item.querySelector("textarea");
          if (note && c.note !== null) note.value = c.note;
          var flag = item.querySelector("input[type=checkbox][name^='flag-']");
          if (flag && (c.flag === true || c.flag === false)) flag.checked = c.flag;
        }
      });
      showWaitingForms(changes);
      markQueued(changes);
      updateCounter(changes);
      screen.showQueuedPhotos(changes);
    });
  }

  // ---- logging out or submitting waits for the outbox ----
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("[data-needs-empty-outbox]")) return;
    if (form.getAttribute("data-outbox-checked") === "yes") return;
    e.preventDefault();
    all().then(function (everything) {
      var changes = everything.filter(waiting);
      if (changes.length) {
        var box = document.getElementById("outbox-message");
        if (box) { box.textContent = T.busy.replace("%n", changes.length); box.hidden = false; box.focus(); }
        flush();
        return;
      }
      var done = form.matches("[data-clears-device]") ? clearDevice() : Promise.resolve();
      done.then(function () { form.setAttribute("data-outbox-checked", "yes"); form.requestSubmit ? form.requestSubmit() : form.submit(); });
    });
  });
  function clearDevice() {
    // a shared tablet keeps nothing of the previous user: cached pages go with the logout
    var jobs = [];
    try {
      Object.keys(localStorage).forEach(function (k) { if (k.indexOf(CONFIRMED) === 0) localStorage.removeItem(k); });
    } catch (e) {}
    if (S.signing) jobs.push(S.signing.forget());  // the user's offline signing key (signing-key.js)
    if (window.caches) jobs.push(caches.keys().then(function (keys) { return Promise.all(keys.map(function (k) { return caches.delete(k); })); }));
    return Promise.all(jobs).catch(function () {});
  }

  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest('[data-action="sync-now"]')) {
      retryDelay = 2000;
      if (sending) sending.abort();  // a send left hanging: cut it, then send again from the start of the queue
      Promise.resolve(flushing ? waitForFlush() : null).then(flush);
    }
    if (e.target.closest && e.target.closest('[data-action="print"]')) { window.print(); }
  });
  // what other scripts of the page queue (markup.js: a photo's markup), sent in order with everything else
  S.outbox = { send: send, acknowledged: acknowledged, flush: flush };
  window.sixsOutbox = {
    queue: function (change) {
      change.key = newKey();
      change.page = S.PAGE;
      change.queuedAt = Date.now();
      return add(change).then(refreshCounter).then(flush);
    }
  };
  window.addEventListener("online", function () { retryDelay = 2000; flush(); });
  window.addEventListener("offline", function () { all().then(function (c) { markQueued(c.filter(waiting)); }); });
  document.addEventListener("DOMContentLoaded", function () { restore().then(flush); });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
    // an online visit of the home page refreshes what the device keeps for offline use (sw.js, /offline)
    if (ME && navigator.onLine && location.pathname === "/") {
      navigator.serviceWorker.ready.then(function (registration) {
        if (registration.active) registration.active.postMessage({ type: "refresh-holdings" });
      });
    }
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "holdings-refreshed") {
        document.documentElement.setAttribute("data-holdings-refreshed", String(event.data.ok));
      }
    });
  }
  // Ask the browser to keep what this device stores (queued answers and photos) even when its disk runs short;
  // without it, "best effort" storage may be cleared. Asked once signed in, when there is work to keep.
  if (ME && navigator.storage && navigator.storage.persist) {
    navigator.storage.persisted().then(function (kept) {
      return kept || navigator.storage.persist();
    }).then(function (kept) {
      document.documentElement.setAttribute("data-storage-persisted", String(kept));
    }).catch(function () {});
  }
})();
