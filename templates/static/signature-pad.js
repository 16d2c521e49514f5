// Optional drawn signature: strokes on a canvas become an SVG of M/L paths in the
// hidden drawn_svg field. Without JavaScript the pad stays hidden and the typed
// name alone signs the form.
(function () {
  "use strict";
  var pad = document.querySelector("[data-signature-pad]");
  if (!pad) { return; }
  var canvas = pad.querySelector("canvas");
  var field = pad.querySelector("input[name='signature.drawn_svg']");
  var ctx = canvas.getContext("2d");
  var strokes = [];
  var current = null;
  pad.hidden = false;
  ctx.lineWidth = 2.5;
  ctx.lineCap = "round";
  ctx.strokeStyle = "#111";

  function point(e) {
    var r = canvas.getBoundingClientRect();
    return [Math.round((e.clientX - r.left) * canvas.width / r.width), Math.round((e.clientY - r.top) * canvas.height / r.height)];
  }
  function sync() {
    var paths = strokes.filter(function (s) { return s.length > 1; }).map(function (s) {
      return '<path d="M' + s.map(function (p) { return p[0] + " " + p[1]; }).join(" L") + '" fill="none" stroke="black" stroke-width="2.5"/>';
    });
    field.value = paths.length ? '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ' + canvas.width + " " + canvas.height + '">' + paths.join("") + "</svg>" : "";
  }
  // A form that came back refused carries the drawing in the hidden field: draw
  // it again so the participant does not have to.
  function redraw() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    strokes.forEach(function (s) {
      ctx.beginPath();
      s.forEach(function (p, i) { if (i === 0) { ctx.moveTo(p[0], p[1]); } else { ctx.lineTo(p[0], p[1]); } });
      ctx.stroke();
    });
  }
  (field.value.match(/d="M[^"]*"/g) || []).forEach(function (d) {
    var stroke = d.slice(4, -1).split(" L").map(function (pair) {
      var xy = pair.trim().split(/\s+/).map(Number);
      return [xy[0], xy[1]];
    }).filter(function (p) { return isFinite(p[0]) && isFinite(p[1]); });
    if (stroke.length > 1) { strokes.push(stroke); }
  });
  redraw();

  canvas.addEventListener("pointerdown", function (e) {
    canvas.setPointerCapture(e.pointerId);
    current = [point(e)];
    strokes.push(current);
    e.preventDefault();
  });
  canvas.addEventListener("pointermove", function (e) {
    if (!current) { return; }
    var p = point(e), last = current[current.length - 1];
    current.push(p);
    ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
  });
  function end() { current = null; sync(); }
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  pad.querySelector("[data-clear]").addEventListener("click", function () {
    strokes = []; ctx.clearRect(0, 0, canvas.width, canvas.height); sync();
  });
})();
