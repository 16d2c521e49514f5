// Shows and hides questions as the participant answers, using the same conditions
// the server applies (data-show-if holds the parsed condition). Without this
// script, "Save and continue" shows newly opened questions instead.
(function () {
  "use strict";
  var form = document.querySelector("form[data-questionnaire]");
  if (!form) { return; }
  var questions = Array.prototype.slice.call(form.querySelectorAll(".question"));

  function read(q) {
    var kind = q.getAttribute("data-kind");
    var inputs = q.querySelectorAll("input, textarea");
    if (kind === "multi_choice") {
      var chosen = [];
      inputs.forEach(function (i) { if (i.checked) { chosen.push(i.value); } });
      return chosen.length ? chosen : null;
    }
    if (kind === "single_choice" || kind === "yes_no" || kind === "scale") {
      var picked = null;
      inputs.forEach(function (i) { if (i.checked) { picked = i.value; } });
      if (picked === null) { return null; }
      if (kind === "yes_no") { return picked === "yes"; }
      if (kind === "scale") { return Number(picked); }
      return picked;
    }
    var text = inputs.length ? inputs[0].value.trim() : "";
    if (text === "") { return null; }
    if (kind === "integer" || kind === "number") {
      var n = Number(text.replace(",", "."));
      return isFinite(n) ? n : null;
    }
    return text;
  }

  function compare(a, op, b) {
    if (Array.isArray(a)) { return op === "has" && a.indexOf(b) >= 0; }
    if (typeof a !== typeof b) { return false; }
    switch (op) {
      case "==": return a === b;
      case "!=": return a !== b;
      case "<": return a < b;
      case "<=": return a <= b;
      case ">": return a > b;
      case ">=": return a >= b;
      default: return false;
    }
  }

  function holds(e, answers) {
    if (e.and) { return holds(e.and[0], answers) && holds(e.and[1], answers); }
    if (e.or) { return holds(e.or[0], answers) || holds(e.or[1], answers); }
    if (e.not) { return !holds(e.not, answers); }
    if (e.answered) { return answers[e.answered] !== undefined; }
    var a = answers[e.key];
    return a !== undefined && compare(a, e.op, e.value);
  }

  var shownField = form.querySelector("input[name='shown']");

  function update() {
    var answers = {};
    var shownKeys = [];
    questions.forEach(function (q) {
      var condition = q.getAttribute("data-show-if");
      var shown = !condition || holds(JSON.parse(condition), answers);
      q.hidden = !shown;
      if (shown) {
        shownKeys.push(q.getAttribute("data-key"));
        var v = read(q);
        if (v !== null) { answers[q.getAttribute("data-key")] = v; }
      }
    });
    // The server completes only what the participant could see.
    if (shownField) { shownField.value = shownKeys.join(" "); }
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
