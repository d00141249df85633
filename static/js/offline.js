// 离线可用: fills the screen from the device's own copy of what it holds (the service worker answers
// /offline/holdings.json from its cache when the server cannot be reached), and counts what waits to be sent.
"use strict";
(function () {
  var root = document.querySelector("[data-offline-held]");
  if (!root) return;
  var words = JSON.parse(document.getElementById("held-words").textContent);
  function say(template, n) { return template.replace("{n}", n); }
  function show(held) {
    var state = root.querySelector("[data-held-state]");
    state.hidden = true;
    if (!held || !held.workshops) { root.querySelector(".held-empty").hidden = false; return; }
    var refreshed = root.querySelector("[data-held-refreshed]");
    var at = new Date(held.refreshed_at || held.made_at);
    refreshed.dateTime = at.toISOString();
    refreshed.textContent = at.toLocaleString(document.documentElement.lang || undefined);
    root.querySelector(".held-refreshed").hidden = false;
    var table = root.querySelector(".held-workshops"), body = table.querySelector("tbody");
    var row = document.getElementById("held-row");
    body.textContent = "";
    held.workshops.forEach(function (w) {
      var tr = row.content.firstElementChild.cloneNode(true);
      tr.setAttribute("data-held-workshop", w.code);
      tr.querySelector(".held-workshop").textContent = w.name + "（" + w.code + "）";
      tr.querySelector(".held-checklists").textContent = w.checklists.length ? w.checklists.map(function (c) {
        return c.name + " · " + say(words.version, c.version) + " · " + say(words.items, c.items);
      }).join("；") : words.none;
      body.appendChild(tr);
    });
    table.hidden = !held.workshops.length;
    root.querySelector(".held-empty").hidden = held.workshops.length > 0;
  }
  window.Sixs.starts.held().then(show);  // the device's own copy (device-start.js; sw.js answers it)
  function countWaiting() {
    var counter = document.querySelector("[data-outbox-count]");
    root.querySelector("[data-held-waiting]").textContent = (counter && counter.getAttribute("data-outbox-count")) || "0";
  }
  countWaiting();
  var counter = document.querySelector("[data-outbox-count]");
  if (counter && window.MutationObserver) new MutationObserver(countWaiting).observe(counter, { attributes: true });
})();
