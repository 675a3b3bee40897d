// The public view of a sitting follows it live. It listens on a WebSocket (data-listen-url) to
// which the server pushes the sitting's stamp (a small JSON) when it changes; if it cannot listen
// (no WebSocket, a proxy that refuses it, the connection lost), it asks for the stamp every 0.7 s
// instead, and tries to listen again later. When the stamp changes it fetches the live part of the
// page, swaps it in, and announces the latest decision in the aria-live region. It stops once the
// sitting is closed.
(function () {
  "use strict";
  var live = document.getElementById("session-live");
  var announcer = document.getElementById("session-announcer");
  if (!live) return;
  var POLL_MS = 700;
  var stamp = live.getAttribute("data-stamp");
  var wanted = stamp; // the newest stamp heard of
  var busy = false;
  var again = false;
  var polling = null;
  var socket = null;
  var retryMs = 2000;
  var closed = false;

  function stop() {
    closed = true;
    if (polling) { clearInterval(polling); polling = null; }
    if (socket) { socket.close(); socket = null; }
  }

  function refresh() {
    if (busy) { again = true; return Promise.resolve(); }
    busy = true;
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
        if (state.getAttribute("data-sitting-state") === "closed") stop();
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        // A change heard while this one was being fetched: fetch again.
        if (again) { again = false; if (!closed && wanted !== stamp) refresh(); }
      });
  }

  function heard(newStamp) {
    wanted = newStamp;
    if (newStamp !== stamp) refresh();
  }

  function poll() {
    if (busy) return;
    fetch(live.getAttribute("data-stamp-url"), {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) heard(data.stamp); })
      .catch(function () {});
  }

  function startPolling() {
    if (!polling && !closed) polling = setInterval(poll, POLL_MS);
  }

  function listen() {
    var address = live.getAttribute("data-listen-url");
    if (closed) return;
    if (!address || typeof WebSocket === "undefined" || typeof TextDecoder === "undefined") {
      startPolling();
      return;
    }
    var path = new URL(address, window.location.href).pathname;
    try {
      socket = new WebSocket((window.location.protocol === "https:" ? "wss:" : "ws:") + "//" + window.location.host + path);
    } catch (e) {
      startPolling();
      return;
    }
    socket.binaryType = "arraybuffer";
    socket.onmessage = function (event) {
      // Heard from the server: the push works, polling is not needed.
      retryMs = 2000;
      if (polling) { clearInterval(polling); polling = null; }
      var data;
      try { data = JSON.parse(new TextDecoder().decode(event.data)); } catch (e) { return; }
      if (data && typeof data.stamp === "string") heard(data.stamp);
    };
    socket.onclose = function () {
      socket = null;
      if (closed) return;
      startPolling();
      window.setTimeout(listen, retryMs);
      retryMs = Math.min(retryMs * 2, 60000);
    };
  }

  if (live.querySelector(".session-state[data-sitting-state=closed]")) return;
  listen();
})();
