// The public view of a sitting follows it live: every 0.7 s it asks the sitting's stamp (a small
// JSON); when the stamp changes it fetches the live part of the page, swaps it in, and announces
// the latest decision in the aria-live region. It stops once the sitting is closed.
(function () {
  "use strict";
  var live = document.getElementById("session-live");
  var announcer = document.getElementById("session-announcer");
  if (!live) return;
  var stamp = live.getAttribute("data-stamp");
  var busy = false;
  var timer = null;

  function refresh() {
    return fetch(live.getAttribute("data-live-url"), {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        live.innerHTML = html;
        var state = live.querySelector(".session-state");
        if (!state) return;
        stamp = state.getAttribute("data-stamp");
        live.setAttribute("data-stamp", stamp);
        var said = state.getAttribute("data-announcement") || "";
        if (announcer && said && announcer.textContent !== said) announcer.textContent = said;
        if (state.getAttribute("data-sitting-state") === "closed" && timer) clearInterval(timer);
      });
  }

  function poll() {
    if (busy) return;
    busy = true;
    fetch(live.getAttribute("data-stamp-url"), {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.stamp !== stamp) return refresh();
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }

  timer = setInterval(poll, 700);
})();
