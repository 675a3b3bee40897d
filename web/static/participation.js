// The unit page's public comments: quote the words selected in the clause's text into the
// comment form. Plain script, no build step: without it, people paste the words themselves.
(function () {
  "use strict";

  function start() {
    var button = document.querySelector(".pc-quote-selection");
    var field = document.getElementById("pc-quote");
    var text = document.querySelector(".legal-text");
    if (!button || !field || !text) { return; }
    var status = document.querySelector(".pc-quote-status");
    var chosen = "";
    // Remembered as it changes: pressing the button may move the selection (or the focus) away.
    document.addEventListener("selectionchange", function () {
      var selection = window.getSelection();
      if (!selection || selection.rangeCount === 0 || selection.isCollapsed) { return; }
      var range = selection.getRangeAt(0);
      if (text.contains(range.commonAncestorContainer)) {
        chosen = selection.toString().replace(/\s+/g, " ").trim();
      }
    });
    button.hidden = false;
    button.addEventListener("click", function () {
      if (!chosen) {
        if (status) { status.textContent = button.dataset.empty; }
        return;
      }
      field.value = chosen.slice(0, Number(field.getAttribute("maxlength")) || 500);
      if (status) { status.textContent = ""; }
      var body = document.getElementById("pc-body");
      if (body) { body.focus(); }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
