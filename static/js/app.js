// Per-item save state for the inspection form. htmx does the saving; this only tells the person
// what happened, so a failed save on flaky Wi-Fi is never silent.
(function () {
  "use strict";
  var zh = document.documentElement.lang !== "en";
  var TEXT = {
    saving: zh ? "保存中…" : "Saving…",
    uploading: zh ? "上传中…" : "Uploading…",
    offline: zh ? "未保存：网络中断，请再点一次" : "Not saved: network problem, tap again",
    refused: zh ? "未保存：服务器拒绝了这次保存" : "Not saved: the server refused it"
  };
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
  function isUpload(el) { return el.type === "file"; }
  document.addEventListener("htmx:beforeRequest", function (e) {
    var el = e.detail.elt;
    if (isUpload(el)) {
      el.closest(".camera").classList.add("busy");
      el.closest(".camera").setAttribute("data-busy-text", TEXT.uploading);
    } else {
      show(el, "state-saving", TEXT.saving);
    }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var el = e.detail.elt;
    if (isUpload(el)) {
      el.closest(".camera").classList.remove("busy");
      el.value = "";  // the same photo can be chosen again after a failure
    }
  });
  function failed(e) { show(e.detail.elt, "state-error", TEXT.offline); }
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:timeout", failed);
  document.addEventListener("htmx:responseError", function (e) {
    show(e.detail.elt, "state-error", TEXT.refused);
  });
})();
