/* Small page behaviour, served locally (the CSP allows scripts from 'self' only, no inline code).
   1. data-confirm lives in js/confirm.js, loaded in <head> so that no early click goes unasked.
   2. Tables scroll inside themselves: every table of the content is wrapped in .table-responsive.
   3. Text fields show how many characters are left of their maximum, and never cut what is pasted.
   4. data-auto-refresh="N" anywhere on a page reloads it every N seconds while a job runs.
   5. Organisation pickers (templates/_org_tree.html): a search over the names (with the municipality) and
      «все в группе», which ticks the group's visible choices.
   6. File fields say «Выберите файл» / «Файл не выбран» whatever the browser's own language. */
(function () {
  "use strict";

  // --- 2. tables that scroll inside themselves ----------------------------------------------------
  function wrapTables() {
    document.querySelectorAll("main table").forEach(function (table) {
      if (table.closest(".table-responsive") || table.closest(".no-wrap-table")) return;
      var wrapper = document.createElement("div");
      wrapper.className = "table-responsive";
      table.parentNode.insertBefore(wrapper, table);
      wrapper.appendChild(table);
    });
  }

  // A cell wraps at word boundaries only (static/css/screens.css), so one unbroken «word» of 32 letters (a name typed
  // without spaces, a long file name) made its column as wide as itself and squeezed the dates and states beside it
  // into slivers. Only such a word is put in a span that may break anywhere; the words around it stay whole.
  var UNBROKEN = /[^\s\u00ad\u200b-]{32,}/g;
  function breakLongWords() {
    document.querySelectorAll("main .table-responsive td").forEach(function (cell) {
      if (!/[^\s\u00ad\u200b-]{32,}/.test(cell.textContent)) return;
      var walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      var nodes = [];
      while (walker.nextNode()) nodes.push(walker.currentNode);
      nodes.forEach(function (node) {
        var text = node.nodeValue;
        UNBROKEN.lastIndex = 0;
        if (!UNBROKEN.test(text) || node.parentNode.closest(".break-long, .break-anywhere")) return;
        var fragment = document.createDocumentFragment();
        var last = 0;
        text.replace(UNBROKEN, function (word, at) {
          if (at > last) fragment.appendChild(document.createTextNode(text.slice(last, at)));
          var span = document.createElement("span");
          span.className = "break-long";
          span.textContent = word;
          fragment.appendChild(span);
          last = at + word.length;
          return word;
        });
        if (last < text.length) fragment.appendChild(document.createTextNode(text.slice(last)));
        node.parentNode.replaceChild(fragment, node);
      });
    });
  }

  // --- 3. limits: shown, never cut ---------------------------------------------------------------
  // The server's maximum arrives as maxlength. A browser silently cuts pasted text at maxlength, so the
  // attribute becomes a counter instead: the text stays whole, the field says how much is over, the form
  // is refused in Russian (by the browser here, by the server in any case).
  var LONG = 300;
  function addCounters() {
    document.querySelectorAll("textarea[maxlength], input[maxlength]").forEach(function (field) {
      if (field.dataset.maxlength) return;
      var max = parseInt(field.getAttribute("maxlength"), 10);
      if (!max) return;
      field.dataset.maxlength = String(max);
      field.removeAttribute("maxlength");
      var counter = document.createElement("div");
      counter.className = "form-text field-counter";
      if (!field.id) field.id = "field-" + Math.random().toString(36).slice(2);
      counter.id = field.id + "-counter";
      var described = field.getAttribute("aria-describedby");
      field.setAttribute("aria-describedby", (described ? described + " " : "") + counter.id);
      var always = field.tagName === "TEXTAREA" || max >= LONG;
      // A field the server refused («Обязательное поле.») keeps its red mark until it is edited: the counter
      // must not clear a mark it did not set.
      var refused = field.classList.contains("is-invalid");
      field.addEventListener("input", function () { refused = false; });
      function update() {
        var length = field.value.length, left = max - length;
        var over = left < 0;
        counter.textContent = over
          ? "Слишком длинно: " + length.toLocaleString("ru-RU") + " знаков при допустимых " + max.toLocaleString("ru-RU") + " — сократите на " + (-left).toLocaleString("ru-RU") + "."
          : "Осталось знаков: " + left.toLocaleString("ru-RU") + " из " + max.toLocaleString("ru-RU") + ".";
        counter.classList.toggle("text-danger-emphasis", over);
        counter.classList.toggle("fw-semibold", over);
        counter.hidden = !always && left > max * 0.1;
        field.setCustomValidity(over ? counter.textContent : "");
        field.classList.toggle("is-invalid", over || refused);
      }
      field.addEventListener("input", update);
      update();
      field.insertAdjacentElement("afterend", counter);
    });
  }

  // --- 4. pages that follow a running job -----------------------------------------------------
  function autoRefresh() {
    var el = document.querySelector("[data-auto-refresh]");
    if (!el) return;
    var seconds = Math.max(1, parseInt(el.getAttribute("data-auto-refresh"), 10) || 3);
    window.setTimeout(function () {
      var active = document.activeElement;
      var typing = active && (active.tagName === "TEXTAREA" || (active.tagName === "INPUT" && active.type !== "submit"));
      if (typing || document.querySelector(".modal.show")) { autoRefresh(); return; }
      window.location.reload();
    }, seconds * 1000);
  }

  // --- 5. organisation pickers ----------------------------------------------------------------
  function orgTrees() {
    document.querySelectorAll("[data-org-tree]").forEach(function (tree) {
      tree.querySelectorAll("[data-org-tools]").forEach(function (el) { el.hidden = false; });
      var search = tree.querySelector("[data-org-search]");
      var found = tree.querySelector("[data-org-found]");
      function filter() {
        var words = (search.value || "").toLowerCase().split(/\s+/).filter(Boolean);
        var shown = 0;
        tree.querySelectorAll("[data-org-group]").forEach(function (group) {
          var any = false;
          group.querySelectorAll("[data-org-choice]").forEach(function (choice) {
            var text = choice.getAttribute("data-search");
            var match = words.every(function (w) { return text.indexOf(w) !== -1; });
            choice.hidden = !match;
            if (match) { any = true; shown += 1; }
          });
          group.hidden = !any;
        });
        if (found) found.textContent = words.length ? (shown ? "Найдено: " + shown + "." : "Ничего не найдено.") : "";
      }
      if (search) {
        search.addEventListener("input", filter);
        search.addEventListener("keydown", function (event) { if (event.key === "Enter") event.preventDefault(); });
      }
      tree.querySelectorAll("[data-org-group-toggle]").forEach(function (toggle) {
        toggle.addEventListener("change", function () {
          var group = toggle.closest("[data-org-group]");
          group.querySelectorAll("[data-org-choice]").forEach(function (choice) {
            if (!choice.hidden) choice.querySelector("input").checked = toggle.checked;
          });
        });
      });
    });
  }

  // --- 3a. a field the server refused says so to a screen reader too: aria-invalid, and its message as its
  // description (Bootstrap-Flask prints the message beside the field without tying the two).
  // A refused form came back as a new page and said nothing to a screen reader, with the focus at the top of the
  // page: the title now begins with «Ошибка:» and the first refused field takes the focus (a mark the page shows
  // as advice on opening, data-advice, is no refusal).
  function describeErrors() {
    var refused = [];
    document.querySelectorAll("main .is-invalid").forEach(function (field) {
      var box = field.closest(".mb-3, .form-group, .col, [class*='col-']") || field.parentNode;
      var feedback = box.querySelector(".invalid-feedback");
      if (!feedback) return;
      if (!feedback.hasAttribute("data-advice")) refused.push(field);
      if (!feedback.id) feedback.id = (field.id || "field-" + Math.random().toString(36).slice(2)) + "-error";
      field.setAttribute("aria-invalid", "true");
      var described = field.getAttribute("aria-describedby") || "";
      if ((" " + described + " ").indexOf(" " + feedback.id + " ") < 0) {
        field.setAttribute("aria-describedby", (feedback.id + " " + described).trim());
      }
    });
    if (!refused.length) return;
    if (document.title.indexOf("Ошибка: ") !== 0) document.title = "Ошибка: " + document.title;
    var active = document.activeElement;
    if (!window.location.hash && (!active || active === document.body)) refused[0].focus();
  }

  // --- 6. file fields in Russian: the browser draws its own button and «no file» text in the language of its
  // interface (an English browser said «Choose File» / «No file chosen» on a Russian page). The field stays in
  // place for the keyboard, screen readers and the form; a label drawn as a button opens it, a line says the name.
  function filePickers() {
    document.querySelectorAll("main input[type=file]").forEach(function (input) {
      if (input.dataset.picker) return;
      input.dataset.picker = "1";
      if (!input.id) input.id = "file-" + Math.random().toString(36).slice(2);
      var box = document.createElement("div");
      box.className = "file-picker input-group" + (input.classList.contains("form-control-sm") ? " input-group-sm" : "");
      var button = document.createElement("label");
      button.className = "btn btn-outline-secondary";
      button.htmlFor = input.id;
      button.setAttribute("aria-hidden", "true");
      button.textContent = "Выберите файл";
      var name = document.createElement("span");
      name.className = "form-control file-picker-name text-truncate";
      name.setAttribute("aria-hidden", "true");
      function show() {
        var files = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
        name.textContent = files.length ? files.join(", ") : (input.multiple ? "Файлы не выбраны" : "Файл не выбран");
      }
      input.parentNode.insertBefore(box, input);
      box.appendChild(input);
      box.appendChild(button);
      box.appendChild(name);
      input.classList.add("file-picker-input");
      input.addEventListener("change", show);
      show();
    });
  }

  function ready() { wrapTables(); breakLongWords(); describeErrors(); addCounters(); filePickers(); autoRefresh(); orgTrees(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready); else ready();
})();
