// Per-item save state for the inspection form. htmx does the saving; this only tells the person
// what happened, so a failed save on flaky Wi-Fi is never silent.
(function () {
  "use strict";
  function stateOf(el) {
    var item = el.closest && el.closest(".item");
    return item ? item.querySelector(".save-state") : null;
  }
  function show(el, cls, text) {
    var state = stateOf(el);
    if (!state) return;
    state.textContent = "";
    var span = document.createElement("span");
    span.className = cls;
    span.textContent = text;
    state.appendChild(span);
  }
  var zh = document.documentElement.lang !== "en";
  document.addEventListener("htmx:beforeRequest", function (e) {
    show(e.target, "state-saving", zh ? "保存中…" : "Saving…");
  });
  function failed(e) {
    show(e.target, "state-error", zh ? "未保存：网络中断，请再点一次" : "Not saved: network problem, tap again");
  }
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:timeout", failed);
  document.addEventListener("htmx:responseError", function (e) {
    show(e.target, "state-error", zh ? "未保存：服务器拒绝了这次保存" : "Not saved: the server refused it");
  });
})();
