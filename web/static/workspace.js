// The page around the live editor (edit.html): saving a named version without leaving it, and the
// history link and the read-only notice's "propose an amendment" link following the unit the reader points at (the
// editor announces it with a `constituent:unit` event on #constituent-editor). Plain script, no
// build step: without it the form saves through the versions page, and the link opens the
// amendment form with no unit chosen.
(function () {
  "use strict";

  function saveVersionInPlace(form) {
    var status = form.querySelector(".save-version-status");
    var field = form.querySelector("input[name=name]");
    var button = form.querySelector("button[type=submit]");
    var token = form.querySelector("input[name=csrf_token]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      status.textContent = "";
      status.classList.remove("save-version-error");
      fetch(form.dataset.api, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token ? token.value : "" },
        body: JSON.stringify({ name: field.value })
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) { throw new Error((data && data.error) || response.statusText || String(response.status)); }
          return data;
        });
      }).then(function (version) {
        var text = form.dataset.saved.replace("{number}", version.number).replace("{name}", version.name);
        var link = document.createElement("a");
        link.href = form.dataset.versions + "#v" + version.number;
        link.textContent = form.dataset.see;
        status.replaceChildren(document.createTextNode(text + " "), link);
        field.value = "";
      }).catch(function (error) {
        status.classList.add("save-version-error");
        status.textContent = form.dataset.failed + " " + error.message;
      }).then(function () {
        button.disabled = false;
      });
    });
  }

  function followUnitForAmendments(root) {
    var link = document.getElementById("propose-amendment");
    var where = document.getElementById("propose-unit");
    if (!link) { return; }
    root.addEventListener("constituent:unit", function (event) {
      var unit = event.detail;
      if (!unit || !unit.guid) { return; } // keep the last unit pointed at
      link.href = link.dataset.base + "?unit=" + encodeURIComponent(unit.guid);
      link.dataset.unit = unit.guid;
      if (where && unit.label) { where.textContent = where.dataset.chosen.replace("{unit}", unit.label); }
      chosen = true;
      place();
    });
    // Pointing at a provision far down the text leaves the notice out of sight: its proposing part
    // then stays at the foot of the screen (until the notice is in view again).
    var action = document.getElementById("propose-action");
    var notice = action ? action.closest(".reading-notice") : null;
    var chosen = false;
    var away = false;
    var place = function () {
      var floating = chosen && away;
      action.classList.toggle("is-floating", floating);
      document.body.classList.toggle("has-floating-action", floating);
    };
    if (notice && "IntersectionObserver" in window) {
      new IntersectionObserver(function (entries) {
        away = !entries[entries.length - 1].isIntersecting;
        place();
      }).observe(notice);
    }
  }

  // The history panel's link follows the unit pointed at: its wording in every version, and the
  // revert buttons for those who may write the text.
  function followUnitForHistory(root) {
    var link = document.getElementById("unit-history");
    if (!link) { return; }
    root.addEventListener("constituent:unit", function (event) {
      var unit = event.detail;
      if (!unit || !unit.guid) { return; }
      link.href = link.dataset.base.replace("__unit__", encodeURIComponent(unit.guid));
      link.textContent = link.dataset.label.replace("{unit}", unit.label || unit.guid);
      link.hidden = false;
    });
  }

  function start() {
    var root = document.getElementById("constituent-editor");
    var form = document.querySelector("form.save-version");
    if (form && window.fetch) { saveVersionInPlace(form); }
    if (root) { followUnitForAmendments(root); followUnitForHistory(root); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
