// 核对并提交 where the server cannot be reached (#37): the review, the signature pads and 签名并提交 on the tablet.
// The review is drawn from the form as the tablet holds it (confirmed answers plus what waits in the outbox) and
// scored by the server's rules (scoring.js). Signing unlocks the tablet's key with the password (signing-key.js) and
// signs a statement of what was shown; the submit is queued behind every answer and photo, and the server checks
// it on arrival (inspections/device_signing.py). Online, 核对并提交 opens the server's own review page as before.
(function () {
  "use strict";
  var S = window.Sixs, zh = S.zh, screen = S.screen;
  var section = document.getElementById("device-review");
  var W = {
    unanswered: zh ? "还有 %n 项未评分" : "%n items are not scored yet",
    grade: zh ? "等级 %g" : "Grade %g",
    passed: zh ? "合格" : "Pass",
    failed: zh ? "不合格" : "Fail",
    critical: zh ? "关键项不合格，本次判为不合格" : "Critical item failed: this inspection fails",
    noSignature: zh ? "请在框内签名" : "Please sign in the box",
    noPassword: zh ? "请输入您的登录密码以确认签名" : "Enter your password to confirm the signature",
    leaderName: zh ? "请填写负责人姓名（或清除负责人签名）" : "Enter the leader's name (or clear their signature)",
    wrongPassword: zh ? "密码不正确" : "Wrong password",
    noKey: zh ? "这台平板还不能离线签名：请联网后重新登录一次（登录时会在本机生成签名密钥），或联网后再提交。已填写的内容都暂存在本机。" :
                "This tablet cannot sign offline yet: sign in again once while online (that makes its signing key), or submit when online. Everything filled in is kept on this tablet.",
    unsupported: zh ? "此地址不是安全连接（HTTPS），浏览器不允许离线签名：请联网后提交。已填写的内容都暂存在本机。" :
                      "This address is not a secure connection (HTTPS), so the browser cannot sign offline: submit when online. Everything filled in is kept on this tablet.",
    signed: zh ? "已在本机签名（%t）。联网后自动上传并提交；提交前请不要再修改。" : "Signed on this tablet (%t). It uploads and submits when online; please change nothing before then.",
    submitLabel: zh ? "签名并提交：%w" : "Sign and submit: %w"
  };

  if (!section) return;

  // The whole sheet, also the categories not on the page (a draft's page shows one): every item from the version's
  // rules; its answer from the page where it is on it, else the latest one waiting in the outbox, else the server's
  // last confirmed one (#progress data-answers: value, revision, photos).
  function rules() { return JSON.parse(document.getElementById("device-rules").getAttribute("data-rules")); }
  function itemOnPage(key) { return document.querySelector('.item[data-item-code="' + key + '"]'); }
  function pageValue(item) {
    var score = S.form.answerOf(item.querySelector(".item-answer")).score;
    return score === "" || score === undefined ? null : (score === "na" ? "na" : parseInt(score, 10));
  }
  function sheetState(changes) {
    var confirmed = JSON.parse(document.getElementById("progress").getAttribute("data-answers") || "{}");
    var queued = {}, queuedPhoto = {};
    changes.forEach(function (c) {
      if (c.page !== S.PAGE || c.setAside) return;
      if (c.kind === "answer" && c.score !== "") queued[c.item] = c.score === "na" ? "na" : parseInt(c.score, 10);
      if (c.kind === "photo") queuedPhoto[c.item] = true;
    });
    var sheet = rules(), rows = [];
    sheet.categories.forEach(function (category) {
      category.items.forEach(function (item) {
        var el = itemOnPage(item.key), value = el ? pageValue(el) : null;
        if (value === null && Object.prototype.hasOwnProperty.call(queued, item.key)) value = queued[item.key];
        if (value === null && confirmed[item.key]) value = confirmed[item.key][0];
        var photos = el ? el.querySelectorAll(".photos img").length
                        : (confirmed[item.key] ? confirmed[item.key][2] || 0 : 0) + (queuedPhoto[item.key] ? 1 : 0);
        rows.push({ key: item.key, category: category, item: item, value: value, photos: photos });
      });
    });
    return { scheme: sheet.scheme, categories: sheet.categories, rows: rows };
  }
  function isFinding(scheme, value) {
    if (value === null || value === "na") return false;
    if (scheme.type === "deduction") return value > 0;
    if (scheme.type === "pass_fail") return value === 0;
    return value <= Number(scheme.finding_at_or_below);
  }
  function nameOf(thing, zhName, enName) { return !zh && thing[enName] ? thing[enName] : thing[zhName]; }
  function linkTo(row) {
    var a = document.createElement("a"), tab = document.querySelector('a.tab[data-category-key="' + row.category.key + '"]');
    a.textContent = nameOf(row.category, "name", "name_en") + " " + row.item.position + ". " + nameOf(row.item, "text", "text_en");
    a.setAttribute("data-item-code", row.key);
    // the device form shows its categories in place; a draft's page is the category's own address
    a.href = (tab ? tab.getAttribute("href") : "") + (S.DEVICE_KEY ? "" : "#item-" + row.key);
    a.addEventListener("click", function () { close(); });
    return a;
  }
  function fill(list, box, rows) {
    list.textContent = "";
    rows.forEach(function (row) { var li = document.createElement("li"); li.appendChild(linkTo(row)); list.appendChild(li); });
    box.hidden = !rows.length;
  }
  var ready = false, state = null;
  function open() {
    return S.store.all().then(function (changes) {
      state = sheetState(changes);
      var answers = {};
      state.rows.forEach(function (row) { if (row.value !== null) answers[row.key] = row.value; });
      var missing = state.rows.filter(function (row) { return row.value === null; });
      var noPhoto = state.rows.filter(function (row) {
        return row.item.photo_required && isFinding(state.scheme, row.value) && !row.photos;
      });
      var unanswered = section.querySelector("[data-review-unanswered]");
      unanswered.querySelector("h3").textContent = W.unanswered.replace("%n", missing.length);
      fill(unanswered.querySelector("ul"), unanswered, missing);
      var photoBox = section.querySelector("[data-review-photos]");
      fill(photoBox.querySelector("ul"), photoBox, noPhoto);
      showScore(state, answers);
      ready = !missing.length && !noPhoto.length;
      section.querySelector("[data-device-sign]").hidden = !ready;
      section.hidden = false;
      document.documentElement.classList.add("device-reviewing");
      section.focus();
      window.scrollTo(0, 0);
    });
  }
  function close() {
    section.hidden = true;
    document.documentElement.classList.remove("device-reviewing");
  }
  function showScore(sheet, answers) {
    var box = section.querySelector("[data-review-score]");
    var score = S.scoring.score(sheet.categories, answers, sheet.scheme);
    if (score.overall_percent === null) { box.hidden = true; return; }
    box.hidden = false;
    box.className = "big-score " + (score.passed ? "pass" : "fail");
    box.setAttribute("data-overall", S.scoring.oneDecimal(score.overall_percent));
    box.querySelector(".big-number").textContent = S.scoring.oneDecimal(score.overall_percent) + "%";
    box.querySelector(".big-grade").textContent = W.grade.replace("%g", score.grade || "—");
    box.querySelector(".verdict").textContent = score.failed_critical.length ? W.critical : (score.passed ? W.passed : W.failed);
  }

  // 核对并提交: the server's review when it answers, else this one
  function reachable(url) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (controller) controller.abort(); }, 4000);
    return fetch(url, { method: "HEAD", credentials: "same-origin", cache: "no-store", redirect: "manual",
                        signal: controller ? controller.signal : undefined })
      .then(function (r) { return r.ok; }, function () { return false; })
      .finally(function () { clearTimeout(timer); });
  }
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest('[data-action="review-inspection"]');
    if (link) {
      e.preventDefault();
      var started = S.DEVICE_KEY && S.starts && S.starts.startedAs(S.DEVICE_KEY);
      var href = started ? started + "/review" : (S.DEVICE_KEY ? null : link.href);
      (href ? reachable(href) : Promise.resolve(false)).then(function (up) { if (up) location.assign(href); else open(); });
      return;
    }
    if (e.target.closest && e.target.closest('[data-action="close-review"]')) close();
  });

  // 签名并提交 on the tablet
  function say(text) {
    var error = section.querySelector("[data-review-error]");
    error.textContent = text; error.hidden = !text;
    if (text) error.scrollIntoView({ block: "center" });
  }
  function statementOf(form, answers) {
    var signature = form.elements.signature.value, leader = form.elements.leader_signature.value;
    return Promise.all([S.signing.digest(signature), leader ? S.signing.digest(leader) : Promise.resolve("")]).then(function (d) {
      var id = /^\/inspections\/(\d+)$/.exec(location.pathname);
      return { v: 1, user: parseInt(S.ME, 10), inspection: id ? parseInt(id[1], 10) : null, start: S.DEVICE_KEY,
               answers: answers, signature_sha256: d[0], leader_name: form.elements.leader_name.value.trim(),
               leader_signature_sha256: d[1], signed_at: localIso(new Date()) };
    });
  }
  function localIso(d) {  // the tablet's own clock with its offset, as the person saw it
    function two(n) { return (n < 10 ? "0" : "") + n; }
    var offset = -d.getTimezoneOffset(), sign = offset >= 0 ? "+" : "-";
    offset = Math.abs(offset);
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + "T" + two(d.getHours()) + ":" +
      two(d.getMinutes()) + ":" + two(d.getSeconds()) + sign + two(Math.floor(offset / 60)) + ":" + two(offset % 60);
  }
  section.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("[data-device-sign]")) return;
    e.preventDefault();
    if (!ready || form.getAttribute("data-signing") === "yes") return;
    say("");
    if (!S.signing || !S.signing.supported) { say(W.unsupported); return; }
    if (!form.elements.signature.value) { say(W.noSignature); return; }
    if (form.elements.leader_signature.value && !form.elements.leader_name.value.trim()) { say(W.leaderName); return; }
    var password = form.elements.device_password.value;
    if (!password) { say(W.noPassword); return; }
    form.setAttribute("data-signing", "yes");
    var answers = {};  // as the review showed them
    state.rows.forEach(function (row) { answers[row.key] = row.value; });
    var statement, text;
    statementOf(form, answers).then(function (made) {
      statement = made; text = JSON.stringify(statement);
      return S.signing.sign(password, new TextEncoder().encode(text));
    }).then(function (proof) {
      form.elements.device_password.value = "";
      var head = document.querySelector(".inspection-head h1"), workshop = head ? head.childNodes[0].textContent.trim() : "";
      var url = location.pathname.replace(/^\/inspections\/(\d+)$/, "/inspections/$1/submit");
      if (S.DEVICE_KEY) url = "/inspections/0/submit";
      var fields = [["signature", form.elements.signature.value], ["statement", text], ["device_signature", proof.signature],
                    ["device_key", proof.key]];
      if (statement.leader_name) fields.push(["leader_name", statement.leader_name], ["leader_signature", form.elements.leader_signature.value]);
      return S.store.add({ kind: "submit", url: url, key: S.newKey(), page: S.PAGE, fields: fields,
                           label: W.submitLabel.replace("%w", workshop), signedAt: statement.signed_at });
    }).then(function () {
      close();
      lockSigned(statement.signed_at);
      if (S.outbox) S.outbox.flush();
    }, function (error) {
      say(error && error.message === "wrong-password" ? W.wrongPassword : W.noKey);
    }).then(function () { form.removeAttribute("data-signing"); });
  });

  // A signed record waits in the outbox: its answers stay as signed (a change now would differ from the signature)
  function lockSigned(at) {
    document.querySelectorAll(".category-panel input, .category-panel textarea, .category-panel button, .submit-box a")
      .forEach(function (el) { el.disabled = true; el.setAttribute("aria-disabled", "true"); });
    var box = document.querySelector(".submit-box");
    if (box) box.hidden = true;
    var note = document.querySelector("[data-device-signed]");
    note.textContent = W.signed.replace("%t", new Date(at).toLocaleString(document.documentElement.lang || undefined));
    note.hidden = false;
    document.documentElement.setAttribute("data-device-signed", "");
  }
  document.addEventListener("DOMContentLoaded", function () {
    S.store.all().then(function (changes) {
      var signed = changes.filter(function (c) { return c.kind === "submit" && c.page === S.PAGE && !c.setAside; })[0];
      if (signed) lockSigned(signed.signedAt);
    });
  });
})();
