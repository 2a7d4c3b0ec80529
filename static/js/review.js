/* The review queue: select all, a count of ticks, and the reason sheet that slides up.
   Without this script the queue still works: 驳回 opens a reason page instead. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function start() {
    var filters = $("[data-filters]");
    if (filters && window.matchMedia("(min-width: 600px)").matches) filters.open = true;
    var form = $("#review-form");
    var sheet = $("#reject-sheet");
    if (!form) return;
    var all = $("[data-select-all]", form);
    var count = $("[data-ticked]", form);
    var boxes = $$('input[name="c"]:not([disabled])', form);

    function ticked() { return boxes.filter(function (b) { return b.checked; }); }
    function update() {
      var n = ticked().length;
      count.textContent = n ? (form.getAttribute("data-msg-ticked") || "{n}").replace("{n}", n) : "";
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    }
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      update();
    });
    form.addEventListener("change", function (e) { if (e.target.name === "c") update(); });

    // One tap on a bulk button sends once.
    form.addEventListener("submit", function (e) {
      var by = e.submitter;
      var bulk = by && by.name === "action";
      if (bulk && !ticked().length) {
        e.preventDefault();
        alert(form.getAttribute("data-msg-none"));
        return;
      }
      if (form.getAttribute("data-sent")) { e.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
    });

    if (!sheet || typeof sheet.showModal !== "function") return; // the reason page still works
    var ids = $("[data-reject-ids]", sheet);
    var what = $("[data-reject-what]", sheet);
    var reason = $("textarea", sheet);

    function open(claimIds, label) {
      ids.textContent = "";
      claimIds.forEach(function (id) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "c";
        input.value = id;
        ids.appendChild(input);
      });
      what.textContent = label;
      reason.value = "";
      sheet.showModal();
      reason.focus();
    }
    form.addEventListener("click", function (e) {
      var one = e.target.closest("[data-reject]");
      var bulk = e.target.closest("[data-reject-bulk]");
      if (one) {
        e.preventDefault();
        if (one.getAttribute("aria-disabled") === "true") return;
        open([one.getAttribute("data-reject")], one.getAttribute("data-what"));
      } else if (bulk) {
        e.preventDefault();
        var chosen = ticked();
        if (!chosen.length) { alert(form.getAttribute("data-msg-none")); return; }
        open(chosen.map(function (b) { return b.value; }),
          (form.getAttribute("data-msg-ticked") || "{n}").replace("{n}", chosen.length));
      }
    });
    $("[data-close]", sheet).addEventListener("click", function () { sheet.close(); });
    sheet.addEventListener("click", function (e) { if (e.target === sheet) sheet.close(); });
    $("form", sheet).addEventListener("submit", function (e) {
      if (!reason.value.trim()) { e.preventDefault(); reason.focus(); return; }
      $('button[type="submit"]', sheet).disabled = true;
    });
    update();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
