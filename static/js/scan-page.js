// The card scanner page: show the household a scanned card names, with a link to it.
(function () {
  "use strict";
  function box() { return document.querySelector("[data-scan-result]"); }
  document.addEventListener("merit:scan-error", function () {
    box().replaceChildren();
  });
  document.addEventListener("merit:household", function (event) {
    var h = event.detail, target = box();
    var node = document.querySelector("[data-scan-template]").content.cloneNode(true);
    var points = h.month_points;
    node.querySelector('[data-field="head_name"]').textContent = h.head_name;
    node.querySelector('[data-field="where"]').textContent =
      [h.group, h.house_number].filter(Boolean).join(" · ");
    node.querySelector('[data-field="month_points"]').textContent =
      (points > 0 ? "+" : points < 0 ? "\u2212" : "") + Math.abs(points);
    node.querySelector('[data-field="link"]').href =
      target.dataset.householdUrl.replace("/0/card", "/" + h.id + "/card");
    target.replaceChildren(node);
  });
})();
