// The offline outbox of the inspection form: every answer, note and photo is queued in IndexedDB first,
// then sent in order. A lost network, a reload, or a closed tab loses nothing; the server ignores replays
// (each change carries its own key) and refuses stale saves as conflicts (each carries the revision seen).
(function () {
  "use strict";
  var zh = document.documentElement.lang !== "en";
  var T = {
    saving: zh ? "保存中…" : "Saving…",
    queued: zh ? "已暂存，联网后自动上传" : "Queued: uploads when online",
    failed: zh ? "未保存：请点“立即同步”" : "Not saved: tap “Sync now”",
    count: zh ? "待同步 %n 项" : "%n to sync",
    busy: zh ? "还有 %n 项没有上传，请联网并等待同步完成后再操作。" : "%n changes are not uploaded yet; go online and wait for them.",
    photo: zh ? "照片上传中…" : "Uploading photo…",
    progress: zh ? "已评 %a / %t" : "%a / %t scored",
    pending: zh ? "（%n 项待同步）" : " (%n to sync)",
    deducted: zh ? "扣 %p 分" : "−%p points",
    noProblem: zh ? "无问题" : "No problem",
    formQueued: zh ? "网络不通：%s 已暂存在本机，联网后自动登记。可以继续挂下一个。" : "No network: %s is kept on this tablet and sent when online. You can go on with the next one.",
    formSent: zh ? "暂存的 %s 已登记。" : "The queued %s has been registered.",
    formRefused: zh ? "暂存的 %s 未能登记：%e 请重新填写。" : "The queued %s was refused: %e Please fill it in again.",
    signIn: zh ? "请重新登录，暂存的内容会在登录后上传。" : "Please sign in again: the queued changes upload once you have.",
    signInLink: zh ? "重新登录" : "Sign in",
    othersQueue: zh ? "本机还有 %u 暂存的 %n 项内容，只会在 %u 登录后以其本人身份上传。" :
                      "This tablet keeps %n queued changes of %u; they upload only when %u signs in.",
    keepForThem: zh ? "保留给 %u" : "Keep them for %u",
    discardTheirs: zh ? "删除这些内容" : "Discard them",
    discardConfirm: zh ? "删除后 %u 暂存的 %n 项内容将无法找回。确定删除吗？" : "%n queued changes of %u will be lost for good. Discard them?",
    setAsideTitle: zh ? "服务器没有接受以下内容，已留在本机供您核对后重新填写：" : "The server did not accept these changes; they are kept on this tablet for you to check and enter again:",
    setAsideDismiss: zh ? "已处理，删除" : "Done, remove",
    setAsidePhoto: zh ? "照片" : "photo",
    setAsideMarkup: zh ? "照片标注" : "photo markup",
    setAsideScore: zh ? "评分 %s" : "score %s",
    setAsideNote: zh ? "备注“%s”" : "note “%s”",
    setAsideUnknown: zh ? "服务器拒收" : "refused by the server"
  };
  // Who is signed in on this page (none on the login page): a change is sent only by the user who made it.
  var ME = document.body ? document.body.getAttribute("data-user") : null;
  var MY_NAME = document.body ? document.body.getAttribute("data-user-name") : "";
  function mine(change) { return !change.user || change.user === ME; }
  // what still goes to the server: the user's own changes, but those the server judged and refused (set aside)
  function waiting(change) { return mine(change) && !change.setAside; }
  function setAside(change) { return mine(change) && !!change.setAside; }
  var DB_NAME = "sixs-outbox", STORE = "changes";
  var memory = [], memorySeq = 0, flushing = false, retryTimer = null, retryDelay = 2000;

  // ---- storage: IndexedDB, or memory where it is unavailable ----
  var dbPromise = new Promise(function (resolve) {
    if (!window.indexedDB) return resolve(null);
    var open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = function () { open.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true }); };
    open.onsuccess = function () { resolve(open.result); };
    open.onerror = function () { resolve(null); };
  });
  function tx(mode, fn) {
    return dbPromise.then(function (db) {
      if (!db) return fn(null);
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), store = t.objectStore(STORE), out;
        Promise.resolve(fn(store)).then(function (r) { out = r; });
        t.oncomplete = function () { resolve(out); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function all() {
    return tx("readonly", function (store) {
      if (!store) return memory.slice();
      return new Promise(function (resolve) {
        var req = store.getAll();
        req.onsuccess = function () { resolve(req.result); };
      });
    });
  }
  function add(change) {
    change.queuedAt = change.queuedAt || Date.now();  // for X-Outbox-Waited: how long it waited here
    change.user = change.user || ME;  // whose change it is: never sent as anyone else
    change.userName = change.userName || MY_NAME;
    return tx("readwrite", function (store) {
      if (!store) { change.seq = ++memorySeq; memory.push(change); return; }
      store.add(change);
    });
  }
  function remove(seq) {
    return tx("readwrite", function (store) {
      if (!store) { memory = memory.filter(function (c) { return c.seq !== seq; }); return; }
      store.delete(seq);
    });
  }
  function put(change) {
    return tx("readwrite", function (store) { if (store) store.put(change); });
  }
  window.sixsOutbox = { all: all };

  function newKey() {
    // randomUUID needs a secure context; a plant's server on plain http over the LAN has only getRandomValues
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

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
    return all().then(function (changes) { updateCounter(changes.filter(waiting)); showSetAside(changes.filter(setAside)); });
  }

  // The progress bar counts answers the server has confirmed (data-answered) plus the ones waiting in the
  // outbox for items the server has not seen answered yet, so an offline round still shows how far it got.
  function showProgress(changes) {
    var count = document.querySelector(".progress-count");
    if (!count) return;
    var fresh = {};
    changes.forEach(function (c) {
      if (c.kind === "answer" && c.fresh && c.score !== "" && c.page === location.pathname) fresh[c.item] = true;
    });
    var pending = Object.keys(fresh).length, total = parseInt(count.getAttribute("data-total"), 10);
    var answered = Math.min(parseInt(count.getAttribute("data-answered"), 10) + pending, total);
    count.setAttribute("data-pending", pending);
    count.textContent = T.progress.replace("%a", answered).replace("%t", total) + (pending ? T.pending.replace("%n", pending) : "");
    var bar = document.querySelector("#progress progress");
    if (bar) bar.value = answered;
  }

  // the server's answer: the item's state line, plus the progress bar and tabs out of band
  function applyAnswer(key, html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
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
    var rev = item && item.querySelector('input[name="rev-' + key + '"]');
    return rev ? parseInt(rev.value, 10) : null;
  }
  function applyPhotos(key, html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var strip = tpl.content.firstElementChild, old = document.getElementById("photos-" + key);
    if (strip && old) old.replaceWith(strip);
  }

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
    var all = confirmedFor(location.pathname), stale = false;
    Object.keys(all).forEach(function (key) {
      var seen = all[key], rev = document.querySelector('input[name="rev-' + key + '"]'), item = itemEl(key);
      if (!rev || !item) return;
      if (parseInt(rev.value, 10) >= seen.rev) { delete all[key]; stale = true; return; }  // the page is newer
      rev.value = String(seen.rev);
      if (seen.score !== undefined) setAnswer(item, seen.score);
      var note = item.querySelector("textarea");
      if (note && typeof seen.note === "string") note.value = seen.note;
      var flag = item.querySelector("input[type=checkbox][name^='flag-']");
      if (flag && typeof seen.flag === "boolean") flag.checked = seen.flag;
    });
    if (stale) { try { localStorage.setItem(CONFIRMED + location.pathname, JSON.stringify(all)); } catch (e) {} }
  }

  // ---- queueing ----
  function currentRevision(key) {
    var rev = document.querySelector('input[name="rev-' + key + '"]');
    return rev ? rev.value : "0";
  }
  function queueAnswer(fieldset, score, note, flag) {
    var item = fieldset.closest(".item"), key = item.getAttribute("data-item-code");
    var change = { kind: "answer", url: fieldset.getAttribute("data-save-url"), item: key,
                   page: location.pathname, score: score, note: note, flag: flag, rev: currentRevision(key), key: newKey(),
                   fresh: currentRevision(key) === "0" };  // not yet answered on the server
    showState(key, "state-saving", T.saving);
    return add(change).then(refreshCounter).then(flush);
  }
  // A counting sheet (扣分制) answers with a number and an N/A box; the others with one radio of a row.
  function answerOf(fieldset) {
    var note = fieldset.querySelector("textarea"), flag = fieldset.querySelector("input[type=checkbox][name^='flag-']");
    var score = "", count = fieldset.querySelector("input.count");
    if (count) {
      var na = fieldset.querySelector(".na-toggle input[type=checkbox]");
      score = na && na.checked ? "na" : (/^[0-9]+$/.test(count.value.trim()) ? String(parseInt(count.value, 10)) : "");
    } else {
      var checked = fieldset.querySelector("input[type=radio]:checked");
      score = checked ? checked.value : "";
    }
    return { score: score, note: note ? note.value : null, flag: flag ? flag.checked : null };
  }
  function setAnswer(item, score) {
    var count = item.querySelector("input.count");
    if (count) {
      var na = item.querySelector(".na-toggle input[type=checkbox]");
      if (na) na.checked = score === "na";
      if (score !== "na") count.value = score;
    } else {
      var radio = item.querySelector('input[type=radio][value="' + score + '"]');
      if (radio) radio.checked = true;
    }
    showCounts(item);
    showLevelText(item);
  }

  // ---- what an answer means, shown as it is given ----
  function points(value) { return String(Math.round(value * 100) / 100); }
  function showCounts(el) {
    var panel = el.closest ? el.closest(".category-panel") : null;
    if (!panel) return;
    var total = panel.querySelector("[data-category-total]"), taken = 0;
    panel.querySelectorAll(".count-answer").forEach(function (box) {
      var count = box.querySelector("input.count"), na = box.querySelector(".na-toggle input[type=checkbox]");
      var shown = box.querySelector("[data-deducted]"), deduct = parseFloat(box.getAttribute("data-deduct")) || 0;
      var n = /^[0-9]+$/.test(count.value.trim()) ? parseInt(count.value, 10) : null;
      box.classList.toggle("is-na", !!(na && na.checked));
      if (na && na.checked) { shown.textContent = ""; return; }
      if (n === null) { shown.textContent = ""; return; }
      taken += n * deduct;
      shown.textContent = n ? T.deducted.replace("%p", points(n * deduct)) : T.noProblem;
      box.classList.toggle("has-count", n > 0);
    });
    if (total) {
      var full = parseFloat(total.getAttribute("data-full-marks")) || 0;
      total.textContent = points(Math.max(0, full - taken)) + " / " + points(full);
    }
  }
  function showLevelText(item) {
    var shown = item.querySelector("[data-chosen-level]");
    if (!shown) return;
    var checked = item.querySelector(".scores input[type=radio]:checked");
    var label = checked && checked.closest("label[data-level-text]");
    if (!label || !label.getAttribute("data-level-text")) { shown.hidden = true; return; }
    shown.hidden = false;
    shown.innerHTML = "";
    var strong = document.createElement("strong");
    strong.textContent = label.textContent.trim();
    shown.appendChild(strong);
    shown.appendChild(document.createTextNode(" " + label.getAttribute("data-level-text")));
  }
  document.addEventListener("input", function (e) {
    if (e.target.matches && e.target.matches("input.count")) showCounts(e.target);
  });
  // − and +: one tap, one occurrence; the change goes out like a typed one
  document.addEventListener("click", function (e) {
    var step = e.target.closest && e.target.closest(".stepper .step");
    if (!step || step.disabled) return;
    var count = step.parentNode.querySelector("input.count");
    var n = /^[0-9]+$/.test(count.value.trim()) ? parseInt(count.value, 10) : 0;
    var max = parseInt(count.getAttribute("max"), 10);
    n = Math.max(0, n + parseInt(step.getAttribute("data-step"), 10));
    if (!isNaN(max)) n = Math.min(max, n);
    count.value = String(n);
    var na = step.closest(".count-answer").querySelector(".na-toggle input[type=checkbox]");
    if (na) na.checked = false;
    count.dispatchEvent(new Event("input", { bubbles: true }));
    count.dispatchEvent(new Event("change", { bubbles: true }));
  });

  function downscale(file, longSide) {
    // Photos from tablet cameras are 4000 px and more: send at most 1600 px, as JPEG.
    if (!window.createImageBitmap) return Promise.resolve(file);
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, longSide / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale); canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) { canvas.toBlob(function (b) { resolve(b || file); }, "image/jpeg", 0.85); });
    }).catch(function () { return file; });
  }

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
          return add({ kind: "photo", url: url, item: key, page: location.pathname, blob: blob, key: newKey() });
        });
      }, Promise.resolve()).then(flush);
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
  function send(change) {
    var body = new FormData(), headers = { "X-CSRFToken": csrfToken(), "HX-Request": "true", "X-Change-Key": change.key };
    if (change.user) headers["X-Change-User"] = change.user;
    // milliseconds on this tablet's own clock: the server counts changes that went out late (replays)
    if (change.queuedAt) headers["X-Outbox-Waited"] = String(Math.max(0, Date.now() - change.queuedAt));
    if (change.kind === "form") {  // a whole page form: the server answers with a redirect, not a fragment
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
      body.append("rev-" + change.item, onPage && change.page === location.pathname ? onPage.value : change.rev);
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

  function waitForFlush() {  // the current round ends soon after its send is cut
    return new Promise(function (resolve) {
      (function check() { if (!flushing) resolve(); else setTimeout(check, 50); })();
    });
  }
  function flush() {
    if (flushing) return Promise.resolve();
    flushing = true;
    clearTimeout(retryTimer);
    function next() {
      return all().then(function (everything) {
        var changes = everything.filter(waiting);
        showOthers(everything.filter(function (c) { return !mine(c) && !c.setAside; }));
        showSetAside(everything.filter(setAside));
        updateCounter(changes);
        if (!changes.length) { retryDelay = 2000; return; }
        if (!ME) { markQueued(changes); return; }  // the sign-in page sends nothing: nobody to send it as
        var change = changes[0];
        if (!navigator.onLine) { markQueued(changes); return; }
        showState(change.item, "state-saving", change.kind === "photo" ? T.photo : T.saving);
        return send(change).then(function (response) {
          if (response.status >= 500) throw new Error("server " + response.status);
          retryDelay = 2000;
          if (!acknowledged(change, response)) {
            showState(change.item, "state-queued", T.signIn);
            askToSignIn();
            return "stop";
          }
          if (response.headers.get("X-Change-Refused")) return refused(change, response).then(next);
          if (change.kind === "form") return formAnswered(change, response).then(next);
          return response.text().then(function (html) {
            if (change.kind === "photo" || change.kind === "markup") {
              if (response.ok) applyPhotos(change.item, html);
              showState(change.item, response.ok ? "state-saved" : "state-error",
                        response.ok ? (change.kind === "photo" ? (zh ? "照片已保存" : "Photo saved") : (zh ? "标注已保存" : "Markup saved"))
                                    : (zh ? "标注未保存" : "Markup not saved"));
            } else {
              var rev = applyAnswer(change.item, html);
              // later changes to the same item were made on top of this one: they continue from its revision
              if (response.ok && rev !== null) {
                remember(change, rev);
                // read the queue afresh: changes made while this one was on its way are in it too
                return all().then(function (queued) {
                  return queued.filter(function (c) { return c.item === change.item && c.kind === "answer" && c.seq !== change.seq; })
                    .reduce(function (p, c) { c.rev = String(rev); return p.then(function () { return put(c); }); },
                            Promise.resolve());
                });
              }
            }
          }).then(function () { return remove(change.seq); }).then(next);
        }, function () {
          return "offline";
        }).then(function (outcome) {
          if (outcome === "offline") { markQueued(changes); scheduleRetry(); }
        });
      });
    }
    return next().catch(function () { scheduleRetry(); }).then(function () { flushing = false; return refreshCounter(); });
  }
  // A queued form the server took is done.
  function formAnswered(change, response) {
    say(formText(change, "sent"));
    return remove(change.seq);
  }
  // A change the server judged and refused (bad input, an inspection no longer open) cannot be fixed without its
  // author and must not hold the queue: it is set aside on the device, shown with the server's reason and what was
  // typed, until the person has dealt with it. The item shows the server's answer too.
  function refused(change, response) {
    return response.text().then(function (html) {
      var reason = errorIn(html);
      if (change.kind === "answer") applyAnswer(change.item, html);
      else if (change.kind !== "form") showState(change.item, "state-error", reason || T.setAsideUnknown);
      if (change.kind === "form") say(formText(change, "refused").replace("%e", reason));
      var item = itemEl(change.item), text = item && item.querySelector(".item-text");
      change.setAside = { reason: reason || T.setAsideUnknown + " (" + response.status + ")", at: Date.now(),
                          label: change.label || (text ? text.textContent.trim() : change.item || "") };
      return put(change);
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
      var change = { kind: "form", url: form.action, key: form.elements.client_key.value, page: location.pathname,
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
      if (c.kind !== "form" || c.page !== location.pathname) return;
      Array.prototype.forEach.call(document.querySelectorAll("form[data-offline-once]"), function (form) {
        if (form.action === c.url) showWaiting(form, formText(c, "queued"));
      });
    });
  }
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

  function markQueued(changes) {
    changes.forEach(function (c) { showState(c.item, "state-queued", T.queued); });
  }
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
        if (c.page !== location.pathname) return;
        var item = itemEl(c.item);
        if (item && c.kind === "answer") {
          var radio = item.querySelector('input[type=radio][value="' + c.score + '"]');
          if (radio) radio.checked = true;
          var note = item.querySelector("textarea");
          if (note && c.note !== null) note.value = c.note;
          var flag = item.querySelector("input[type=checkbox][name^='flag-']");
          if (flag && (c.flag === true || c.flag === false)) flag.checked = c.flag;
        }
      });
      showWaitingForms(changes);
      markQueued(changes);
      updateCounter(changes);
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
  // A row of category tabs wider than the phone says that it scrolls: it fades out on the side where more tabs
  // are, and the current tab is scrolled into the row.
  function hintTabs() {
    Array.prototype.forEach.call(document.querySelectorAll(".tabs"), function (row) {
      if (row.getAttribute("data-hinted")) return;
      row.setAttribute("data-hinted", "1");
      var update = function () {
        var rest = row.scrollWidth - row.clientWidth - row.scrollLeft;
        row.classList.toggle("more-after", rest > 2);
        row.classList.toggle("more-before", row.scrollLeft > 2);
      };
      var current = row.querySelector('[aria-current="page"]');
      if (current && current.offsetLeft + current.offsetWidth > row.clientWidth) {
        row.scrollLeft = current.offsetLeft - (row.clientWidth - current.offsetWidth) / 2;
      }
      row.addEventListener("scroll", update, { passive: true });
      window.addEventListener("resize", update);
      update();
    });
  }
  document.addEventListener("DOMContentLoaded", hintTabs);
  // what other scripts of the page queue (markup.js: a photo's markup), sent in order with everything else
  window.sixsOutbox = {
    queue: function (change) {
      change.key = newKey();
      change.page = location.pathname;
      change.queuedAt = Date.now();
      return add(change).then(refreshCounter).then(flush);
    }
  };
  document.addEventListener("htmx:afterSettle", hintTabs);
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
