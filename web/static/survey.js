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

  function answeredCount(form) {
    var n = 0;
    form.querySelectorAll(".survey-question").forEach(function (box) {
      var done = false;
      box.querySelectorAll("input, textarea, select").forEach(function (field) {
        if ((field.type === "radio" || field.type === "checkbox") ? field.checked : field.value.trim() !== "") { done = true; }
      });
      if (done) { n += 1; }
    });
    return n;
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

  function setUpForm(form) {
    var id = form.dataset.survey;
    var keep = form.dataset.store === "local";
    var hasProblems = document.getElementById("survey-problems") !== null;
    if (!keep) { forget(id); }
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
      if (sending || !(window.crypto && window.crypto.subtle)) { return; }
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
