/* data-confirm: a form (or a submit button) carrying it asks in a dialog before it is submitted.
   Loaded in <head>, before any form exists: a click that comes while the rest of the page (Bootstrap, the dialog)
   is still loading must still ask, never submit an irreversible action unasked. Such a submit is held and the
   question shown once the page has loaded. The CSP allows scripts from 'self' only, so no inline code. */
(function () {
  "use strict";

  var pending = null;  // {form, submitter}
  var waiting = false;  // a held submit waits for the page to finish loading
  var opener = null;  // what had the focus when the dialog opened: it gets it back when the dialog closes

  function confirmText(form, submitter) {
    if (submitter && submitter.hasAttribute("data-confirm")) return submitter.getAttribute("data-confirm");
    return form.getAttribute("data-confirm");
  }

  function submitConfirmed(p) {
    p.form.dataset.confirmed = "yes";
    if (p.form.requestSubmit) { p.form.requestSubmit(p.submitter || undefined); } else { p.form.submit(); }
  }

  function ask() {
    waiting = false;
    if (!pending) return;
    var text = confirmText(pending.form, pending.submitter);
    var modalEl = document.getElementById("confirm-modal");
    if (!modalEl || !window.bootstrap) {  // no dialog available: the browser's own question
      var p = pending;
      pending = null;
      if (window.confirm(text)) submitConfirmed(p);
      return;
    }
    opener = (pending.submitter && pending.submitter.isConnected) ? pending.submitter : document.activeElement;
    document.getElementById("confirm-modal-text").textContent = text;
    var ok = document.getElementById("confirm-modal-ok");
    var label = (pending.submitter && pending.submitter.getAttribute("data-confirm-button"))
      || pending.form.getAttribute("data-confirm-button");
    ok.textContent = label || "Подтвердить";
    window.bootstrap.Modal.getOrCreateInstance(modalEl).show();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var submitter = event.submitter || null;
    var text = confirmText(form, submitter);
    if (!text || form.dataset.confirmed === "yes") { delete form.dataset.confirmed; return; }
    event.preventDefault();
    pending = {form: form, submitter: submitter};
    if (document.readyState === "loading") {
      if (!waiting) { waiting = true; document.addEventListener("DOMContentLoaded", ask); }
      return;
    }
    ask();
  }, true);

  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("#confirm-modal-ok") || !pending) return;
    var p = pending;
    pending = null;
    window.bootstrap.Modal.getOrCreateInstance(document.getElementById("confirm-modal")).hide();
    submitConfirmed(p);
  });

  // A dialog shown from script (not by a data-bs-toggle) leaves the focus on <body> when it closes: after Esc or
  // «Отмена» a keyboard user started again from the top of the page, far from the button they had pressed.
  document.addEventListener("hidden.bs.modal", function (event) {
    if (event.target.id !== "confirm-modal" || !opener) return;
    var back = opener;
    opener = null;
    if (back.isConnected && back !== document.body) back.focus();
  });

  document.addEventListener("shown.bs.modal", function (event) {
    if (event.target.id === "confirm-modal") document.getElementById("confirm-modal-ok").focus();
  });
})();
