// Kasir back office: confirmation prompts and the receipt template's live preview.
// Small and dependency-free: every page works without it (forms submit normally).
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  function livePreview(form) {
    var target = document.getElementById("receipt-preview");
    var url = form.getAttribute("data-preview");
    var timer = null;
    var latest = 0;
    function refresh() {
      var body = new FormData(form);
      var mine = ++latest;
      fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRF-Token": body.get("csrf_token") }
      }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (text) {
        if (text !== null && mine === latest) { target.textContent = text; }
      }).catch(function () { /* offline: the preview refreshes on the next input */ });
    }
    form.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 250);
    });
    form.addEventListener("change", refresh);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("receipt-form");
    if (form) { livePreview(form); }
  });
})();
