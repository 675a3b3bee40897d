// A volunteer's tablet collecting answers (editor/survey/collect.py). Plain script, no build step.
//
// Each respondent's answers are checked for required questions, kept in IndexedDB with a capture
// id, the capture time and a receipt code made here (shown to the respondent at once), and the
// form starts afresh. Kept answers are sent on the `online` event, on "Send now", when the page
// opens with a connection, and after each save with one; a capture leaves IndexedDB only once
// the server said "stored" or "already". The service worker (collect-worker.js) keeps the page
// and its assets so that it opens again with no network.
(function () {
  "use strict";

  var root = document.getElementById("collect");
  if (!root) { return; }
  var texts = JSON.parse(document.getElementById("collect-texts").dataset.texts);
  var surveyId = Number(root.dataset.survey);
  var userId = Number(root.dataset.user);
  var form = document.getElementById("collect-form");
  var sendButton = document.getElementById("collect-send");
  var lastKey = "constituent-collect-last-" + surveyId;
  //: Receipt codes: Crockford base 32, 12 characters (60 bits), as editor.survey.service makes them.
  var ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  //: Captures per request (the server's limit) and a size well under its request limit.
  var MAX_BATCH = 500;
  var MAX_BYTES = 4 * 1024 * 1024;
  var CLEAR_AFTER_MS = 120000;
  //: A connection may come back without an `online` event (the network was up, the server not):
  //: answers still waiting are tried again this often.
  var RETRY_MS = 60000;
  var syncing = false;
  var clearTimer = null;
  var closed = false;

  function $(id) { return document.getElementById(id); }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  function when(iso) {
    var moment = iso ? new Date(iso) : new Date();
    try {
      return new Intl.DateTimeFormat(root.dataset.lang, { dateStyle: "short", timeStyle: "short" }).format(moment);
    } catch (e) {
      return moment.toLocaleString();
    }
  }

  // --- IndexedDB: one store of captures, keyed by capture id -------------------------------------

  var opened = null;

  function database() {
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        var request = window.indexedDB.open("constituent-collect", 1);
        request.onupgradeneeded = function () {
          var store = request.result.createObjectStore("captures", { keyPath: "client_id" });
          store.createIndex("survey", "survey");
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return opened;
  }

  function transact(mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("captures", mode);
        var result = work(tx.objectStore("captures"));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function captures() {
    return transact("readonly", function (store) { return store.index("survey").getAll(surveyId); });
  }

  function keep(capture) {
    return transact("readwrite", function (store) { store.put(capture); });
  }

  function forget(ids) {
    return transact("readwrite", function (store) { ids.forEach(function (id) { store.delete(id); }); });
  }

  function mine(capture) { return capture.collector === userId; }

  // --- the receipt code ----------------------------------------------------------------------

  function newReceiptCode() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    var chars = Array.prototype.map.call(bytes, function (b) { return ALPHABET[b & 31]; }).join("");
    return chars.slice(0, 4) + "-" + chars.slice(4, 8) + "-" + chars.slice(8, 12);
  }

  // --- the form ------------------------------------------------------------------------------

  function answersOf() {
    var answers = {};
    form.querySelectorAll(".survey-question[data-key]").forEach(function (box) {
      var key = box.dataset.key;
      var kind = box.dataset.kind;
      var name = "q-" + key;
      if (kind === "multi") {
        var chosen = Array.prototype.filter.call(box.querySelectorAll("input[type=checkbox]"), function (c) { return c.checked; })
          .map(function (c) { return c.value; });
        if (chosen.length) { answers[key] = chosen; }
      } else if (kind === "place") {
        var borough = form.elements[name + "-borough"].value;
        var neighbourhood = form.elements[name + "-neighbourhood"].value;
        if (borough || neighbourhood) { answers[key] = { borough: borough, neighbourhood: neighbourhood }; }
      } else if (kind === "choice" || kind === "scale") {
        var picked = box.querySelector("input[type=radio]:checked");
        if (picked) { answers[key] = picked.value; }
      } else {
        var field = form.elements[name];
        if (field && field.value.trim()) { answers[key] = field.value.trim(); }
      }
    });
    return answers;
  }

  function missing(answers) {
    var out = [];
    form.querySelectorAll(".survey-question[data-required]").forEach(function (box) {
      var value = answers[box.dataset.key];
      var empty = value === undefined || (box.dataset.kind === "place" && !value.borough);
      if (empty) { out.push(box); }
    });
    return out;
  }

  function clearProblems() {
    form.querySelectorAll(".survey-question.has-problem").forEach(function (box) {
      box.classList.remove("has-problem");
      var note = box.querySelector(".field-error");
      if (note) { note.remove(); }
      box.querySelectorAll("[aria-invalid]").forEach(function (el) {
        el.removeAttribute("aria-invalid");
        el.removeAttribute("aria-describedby");
      });
    });
    $("collect-problem-list").textContent = "";
    $("collect-problems").hidden = true;
  }

  function firstField(box) { return box.querySelector("input, textarea, select"); }

  function questionText(box) {
    var label = box.querySelector(".survey-q");
    var copy = label.cloneNode(true);
    copy.querySelectorAll(".req").forEach(function (r) { r.remove(); });
    return copy.textContent.trim();
  }

  function showProblems(boxes) {
    var list = $("collect-problem-list");
    boxes.forEach(function (box) {
      var id = "q-" + box.dataset.key + "-problem";
      box.classList.add("has-problem");
      var note = document.createElement("p");
      note.className = "field-error";
      note.id = id;
      note.textContent = texts.needsAnswer;
      var label = box.querySelector(".survey-q");
      label.insertAdjacentElement("afterend", note);
      var target = box.querySelector("fieldset") || firstField(box);
      target.setAttribute("aria-invalid", "true");
      target.setAttribute("aria-describedby", id);
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + (firstField(box).id || id);
      link.textContent = questionText(box) + ": " + texts.needsAnswer;
      link.addEventListener("click", function (event) {
        event.preventDefault();
        firstField(box).focus();
      });
      item.appendChild(link);
      list.appendChild(item);
    });
    $("collect-problems").hidden = false;
    $("collect-problems").focus();
  }

  function followBorough(select) {
    var target = document.getElementById(select.id.replace(/-borough$/, "-neighbourhood"));
    if (!target) { return; }
    target.querySelectorAll("option[data-borough]").forEach(function (option) {
      var shown = option.dataset.borough === select.value;
      option.hidden = !shown;
      option.disabled = !shown;
      if (!shown && option.selected) { target.value = ""; }
    });
  }

  function resetForm() {
    form.reset();
    clearProblems();
    form.querySelectorAll("select[id$='-borough']").forEach(followBorough);
  }

  function save(event) {
    event.preventDefault();
    if (closed) { return; }
    clearProblems();
    var answers = answersOf();
    var gaps = missing(answers);
    if (gaps.length) { showProblems(gaps); return; }
    var capture = {
      client_id: window.crypto.randomUUID(),
      survey: surveyId,
      collector: userId,
      captured_at: new Date().toISOString(),
      code: newReceiptCode(),
      answers: answers,
      state: "waiting"
    };
    keep(capture).then(function () {
      resetForm();  // nothing of this person stays in the form
      showReceipt(capture.code);
      render();
      if (navigator.onLine) { sync(); }
    }, function (error) {
      window.alert(String(error));
    });
  }

  function showReceipt(code) {
    $("collect-answering").hidden = true;
    $("collect-status").hidden = true;  // the respondent's screen: their code, first
    $("collect-code").textContent = code;
    $("collect-receipt").hidden = false;
    $("collect-receipt-h").focus();
    window.scrollTo(0, 0);
    clearTimer = window.setTimeout(nextPerson, CLEAR_AFTER_MS);
  }

  function nextPerson() {
    window.clearTimeout(clearTimer);
    $("collect-code").textContent = "";
    $("collect-receipt").hidden = true;
    $("collect-status").hidden = false;
    $("collect-answering").hidden = closed;
    $("collect-heading").focus();
    window.scrollTo(0, 0);
  }

  // --- what the tablet holds -------------------------------------------------------------------

  function render() {
    return captures().then(function (all) {
      var waiting = all.filter(function (c) { return mine(c) && c.state !== "refused"; });
      var refused = all.filter(function (c) { return mine(c) && c.state === "refused"; });
      var others = all.filter(function (c) { return !mine(c); });
      $("collect-waiting").textContent = fill(texts.waiting, { n: waiting.length });
      root.dataset.waiting = String(waiting.length);
      $("collect-others").hidden = others.length === 0;
      $("collect-others").textContent = fill(texts.others, { n: others.length });
      var list = $("collect-list");
      list.textContent = "";
      waiting.concat(refused).forEach(function (capture) {
        var item = document.createElement("li");
        if (capture.state === "refused") {
          var problems = Object.keys(capture.problems || {}).map(function (key) {
            return (key ? key + ": " : "") + capture.problems[key];
          }).join("; ");
          item.className = "collect-refused";
          item.appendChild(document.createTextNode(fill(texts.refusedItem, { time: when(capture.captured_at), problems: problems }) + " "));
          var remove = document.createElement("button");
          remove.type = "button";
          remove.className = "button";
          remove.textContent = texts.remove;
          remove.addEventListener("click", function () {
            if (window.confirm(texts.removeConfirm)) { forget([capture.client_id]).then(render); }
          });
          item.appendChild(remove);
        } else {
          item.textContent = fill(texts.capturedAt, { time: when(capture.captured_at) });
        }
        list.appendChild(item);
      });
      $("collect-details").hidden = waiting.length + refused.length === 0;
    });
  }

  function showConnection() {
    var online = navigator.onLine;
    $("collect-connection").dataset.state = online ? "online" : "offline";
    $("collect-connection-text").textContent = online ? texts.online : texts.offline;
  }

  function showResult(result) {
    $("collect-signin").hidden = !result || result.kind !== "signIn";
    if (!result || !texts[result.kind]) { return; }
    var last = $("collect-last");
    last.dataset.kind = result.kind;
    last.dataset.stored = String(result.stored || 0);
    last.dataset.already = String(result.already || 0);
    last.dataset.refused = String(result.refused || 0);
    last.textContent = fill(texts[result.kind], {
      time: when(result.at), stored: result.stored || 0, already: result.already || 0, refused: result.refused || 0
    });
  }

  function remember(result) {
    result.at = new Date().toISOString();
    try { window.localStorage.setItem(lastKey, JSON.stringify(result)); } catch (e) { /* storage off: shown only now */ }
    showResult(result);
  }

  function lastResult() {
    try { return JSON.parse(window.localStorage.getItem(lastKey) || "null"); } catch (e) { return null; }
  }

  function showClosed(isClosed) {
    closed = isClosed;
    $("collect-closed").hidden = !isClosed;
    $("collect-closed").textContent = isClosed ? texts.closed : "";
    if (isClosed) { $("collect-answering").hidden = true; }
  }

  // --- sending -------------------------------------------------------------------------------

  function failure(status) {
    var error = new Error("HTTP " + status);
    error.status = status;
    return error;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw failure(response.status); }
        return response.json();
      });
  }

  function batches(items) {
    var out = [];
    var current = [];
    var bytes = 0;
    items.forEach(function (item) {
      var size = JSON.stringify(item).length;
      if (current.length && (current.length >= MAX_BATCH || bytes + size > MAX_BYTES)) {
        out.push(current);
        current = [];
        bytes = 0;
      }
      current.push(item);
      bytes += size;
    });
    if (current.length) { out.push(current); }
    return out;
  }

  function wire(capture) {
    return { client_id: capture.client_id, captured_at: capture.captured_at, code: capture.code, answers: capture.answers };
  }

  function sendBatch(batch, token, totals) {
    return fetch(root.dataset.sync, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ responses: batch.map(wire) })
    }).then(function (response) {
      if (!response.ok) { throw failure(response.status); }
      return response.json();
    }).then(function (answer) {
      var byId = {};
      batch.forEach(function (capture) { byId[capture.client_id] = capture; });
      var done = [];
      var refused = [];
      answer.results.forEach(function (result) {
        var capture = byId[result.client_id];
        if (!capture) { return; }
        if (result.status === "stored" || result.status === "already") {
          done.push(capture.client_id);
        } else if (result.status === "refused") {
          capture.state = "refused";
          capture.problems = result.problems || {};
          refused.push(capture);
        }
        totals[result.status] = (totals[result.status] || 0) + 1;
      });
      return forget(done).then(function () { return Promise.all(refused.map(keep)); });
    });
  }

  function sync() {
    if (syncing) { return Promise.resolve(); }
    syncing = true;
    sendButton.disabled = true;
    $("collect-last").textContent = texts.sending;
    $("collect-last").dataset.kind = "sending";
    var totals = { stored: 0, already: 0, refused: 0 };
    return captures().then(function (all) {
      var waiting = all.filter(function (c) { return mine(c) && c.state !== "refused"; });
      if (!waiting.length) { remember({ kind: "nothingToSend" }); return null; }
      return getJSON(root.dataset.sync).then(function (state) {
        showClosed(state.status !== "open");
        return batches(waiting).reduce(function (chain, batch) {
          return chain.then(function () { return sendBatch(batch, state.csrf_token, totals); });
        }, Promise.resolve());
      }).then(function () {
        remember({ kind: "sent", stored: totals.stored, already: totals.already, refused: totals.refused });
      });
    }).catch(function (error) {
      var kinds = { 401: "signIn", 403: "forbidden", 404: "gone" };
      remember({ kind: error.status ? (kinds[error.status] || "failed") : "noConnection" });
    }).then(function () {
      syncing = false;
      sendButton.disabled = false;
      showConnection();
      return render();
    });
  }

  // --- working offline -------------------------------------------------------------------------

  function setUpWorker() {
    if (!("serviceWorker" in navigator) || !window.indexedDB || !window.crypto || !window.crypto.randomUUID) {
      $("collect-ready").textContent = texts.unsupported;
      return;
    }
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persist().catch(function () { /* the browser decides */ });
    }
    navigator.serviceWorker.register(root.dataset.worker, { scope: root.dataset.page })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function () {
        $("collect-ready").textContent = texts.ready;
        root.dataset.offlineReady = "true";
      })
      .catch(function (error) { $("collect-ready").textContent = texts.notReady + " (" + error + ")"; });
  }

  form.addEventListener("submit", save);
  form.querySelectorAll("select[id$='-borough']").forEach(function (select) {
    followBorough(select);
    select.addEventListener("change", function () { followBorough(select); });
  });
  $("collect-next").addEventListener("click", nextPerson);
  sendButton.addEventListener("click", function () { sync(); });
  window.addEventListener("online", function () { showConnection(); sync(); });
  window.addEventListener("offline", showConnection);
  window.setInterval(function () {
    if (navigator.onLine && !syncing && Number(root.dataset.waiting) > 0) { sync(); }
  }, RETRY_MS);
  $("collect-save").disabled = false;
  showConnection();
  showResult(lastResult());
  setUpWorker();
  render().then(function () {
    if (!navigator.onLine) { return null; }
    if (Number(root.dataset.waiting) > 0) { return sync(); }
    // A copy kept by the service worker may outlive the questionnaire's opening: ask.
    return getJSON(root.dataset.sync).then(function (state) { showClosed(state.status !== "open"); },
                                            function () { /* said at the next sync */ });
  }, function (error) {
    $("collect-ready").textContent = texts.unsupported + " (" + error + ")";
  });
}());
