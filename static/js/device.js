// What the scripts of every page share: the page's language and the outbox's words, who is signed in, fresh keys
// for changes, the CSRF token, and the outbox's store on this device (IndexedDB, or memory where there is none).
// Loaded first (base.html); answer-form.js, outbox-screen.js and outbox.js read it as window.Sixs.
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
    setAsideUnknown: zh ? "服务器拒收" : "refused by the server",
    storageShort: zh ? "本机存储空间快满了（约剩 %m MB）：请尽快联网同步，已暂存的内容上传后会腾出空间。" :
                       "This tablet's storage is nearly full (about %m MB left): go online soon; what is queued frees its space once sent.",
    storageFullPhoto: zh ? "本机存储空间已满，这张照片没有暂存：请联网同步后再拍。已暂存的内容都还在。" :
                           "This tablet's storage is full: the photo was not kept. Go online to sync, then take it again. Everything queued is still here.",
    storageFullAnswer: zh ? "本机存储空间已满，这项没有暂存：请联网同步后再填。已暂存的内容都还在。" :
                            "This tablet's storage is full: this change was not kept. Go online to sync, then enter it again. Everything queued is still here.",
    queuedPhoto: zh ? "待上传的照片" : "Photo waiting to upload",
    queuedPhotoBadge: zh ? "待上传" : "waiting",
    runningNow: zh ? "当前" : "so far",
    criticalFailed: zh ? "关键项不合格，本次判为不合格" : "Critical item failed: this inspection fails"
  };
  // Who is signed in on this page (none on the login page): a change is sent only by the user who made it.
  var ME = document.body ? document.body.getAttribute("data-user") : null;
  var MY_NAME = document.body ? document.body.getAttribute("data-user-name") : "";
  // An inspection started on this tablet without the server (device-start.js) is filled on the blank form the
  // tablet keeps for its checklist version, under its start key (?device=KEY) until the server has made it.
  var head = document.querySelector("[data-device-form]");
  var params = new URLSearchParams(location.search);
  var DEVICE_KEY = head && /^[A-Za-z0-9_-]{16,64}$/.test(params.get("device") || "") ? params.get("device") : null;
  // Which page a change belongs to (the outbox shows a change on its own page only).
  var PAGE = location.pathname + (DEVICE_KEY ? "?device=" + DEVICE_KEY : "");
  function mine(change) { return !change.user || change.user === ME; }
  // what still goes to the server: the user's own changes, but those the server judged and refused (set aside)
  function waiting(change) { return mine(change) && !change.setAside; }
  function setAside(change) { return mine(change) && !!change.setAside; }
  var DB_NAME = "sixs-outbox", STORE = "changes";
  var memory = [], memorySeq = 0;

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
        t.onabort = function () { reject(t.error); };  // the storage full (QuotaExceededError) ends here
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
    if (DEVICE_KEY && change.page === PAGE) change.device = DEVICE_KEY;  // sent once the server has made the start
    if (change.item && !change.label) {  // named as the person knows it, wherever it is shown later
      var text = document.querySelector('.item[data-item-code="' + change.item + '"] .item-text');
      if (text) change.label = text.textContent.trim();
    }
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

  // What went out lately (the 离线与同步 screen shows it): the last 30 changes the server acknowledged, per user.
  var SENT = "sixs-sent:" + (ME || ""), SENT_KEEP = 30;
  function sentLog() {
    try { return JSON.parse(localStorage.getItem(SENT)) || []; } catch (e) { return []; }
  }
  function logSent(change, what) {
    try {
      var log = sentLog();
      log.push({ at: Date.now(), what: what || change.label || change.item || change.kind });
      localStorage.setItem(SENT, JSON.stringify(log.slice(-SENT_KEEP)));
    } catch (e) { /* private mode or full: only the list is lost */ }
  }

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

  // How much this site may still store on the device, in bytes (null where the browser does not say).
  function roomLeft() {
    if (!navigator.storage || !navigator.storage.estimate) return Promise.resolve(null);
    return navigator.storage.estimate().then(function (e) {
      return typeof e.quota === "number" && typeof e.usage === "number" ? e.quota - e.usage : null;
    }, function () { return null; });
  }

  window.Sixs = {
    zh: zh, T: T, ME: ME, MY_NAME: MY_NAME, PAGE: PAGE, DEVICE_KEY: DEVICE_KEY, mine: mine, waiting: waiting, setAside: setAside,
    store: { all: all, add: add, remove: remove, put: put, roomLeft: roomLeft }, newKey: newKey,
    sentLog: sentLog, logSent: logSent,
    csrfToken: csrfToken
  };
})();
