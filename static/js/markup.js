// Marking up a finding photo: circles, arrows and short texts drawn with a finger or a stylus over the photo.
// The photo is never changed: the layer (fractions of the photo's width and height) is sent through the outbox
// like any other change, so it is kept when the Wi-Fi drops and arrives once (inspections/markup.py checks it).
(function () {
  "use strict";
  var dialog, stage, svg, image, textField, textInput;
  var shapes = [], tool = "circle", drawing = null, width = 1, height = 1, opened = null;
  var NS = "http://www.w3.org/2000/svg", COLOUR = "#e11d48";

  function el(name, attrs) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function draw() {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var stroke = Math.max(width, height) / 120, size = Math.max(width, height) / 16;
    shapes.concat(drawing ? [drawing] : []).forEach(function (s) {
      if (s.type === "circle") {
        svg.appendChild(el("ellipse", { cx: s.x * width, cy: s.y * height, rx: s.r * width, ry: s.r * width,
          fill: "none", stroke: COLOUR, "stroke-width": stroke, "data-shape": "circle" }));
      } else if (s.type === "arrow") {
        var x1 = s.x1 * width, y1 = s.y1 * height, x2 = s.x2 * width, y2 = s.y2 * height;
        var angle = Math.atan2(y2 - y1, x2 - x1), head = stroke * 4;
        svg.appendChild(el("line", { x1: x1, y1: y1, x2: x2, y2: y2, stroke: COLOUR, "stroke-width": stroke,
          "stroke-linecap": "round", "data-shape": "arrow" }));
        svg.appendChild(el("polygon", { fill: COLOUR, points: [x2, y2, x2 - head * Math.cos(angle - 0.45),
          y2 - head * Math.sin(angle - 0.45), x2 - head * Math.cos(angle + 0.45), y2 - head * Math.sin(angle + 0.45)].join(" ") }));
      } else {
        [["#fff", size / 6], [COLOUR, 0]].forEach(function (pass, i) {
          var t = el("text", { x: s.x * width, y: s.y * height, "font-size": size, "font-weight": 700, fill: pass[0],
            stroke: pass[0], "stroke-width": pass[1], "stroke-linejoin": "round" });
          if (i === 1) t.setAttribute("data-shape", "text");
          t.textContent = s.text;
          svg.appendChild(t);
        });
      }
    });
  }
  function at(e) {
    var box = svg.getBoundingClientRect();
    var clamp = function (v) { return Math.min(1, Math.max(0, v)); };
    return { x: clamp((e.clientX - box.left) / box.width), y: clamp((e.clientY - box.top) / box.height) };
  }
  function round(v) { return Math.round(v * 10000) / 10000; }
  function choose(name) {
    tool = name;
    Array.prototype.forEach.call(dialog.querySelectorAll("[data-tool]"), function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-tool") === name ? "true" : "false");
    });
    textField.hidden = name !== "text";
    if (name === "text") textInput.focus();
  }

  function setUp() {
    dialog = document.getElementById("markup-dialog");
    if (!dialog) return;
    stage = dialog.querySelector(".markup-stage");
    svg = dialog.querySelector(".markup-layer");
    image = stage.querySelector("img");
    textField = dialog.querySelector(".markup-text-field");
    textInput = dialog.querySelector(".markup-text");

    svg.addEventListener("pointerdown", function (e) {
      e.preventDefault();
      var p = at(e);
      if (tool === "text") {
        var text = textInput.value.trim();
        if (!text) { textInput.focus(); return; }
        shapes.push({ type: "text", x: round(p.x), y: round(p.y), text: text.slice(0, 40) });
        draw();
        return;
      }
      svg.setPointerCapture(e.pointerId);
      drawing = tool === "circle" ? { type: "circle", x: p.x, y: p.y, r: 0, sx: p.x, sy: p.y }
                                  : { type: "arrow", x1: p.x, y1: p.y, x2: p.x, y2: p.y };
    });
    svg.addEventListener("pointermove", function (e) {
      if (!drawing) return;
      var p = at(e);
      if (drawing.type === "circle") {
        drawing.r = Math.hypot((p.x - drawing.sx) * width, (p.y - drawing.sy) * height) / width;
      } else { drawing.x2 = p.x; drawing.y2 = p.y; }
      draw();
    });
    var finish = function () {
      if (!drawing) return;
      var d = drawing;
      drawing = null;
      if (d.type === "circle" && d.r * width > Math.max(width, height) / 60) {
        shapes.push({ type: "circle", x: round(d.x), y: round(d.y), r: round(Math.min(1, d.r)) });
      } else if (d.type === "arrow" && Math.hypot((d.x2 - d.x1) * width, (d.y2 - d.y1) * height) > Math.max(width, height) / 40) {
        shapes.push({ type: "arrow", x1: round(d.x1), y1: round(d.y1), x2: round(d.x2), y2: round(d.y2) });
      }
      draw();
    };
    svg.addEventListener("pointerup", finish);
    svg.addEventListener("pointercancel", function () { drawing = null; draw(); });

    dialog.addEventListener("click", function (e) {
      var toolButton = e.target.closest("[data-tool]");
      if (toolButton) { choose(toolButton.getAttribute("data-tool")); return; }
      var action = e.target.closest("[data-markup]");
      if (!action) return;
      if (action.getAttribute("data-markup") === "undo") { shapes.pop(); draw(); return; }
      if (action.getAttribute("data-markup") === "save" && opened) {
        var item = opened.closest(".item").getAttribute("data-item-code");
        window.sixsOutbox.queue({ kind: "markup", url: opened.getAttribute("data-save-url"), item: item,
          fields: [["photo", opened.getAttribute("data-photo")], ["shapes", JSON.stringify(shapes)]] });
        dialog.close();
      }
    });
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest('[data-action="markup"]');
    if (!button || !dialog) return;
    opened = button;
    width = Number(button.getAttribute("data-width")) || 1;
    height = Number(button.getAttribute("data-height")) || 1;
    try { shapes = JSON.parse(button.getAttribute("data-shapes") || "[]"); } catch (err) { shapes = []; }
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    stage.style.setProperty("--aspect", String(width / height));
    image.src = button.getAttribute("data-image");
    choose("circle");
    draw();
    dialog.showModal();
  });
  document.addEventListener("DOMContentLoaded", setUp);
})();
