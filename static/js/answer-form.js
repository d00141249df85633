// The inspection form as it is filled in: what an answer means shown as it is given (a count's deduction and the
// category's total, the chosen level's text), the − and + steppers, reading and setting an item's answer, photos
// made smaller before they are kept, and category tabs that say they scroll. Sending is outbox.js's.
(function () {
  "use strict";
  var T = window.Sixs.T;

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
  document.addEventListener("htmx:afterSettle", hintTabs);

  window.Sixs.form = { answerOf: answerOf, setAnswer: setAnswer, showCounts: showCounts, showLevelText: showLevelText,
                       downscale: downscale };
})();
