/* Date fields in Russian whatever the browser's own language.
   A browser draws <input type="date"> in the language of its interface: an English browser showed «mm/dd/yyyy»
   and an English calendar on a Russian page, and read a typed «06.12.2026» as nothing. Each date field becomes a
   text field read as ДД.ММ.ГГГГ with a Russian calendar (air-datepicker, served locally: vendor/air-datepicker).
   The server reads ДД.ММ.ГГГГ and ISO alike (app/core/forms.py DATE_FORMATS, parse_day) and refuses anything
   else in Russian, so a page without this script, or a value typed by hand, still works. */
(function () {
  "use strict";

  var RU = {
    days: ["Воскресенье", "Понедельник", "Вторник", "Среда", "Четверг", "Пятница", "Суббота"],
    daysShort: ["Вс", "Пн", "Вт", "Ср", "Чт", "Пт", "Сб"],
    daysMin: ["Вс", "Пн", "Вт", "Ср", "Чт", "Пт", "Сб"],
    months: ["Январь", "Февраль", "Март", "Апрель", "Май", "Июнь", "Июль", "Август", "Сентябрь", "Октябрь",
             "Ноябрь", "Декабрь"],
    monthsShort: ["Янв", "Фев", "Мар", "Апр", "Май", "Июн", "Июл", "Авг", "Сен", "Окт", "Ноя", "Дек"],
    today: "Сегодня",
    clear: "Очистить",
    dateFormat: "dd.MM.yyyy",
    timeFormat: "HH:mm",
    firstDay: 1
  };
  var ISO = /^(\d{4})-(\d{2})-(\d{2})$/;
  var TYPED = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;

  function two(n) { return (n < 10 ? "0" : "") + n; }

  // A calendar date (local midnight) from y, m, d, or null when there is no such day (31.02).
  function day(y, m, d) {
    var date = new Date(y, m - 1, d);
    return date.getFullYear() === y && date.getMonth() === m - 1 && date.getDate() === d ? date : null;
  }

  function fromIso(text) {
    var m = ISO.exec(text || "");
    return m ? day(+m[1], +m[2], +m[3]) : null;
  }

  // ДД.ММ.ГГГГ (a day or month of one digit too), or ISO as some people type it: the server reads both.
  function fromTyped(text) {
    var m = TYPED.exec((text || "").trim());
    return m ? day(+m[3], +m[2], +m[1]) : fromIso((text || "").trim());
  }

  function shown(date) { return two(date.getDate()) + "." + two(date.getMonth() + 1) + "." + date.getFullYear(); }

  // Where the calendar opens. Below the field («bottom left», the library's way) it covered what comes next, the
  // form's button: at 1366 px «Открыть цикл» lay under the open calendar of «Срок первого этапа». Of the places
  // beside, below and above the field, it takes the one that covers the fewest of the form's own controls (a
  // button counts most: it is what the user goes on to), on screen before off it; a tie goes in that order.
  var GAP = 8;
  function covered(field, box, calendar) {
    var form = field.form, hits = new Set(), score = 0;
    if (!form) return 0;
    // Probes every 30 px or so: a row of buttons (38 px high) cannot fall between two of them.
    for (var i = 0; i <= 8; i++) {
      for (var j = 0; j <= 10; j++) {
        var x = box.left + box.width * i / 8, y = box.top + box.height * j / 10;
        var hit = document.elementFromPoint(Math.min(x, window.innerWidth - 1), Math.min(y, window.innerHeight - 1));
        var control = hit && hit.closest("input, select, textarea, button, label");
        if (!control || control === field || calendar.contains(control) || hits.has(control)) continue;
        if (control.form !== form && !(control.tagName === "LABEL" && form.contains(control))) continue;
        hits.add(control);
        score += control.type === "submit" ? 10 : 1;
      }
    }
    return score;
  }

  function place(where) {
    var field = where.$target, calendar = where.$datepicker;
    if (where.isViewChange && calendar.style.left) return;  // another month shown: the calendar stays put
    var rect = field.getBoundingClientRect();
    var width = calendar.offsetWidth, height = calendar.offsetHeight;
    var low = rect.top + height > window.innerHeight && rect.bottom >= height;  // level with the field, upwards
    var places = [
      {left: rect.right + GAP, top: low ? rect.bottom - height : rect.top},
      {left: rect.left, top: rect.bottom + GAP},
      {left: rect.left, top: rect.top - GAP - height}
    ];
    var best = null;
    calendar.style.pointerEvents = "none";  // the probes must see the page under it, not the calendar itself
    places.forEach(function (box) {
      box.width = width;
      box.height = height;
      var shown = box.left >= 0 && box.top >= 0 && box.left + width <= document.documentElement.clientWidth &&
                  box.top + height <= window.innerHeight;
      box.score = covered(field, box, calendar) + (shown ? 0 : 100);
      if (!best || box.score < best.score) best = box;
    });
    calendar.style.pointerEvents = "";
    calendar.style.left = (best.left + window.scrollX) + "px";
    calendar.style.top = (best.top + window.scrollY) + "px";
  }

  function enhance(input) {
    if (input.dataset.dateField) return;
    input.dataset.dateField = "1";
    // A refused «31.02.2027» comes back in the value attribute, but a date field keeps only a valid ISO date as its
    // value: read from the field, it was gone, and the page said «Введите корректную дату» over an empty field.
    var sent = input.getAttribute("value") || "";
    var value = fromIso(input.value) || fromTyped(sent);
    var min = fromIso(input.getAttribute("min")), max = fromIso(input.getAttribute("max"));
    input.type = "text";
    input.removeAttribute("min");
    input.removeAttribute("max");
    input.setAttribute("inputmode", "numeric");
    input.setAttribute("autocomplete", "off");
    if (!input.getAttribute("placeholder")) input.setAttribute("placeholder", "ДД.ММ.ГГГГ");
    if (value) input.value = shown(value);
    else if (sent) input.value = sent;  // a refused value the user typed stays as typed
    if (typeof window.AirDatepicker !== "function") return;  // the field still takes a typed date
    var quiet = false;  // the field gets its focus back after a choice, without the calendar opening again
    var byMouse = false;
    var options = {
      locale: RU,
      dateFormat: "dd.MM.yyyy",
      keyboardNav: true,
      toggleSelected: false,
      buttons: ["today", "clear"],
      position: place,
      selectedDates: value ? [value] : [],
      // A click on a day closes the calendar; a choice made with the keyboard leaves it open until Esc or Tab.
      // (The library's autoClose would also close it, and take the focus away, while a date is being typed.)
      onSelect: function () { if (byMouse) close(); }
    };
    if (min) options.minDate = min;
    if (max) options.maxDate = max;
    var picker = new window.AirDatepicker(input, options);
    picker.$datepicker.addEventListener("mousedown", function () { byMouse = true; });
    input.addEventListener("keydown", function () { byMouse = false; });  // (onSelect runs a tick after the click)

    // The library's hide() blurs the field: the focus would fall to the page's start, lost for a keyboard user.
    function close() {
      quiet = true;
      picker.hide();
      input.focus();
      quiet = false;
    }
    input.addEventListener("focus", function (event) { if (quiet) event.stopImmediatePropagation(); }, true);
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !picker.visible) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      close();
    }, true);
    // A date typed in full is taken by the calendar (it never contradicts the field), which then closes: open, it
    // would cover what the user goes on to, the form's button below. A click on the field opens it again.
    input.addEventListener("input", function () {
      var typed = fromTyped(input.value);
      if (typed) {
        picker.selectDate(typed, {silent: true});
        picker.setViewDate(typed);
        if (picker.visible) close();
      }
    });
    input.addEventListener("click", function () { if (!picker.visible) picker.show(); });
  }

  function ready() { document.querySelectorAll("input[type=date]").forEach(enhance); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready); else ready();
})();
