// 离线与同步 (the /offline screen, #37): what this tablet still has to send, per inspection or form, what the server
// did not accept and why (with its content to copy out), and what went out lately — read from the outbox's own
// store, so it tells the truth without the server. 立即同步 is the outbox's own button.
(function () {
  "use strict";
  var S = window.Sixs, zh = S.zh;
  var root = document.querySelector("[data-sync-centre]");
  if (!root) return;
  var W = {
    nothing: zh ? "本机没有待上传的内容。" : "Nothing waits on this tablet.",
    waiting: zh ? "待上传" : "waiting",
    refused: zh ? "服务器未接受：%r" : "not accepted: %r",
    queuedAt: zh ? "暂存于 %t" : "kept since %t",
    start: zh ? "开始检查" : "start of the inspection",
    submit: zh ? "签名并提交" : "signed submit",
    photo: zh ? "照片" : "photo",
    markup: zh ? "照片标注" : "photo markup",
    form: zh ? "表单" : "form",
    score: zh ? "评分 %s" : "score %s",
    note: zh ? "备注“%s”" : "note “%s”",
    inspection: zh ? "检查 #%n" : "Inspection #%n",
    copy: zh ? "复制内容" : "Copy the content",
    copied: zh ? "已复制" : "Copied",
    dismiss: zh ? "已处理，删除" : "Done, remove"
  };
  function when(ms) { return new Date(ms).toLocaleString(document.documentElement.lang || undefined); }
  function what(c) {
    if (c.kind === "start") return W.start;
    if (c.kind === "submit") return W.submit;
    if (c.kind === "photo") return W.photo;
    if (c.kind === "markup") return W.markup;
    if (c.kind === "form") return c.label || W.form;
    var parts = [];
    if (c.score !== "" && c.score !== undefined && c.score !== null) parts.push(W.score.replace("%s", c.score === "na" ? (zh ? "不适用" : "N/A") : c.score));
    if (typeof c.note === "string" && c.note) parts.push(W.note.replace("%s", c.note));
    return parts.join(zh ? "，" : ", ");
  }
  // what was typed, to copy out of a refused change (the photo itself stays on the tablet until removed)
  function content(c) {
    var lines = [c.setAside ? c.setAside.label : c.label || c.item || ""];
    if (c.kind === "answer") lines.push(what(c));
    if (c.kind === "form" || c.kind === "start" || c.kind === "submit") {
      (c.fields || []).forEach(function (f) {
        if (typeof f[1] === "string" && f[1].length < 500 && !/signature|statement|csrf|key/.test(f[0])) lines.push(f[0] + ": " + f[1]);
      });
    }
    return lines.filter(Boolean).join("\n");
  }
  function groupOf(c, starts) {
    if (c.kind === "start") return { id: "start:" + c.key, title: c.label };
    if (c.device && starts[c.device]) return { id: "start:" + c.device, title: starts[c.device].label };
    var m = /^\/inspections\/(\d+)/.exec(c.page || "");
    if (m) return { id: c.page, title: W.inspection.replace("%n", m[1]) };
    return { id: c.page || "?", title: c.label || c.page };
  }
  function button(text, action, onClick) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "btn btn-small"; b.textContent = text; b.setAttribute("data-action", action);
    b.addEventListener("click", onClick);
    return b;
  }
  // the content shown selected (a long press copies it on any tablet) and, where the browser allows, copied too
  function copy(c, b) {
    var area = b.parentNode.querySelector(".copy-out");
    if (!area) {
      area = document.createElement("textarea");
      area.readOnly = true; area.className = "copy-out"; area.rows = 3;
      b.parentNode.appendChild(area);
    }
    area.value = content(c);
    area.focus();
    area.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(area.value).then(function () { b.textContent = W.copied; }, function () {});
    }
  }
  function show() {
    return S.store.all().then(function (changes) {
      var mineNow = changes.filter(S.mine), starts = {}, groups = [], byId = {};
      mineNow.forEach(function (c) { if (c.kind === "start") starts[c.key] = c; });
      mineNow.forEach(function (c) {
        var g = groupOf(c, starts);
        if (!byId[g.id]) { byId[g.id] = { title: g.title, changes: [] }; groups.push(byId[g.id]); }
        byId[g.id].changes.push(c);
      });
      var list = root.querySelector("[data-sync-groups]");
      list.textContent = "";
      root.querySelector("[data-sync-empty]").textContent = groups.length ? "" : W.nothing;
      groups.forEach(function (group) {
        var section = document.createElement("section"), h = document.createElement("h3"), ul = document.createElement("ul");
        section.className = "sync-group"; h.textContent = group.title; ul.className = "sync-changes";
        group.changes.forEach(function (c) {
          var li = document.createElement("li"), label = document.createElement("span"), state = document.createElement("span");
          li.setAttribute("data-sync-change", c.key);
          li.setAttribute("data-sync-state", c.setAside ? "refused" : "waiting");
          label.textContent = [c.kind === "answer" || c.kind === "photo" || c.kind === "markup" ? (c.label || c.item) : "", what(c)]
            .filter(Boolean).join(" · ");
          state.className = c.setAside ? "state-error" : "state-queued";
          state.textContent = c.setAside ? W.refused.replace("%r", c.setAside.reason) : W.waiting + " · " + W.queuedAt.replace("%t", when(c.queuedAt));
          li.appendChild(label); li.appendChild(document.createTextNode(" — ")); li.appendChild(state);
          if (c.setAside) {
            li.appendChild(document.createTextNode(" "));
            var b = button(W.copy, "copy-set-aside", function () { copy(c, b); });
            li.appendChild(b);
            li.appendChild(button(W.dismiss, "dismiss-set-aside", function () { S.store.remove(c.seq).then(show); }));
          }
          ul.appendChild(li);
        });
        section.appendChild(h); section.appendChild(ul);
        list.appendChild(section);
      });
      var sent = S.sentLog ? S.sentLog() : [], sentList = root.querySelector("[data-sync-sent]");
      sentList.textContent = "";
      sent.slice().reverse().forEach(function (s) {
        var li = document.createElement("li");
        li.textContent = when(s.at) + " · " + s.what;
        sentList.appendChild(li);
      });
      root.querySelector("[data-sync-sent-none]").hidden = sent.length > 0;
    });
  }
  document.addEventListener("DOMContentLoaded", show);
  var counter = document.querySelector("[data-outbox-count]");
  if (counter && window.MutationObserver) new MutationObserver(function () { show(); }).observe(counter, { attributes: true });
})();
