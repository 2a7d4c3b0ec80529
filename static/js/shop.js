// The counter: a scanned card opens the household; +/− fill the basket and show the sum.
(function () {
  "use strict";
  document.addEventListener("merit:household", function (event) {
    var h = event.detail || {};
    if (h.id) {
      var url = new URL(window.location.href);
      url.search = "?household=" + encodeURIComponent(h.id);
      window.location.assign(url.toString());
    }
  });
  var form = document.getElementById("shop-form");
  if (!form) return;
  var totalEl = form.querySelector("[data-total]");
  var afterEl = form.querySelector("[data-after]");
  var spend = document.querySelector("[data-spendable]");
  var spendable = spend ? parseInt(spend.getAttribute("data-spendable"), 10) || 0 : 0;
  var submitting = false;
  function update() {
    var total = 0;
    form.querySelectorAll(".shop-tile").forEach(function (tile) {
      var input = tile.querySelector("input");
      var n = parseInt(input.value, 10) || 0;
      tile.classList.toggle("is-picked", n > 0);
      total += n * (parseInt(tile.getAttribute("data-price"), 10) || 0);
    });
    totalEl.textContent = String(total);
    afterEl.textContent = String(spendable - total);
    afterEl.classList.toggle("pts-neg", spendable - total < 0);
  }
  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-plus],[data-minus]");
    if (!button) return;
    var tile = button.closest(".shop-tile");
    var input = tile.querySelector("input");
    var max = parseInt(tile.getAttribute("data-stock"), 10) || 0;
    var n = parseInt(input.value, 10) || 0;
    n += button.hasAttribute("data-plus") ? 1 : -1;
    input.value = n <= 0 ? "" : String(Math.min(n, max));
    update();
  });
  form.addEventListener("input", update);
  form.addEventListener("submit", function (event) {
    // A double tap sends once; the idempotency key makes a retried request harmless too.
    if (submitting) { event.preventDefault(); return; }
    submitting = true;
  });
  update();
})();
