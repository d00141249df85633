// Signature pads: a finger draws on a canvas; the drawing goes into a hidden field as a PNG data URL.
// The server re-checks and re-encodes it; this file only draws.
(function () {
  "use strict";
  function setup(canvas) {
    var input = canvas.parentNode.querySelector('input[name="' + canvas.getAttribute("data-signature-for") + '"]');
    var ctx = null, drawing = false, last = null;

    function fit() {
      // draw at the screen's real pixel density, and keep what was drawn when the tablet turns
      var rect = canvas.getBoundingClientRect(), ratio = window.devicePixelRatio || 1;
      var width = Math.round(rect.width * ratio), height = Math.round(rect.height * ratio);
      if (!width || (width === canvas.width && height === canvas.height && ctx)) return;
      canvas.width = width; canvas.height = height;
      ctx = canvas.getContext("2d");
      ctx.lineWidth = 2.5 * ratio; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#111";
      if (input.value) {
        var image = new Image();
        image.onload = function () {
          var scale = Math.min(width / image.width, height / image.height, 1);
          ctx.drawImage(image, 0, 0, image.width * scale, image.height * scale);
        };
        image.src = input.value;
      }
    }
    function point(e) {
      var rect = canvas.getBoundingClientRect();
      return { x: (e.clientX - rect.left) * canvas.width / rect.width, y: (e.clientY - rect.top) * canvas.height / rect.height };
    }
    canvas.addEventListener("pointerdown", function (e) {
      e.preventDefault();
      fit();  // a pad inside a closed <details> had no size until now
      canvas.setPointerCapture(e.pointerId);
      drawing = true; last = point(e);
      ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(last.x + 0.1, last.y + 0.1); ctx.stroke();
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!drawing) return;
      var p = point(e);
      ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke();
      last = p;
    });
    function end() {
      if (!drawing) return;
      drawing = false;
      input.value = canvas.toDataURL("image/png");
      canvas.classList.add("signed");
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.parentNode.querySelector('[data-action="clear-signature"]').addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      input.value = "";
      canvas.classList.remove("signed");
    });
    fit();
    if (input.value) canvas.classList.add("signed");
    window.addEventListener("resize", fit);
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-signature-for]"), setup);
  });
})();
