// Answering a questionnaire (web page and kiosk), the receipt shown after it, and the receipt
// lookup page. Plain script, no build step: the pages work without it (answers are then sent
// without the challenge's work and marked for analysts), it adds progress, answers kept across a
// reload (not at kiosks), the neighbourhood list following the borough, and the proof of work.
(function () {
  "use strict";

  function storageKey(id) { return "constituent-survey-" + id; }

  function forget(id) {
    try { window.localStorage.removeItem(storageKey(id)); } catch (e) { /* storage off */ }
  }

  function answered(box) {
    var done = false;
    box.querySelectorAll("input, textarea, select").forEach(function (field) {
      if ((field.type === "radio" || field.type === "checkbox") ? field.checked : field.value.trim() !== "") { done = true; }
    });
    return done;
  }

  function answeredCount(form) {
    return Array.prototype.filter.call(form.querySelectorAll(".survey-question"), answered).length;
  }

  /** The required questions left unanswered, marked (what the server would refuse). */
  function unanswered(form) {
    var missing = [];
    form.querySelectorAll(".survey-question[data-required]").forEach(function (box) {
      box.classList.toggle("has-problem", !answered(box));
      if (!answered(box)) { missing.push(box); }
    });
    return missing;
  }

  function showProgress(form) {
    var bar = document.getElementById("survey-progress");
    var text = document.getElementById("survey-progress-text");
    if (!bar) { return; }
    var done = answeredCount(form);
    bar.value = done;
    text.textContent = form.dataset.progress.replace("{done}", done).replace("{total}", bar.max);
  }

  function snapshot(form) {
    var data = {};
    form.querySelectorAll("[name^='q-']").forEach(function (field) {
      if (field.type === "radio" || field.type === "checkbox") {
        if (field.checked) { (data[field.name] = data[field.name] || []).push(field.value); }
      } else if (field.value !== "") {
        data[field.name] = [field.value];
      }
    });
    return data;
  }

  function restore(form, data) {
    form.querySelectorAll("[name^='q-']").forEach(function (field) {
      var values = data[field.name];
      if (!values) { return; }
      if (field.type === "radio" || field.type === "checkbox") { field.checked = values.indexOf(field.value) !== -1; }
      else { field.value = values[0]; }
    });
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

  function zeroBits(bytes) {
    var bits = 0;
    for (var i = 0; i < bytes.length; i += 1) {
      if (bytes[i] === 0) { bits += 8; continue; }
      var b = bytes[i];
      while ((b & 0x80) === 0) { bits += 1; b <<= 1; }
      return bits;
    }
    return bits;
  }

  async function work(challenge) {
    var bits = parseInt(challenge.split(".")[3], 10);
    var encoder = new TextEncoder();
    for (var n = 0; n < 50000000; n += 1) {
      var digest = await window.crypto.subtle.digest("SHA-256", encoder.encode(challenge + ":" + n));
      if (zeroBits(new Uint8Array(digest)) >= bits) { return String(n); }
    }
    return "";
  }

  // --- kiosks: answers survive the network going away -------------------------------------------
  // Each respondent's answers carry a capture id and the receipt code this page made, so sending
  // them again (after the network came back) stores them once. When sending fails, the answers
  // wait in this page's memory only (never in the browser's storage: the next person must find
  // nothing), the respondent gets their code at once, and the page sends them when it can.

  var CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

  function newCode() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    var chars = Array.prototype.map.call(bytes, function (b) { return CODE_ALPHABET[b & 31]; }).join("");
    return chars.slice(0, 4) + "-" + chars.slice(4, 8) + "-" + chars.slice(8, 12);
  }

  function newCapture(form) {
    form.elements.client_id.value = window.crypto.randomUUID ? window.crypto.randomUUID()
      : String(Date.now()) + "-" + newCode();
    form.elements.code.value = newCode();
  }

  function setUpKiosk(form) {
    var waiting = [];
    var banner = document.getElementById("kiosk-waiting");
    var receipt = document.getElementById("kiosk-offline-receipt");
    var sending = false;

    function showWaiting() {
      banner.hidden = waiting.length === 0;
      banner.textContent = banner.dataset.text.replace("{n}", waiting.length);
    }

    function post(body) {
      return window.fetch(form.action, { method: "POST", body: body, credentials: "same-origin", redirect: "manual" });
    }

    function flush() {
      if (sending || waiting.length === 0) { return; }
      sending = true;
      post(waiting[0]).then(function (response) {
        sending = false;
        // Stored (303 to the receipt), or refused for good (the page is still readable): either
        // way it leaves the queue; a network failure keeps it for the next try.
        waiting.shift();
        showWaiting();
        if (response.type === "opaqueredirect") { window.fetch("/kiosk/done", { credentials: "same-origin", redirect: "manual" }); }
        flush();
      }, function () { sending = false; });
    }

    newCapture(form);
    window.addEventListener("online", flush);
    window.setInterval(flush, 15000);
    window.addEventListener("beforeunload", function (event) {
      if (waiting.length) { event.preventDefault(); event.returnValue = ""; }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = new FormData(form);
      post(body).then(function (response) {
        if (response.type === "opaqueredirect") {
          window.location.replace("/kiosk/done");
        } else {
          form.submit();  // refused answers: the page shows why, as without this script
        }
      }, function () {
        var missing = unanswered(form);
        var note = document.getElementById("kiosk-missing");
        note.hidden = missing.length === 0;
        if (missing.length) {  // the server would refuse them: say so now, not after the person left
          note.focus();
          return;
        }
        waiting.push(body);
        showWaiting();
        document.getElementById("kiosk-offline-code").textContent = form.elements.code.value;
        form.hidden = true;
        receipt.hidden = false;
        receipt.focus();
      });
    });

    document.getElementById("kiosk-offline-next").addEventListener("click", function () {
      form.reset();
      form.querySelectorAll(".has-problem").forEach(function (box) { box.classList.remove("has-problem"); });
      document.getElementById("kiosk-missing").hidden = true;
      form.querySelectorAll("select[id$='-borough']").forEach(followBorough);
      newCapture(form);
      receipt.hidden = true;
      form.hidden = false;
      document.getElementById("kiosk-offline-code").textContent = "";
      showProgress(form);
      window.scrollTo(0, 0);
    });
  }

  function setUpForm(form) {
    var id = form.dataset.survey;
    var keep = form.dataset.store === "local";
    var hasProblems = document.getElementById("survey-problems") !== null;
    if (!keep) { forget(id); }
    if (form.elements.client_id) { setUpKiosk(form); }
    if (keep && !hasProblems) {
      try {
        var saved = window.localStorage.getItem(storageKey(id));
        if (saved) { restore(form, JSON.parse(saved)); }
      } catch (e) { /* unreadable: start empty */ }
    }
    if (keep) { document.getElementById("survey-saved").hidden = false; }
    form.querySelectorAll("select[id$='-borough']").forEach(function (select) {
      followBorough(select);
      select.addEventListener("change", function () { followBorough(select); });
    });
    showProgress(form);
    form.addEventListener("input", function () {
      showProgress(form);
      if (keep) {
        try { window.localStorage.setItem(storageKey(id), JSON.stringify(snapshot(form))); } catch (e) { /* full */ }
      }
    });
    form.addEventListener("change", function () { form.dispatchEvent(new Event("input")); });
    var sending = false;
    form.addEventListener("submit", function (event) {
      if (form.elements.client_id || sending || !(window.crypto && window.crypto.subtle)) { return; }
      event.preventDefault();
      sending = true;
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      var label = button.textContent;
      button.textContent = form.dataset.working;
      work(form.elements.challenge.value).then(function (found) {
        form.elements.work.value = found;
        button.textContent = label;
        form.submit();
      });
    });
    var problems = document.getElementById("survey-problems");
    if (problems) { problems.focus(); }
  }

  function setUpThanks(page) {
    forget(page.dataset.forget);
    var next = document.getElementById("kiosk-next");
    if (next) {
      // The kiosk: nothing to go back to, and the screen clears itself.
      window.history.replaceState(null, "", next.href);
      window.setTimeout(function () { window.location.replace(next.href); }, 120000);
    }
    var print = page.querySelector("[data-print]");
    if (print) { print.addEventListener("click", function () { window.print(); }); }
  }

  function setUpReceiptLookup(field) {
    // A QR code leads to /receipt#CODE: the code fills the field and leaves the address bar (it is
    // never sent in a URL).
    var code = decodeURIComponent(window.location.hash.slice(1));
    if (code && /^[0-9A-Za-z-]{12,20}$/.test(code)) {
      field.value = code;
      window.history.replaceState(null, "", window.location.pathname);
    }
  }

  var form = document.getElementById("survey-form");
  if (form) { setUpForm(form); }
  var thanks = document.querySelector(".survey-thanks");
  if (thanks) { setUpThanks(thanks); }
  var receipt = document.querySelector(".survey-receipt-form #code");
  if (receipt) { setUpReceiptLookup(receipt); }
}());
