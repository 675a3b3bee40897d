// The amendment form's unit picker (amendments/write.html): the <select multiple> of every unit of
// the text (1,600 on a constitution) becomes a filter box over a listbox, the chosen units shown as
// removable chips. The select stays in the form, hidden, and is what is submitted; without this
// script it is the picker. Plain script, no build step. The words come from the select's data-*.
//
// Keyboard: type in the filter (number or heading, accents optional); Enter chooses the first unit
// shown (or the one last moved to), ArrowDown goes into the list. In the list: arrows, Home and End move, Enter or Space
// choose or unchoose, Escape (or ArrowUp on the first unit) goes back to the filter.
(function () {
  "use strict";

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/\u00a0/g, " ").toLowerCase().replace(/\s+/g, " ").trim();
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function enhance(select) {
    var d = select.dataset;
    var form = select.form;
    var label = document.querySelector("label[for='" + select.id + "']");
    var options = Array.prototype.slice.call(select.options);
    var items = [];

    var picker = el("div", { "class": "unit-picker" });
    var chipsTitle = el("p", { id: "unit-picker-chosen", "class": "unit-picker-title" }, d.chosenLabel);
    var chips = el("ul", { "class": "unit-picker-chips", "aria-labelledby": "unit-picker-chosen" });
    var none = el("p", { "class": "unit-picker-none" }, d.none);
    var filterLabel = el("label", { "for": "unit-filter" }, d.filterLabel);
    var filter = el("input", { type: "search", id: "unit-filter", autocomplete: "off", spellcheck: "false",
      "aria-controls": "unit-listbox", "aria-describedby": "unit-picker-count" });
    var count = el("p", { id: "unit-picker-count", "class": "unit-picker-count", "aria-live": "polite" });
    var list = el("ul", { id: "unit-listbox", role: "listbox", "aria-multiselectable": "true", tabindex: "0",
      "aria-label": d.listLabel, "class": "unit-picker-list" });
    var said = el("p", { "class": "visually-hidden", role: "status", "aria-live": "polite" });
    var problem = el("p", { "class": "field-error", role: "alert" });
    problem.hidden = true;
    var empty = el("li", { "class": "empty", role: "option", "aria-disabled": "true", "aria-selected": "false" }, d.empty);
    empty.hidden = true;
    filter.className = "unit-picker-filter";

    var name = function (option) { return option.textContent.replace(/^[\s\u00a0]+/, ""); };

    options.forEach(function (option, i) {
      var item = el("li", { role: "option", id: "unit-option-" + i, "aria-selected": option.selected ? "true" : "false" });
      var depth = Math.min(Number(option.dataset.depth || 0), 6);
      item.style.paddingLeft = (0.6 + depth * 0.8) + "rem";
      item.append(el("span", { "class": "unit-picker-check", "aria-hidden": "true" }, option.selected ? "✓" : ""),
        el("span", {}, name(option)));
      item.dataset.index = String(i);
      items.push({ item: item, option: option, key: fold(name(option)) });
      list.append(item);
    });
    list.append(empty);

    var visible = function () { return items.filter(function (x) { return !x.item.hidden; }); };
    var active = null;

    function setActive(entry, scroll) {
      if (active) { active.item.classList.remove("active"); }
      active = entry;
      if (entry) {
        entry.item.classList.add("active");
        list.setAttribute("aria-activedescendant", entry.item.id);
        if (scroll !== false) { entry.item.scrollIntoView({ block: "nearest" }); }
      } else {
        list.removeAttribute("aria-activedescendant");
      }
    }

    function renderChips() {
      chips.replaceChildren();
      items.forEach(function (x) {
        if (!x.option.selected) { return; }
        var text = name(x.option);
        var remove = el("button", { type: "button", "aria-label": d.remove.replace("{unit}", text), "data-index": x.item.dataset.index }, "×");
        var chip = el("li", {});
        chip.append(el("span", {}, text), remove);
        chips.append(chip);
      });
      none.hidden = chips.children.length > 0;
    }

    function toggle(entry) {
      entry.option.selected = !entry.option.selected;
      entry.item.setAttribute("aria-selected", entry.option.selected ? "true" : "false");
      entry.item.firstChild.textContent = entry.option.selected ? "✓" : "";
      said.textContent = (entry.option.selected ? d.added : d.removed).replace("{unit}", name(entry.option));
      problem.hidden = true;
      renderChips();
    }

    function applyFilter() {
      // A number matches as a whole number: "articulo 1" finds Artículo 1, not Artículo 10.
      var words = fold(filter.value).split(" ").filter(Boolean).map(function (w) {
        return /^\d+$/.test(w) ? new RegExp("(^|\\D)" + w + "(?!\\d)") : w;
      });
      var shown = 0;
      items.forEach(function (x) {
        var match = words.every(function (w) { return typeof w === "string" ? x.key.indexOf(w) !== -1 : w.test(x.key); });
        x.item.hidden = !match;
        if (match) { shown += 1; }
      });
      empty.hidden = shown > 0;
      count.textContent = d.shown.replace("{shown}", shown).replace("{total}", items.length);
      if (active && active.item.hidden) { setActive(null); }
    }

    filter.addEventListener("input", applyFilter);
    filter.addEventListener("keydown", function (event) {
      var shown = visible();
      if (event.key === "ArrowDown" && shown.length) {
        event.preventDefault();
        list.focus();
        setActive(active && !active.item.hidden ? active : shown[0]);
      } else if (event.key === "Enter") {
        event.preventDefault(); // choosing, not sending the form
        if (active && !active.item.hidden) { toggle(active); } else if (filter.value.trim() && shown.length) { toggle(shown[0]); }
      }
    });

    list.addEventListener("focus", function () {
      if (!active || active.item.hidden) { setActive(visible()[0] || null); }
    });
    list.addEventListener("keydown", function (event) {
      var shown = visible();
      var at = active ? shown.indexOf(active) : -1;
      var page = 8;
      var go = function (i) { event.preventDefault(); if (shown.length) { setActive(shown[Math.max(0, Math.min(shown.length - 1, i))]); } };
      switch (event.key) {
        case "ArrowDown": go(at + 1); break;
        case "ArrowUp":
          if (at <= 0) { event.preventDefault(); filter.focus(); } else { go(at - 1); }
          break;
        case "PageDown": go(at + page); break;
        case "PageUp": go(at - page); break;
        case "Home": go(0); break;
        case "End": go(shown.length - 1); break;
        case "Enter":
        case " ":
          event.preventDefault();
          if (active) { toggle(active); }
          break;
        case "Escape": event.preventDefault(); filter.focus(); break;
        default:
          if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
            filter.focus(); // typing goes on in the filter
          }
      }
    });
    list.addEventListener("click", function (event) {
      var item = event.target.closest("li[data-index]");
      if (!item) { return; }
      var entry = items[Number(item.dataset.index)];
      setActive(entry, false);
      toggle(entry);
    });
    chips.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-index]");
      if (!button) { return; }
      var position = Array.prototype.indexOf.call(chips.children, button.parentNode);
      toggle(items[Number(button.dataset.index)]);
      var next = chips.children[Math.min(position, chips.children.length - 1)];
      (next ? next.querySelector("button") : filter).focus();
    });
    if (form) {
      form.addEventListener("submit", function (event) {
        if (select.selectedOptions.length) { return; }
        event.preventDefault();
        problem.textContent = d.required;
        problem.hidden = false;
        filter.focus();
      });
    }

    picker.append(chipsTitle, chips, none, filterLabel, filter, count, list, problem, said);
    select.required = false;
    select.hidden = true;
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    if (label) { label.hidden = true; }
    select.after(picker);
    renderChips();
    applyFilter();
  }

  function start() {
    var select = document.querySelector("select.unit-select");
    if (select && "normalize" in String.prototype) { enhance(select); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
