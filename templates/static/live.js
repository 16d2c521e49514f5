// Staff forms that show what the server would say before anything is saved. A form
// with data-live="ID" is posted, after a pause in typing, with action=<its
// data-live-action> (a preview or a check that saves nothing); the element ID of
// the page the server returns replaces the one on this page. Without JavaScript,
// the form's own Preview or Check button does the same.
(function () {
  "use strict";
  document.querySelectorAll("form[data-live]").forEach(function (form) {
    var id = form.getAttribute("data-live");
    var action = form.getAttribute("data-live-action") || "preview";
    var timer = null;
    var asked = 0;
    function refresh() {
      var data = new URLSearchParams();
      new FormData(form).forEach(function (value, key) {
        if (typeof value === "string") { data.append(key, value); }
      });
      data.set("action", action);
      var mine = ++asked;
      fetch(form.action, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          if (mine !== asked) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(id);
          var here = document.getElementById(id);
          if (fresh && here) {
            here.innerHTML = fresh.innerHTML;
            here.hidden = fresh.hidden;
          }
        })
        .catch(function () { /* the button still works */ });
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 700);
    });
  });
})();
