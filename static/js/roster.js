// Roster search as you type: asks /roster/search for JSON and lists matches under the field.
// Without JavaScript the same field submits the GET form and the page lists the results.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("roster-suggest");
  if (!input || !list || !window.fetch) return;

  var searchUrl = input.getAttribute("data-search-url");
  var detailUrl = input.getAttribute("data-detail-url");
  var membersLabel = input.getAttribute("data-members-label") || "";
  var memberLabel = input.getAttribute("data-member-label") || membersLabel;
  var noneLabel = input.getAttribute("data-none-label") || "";
  var timer = null;
  var controller = null;
  var lastQuery = null;

  function hide() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
  }

  function link(id) {
    return detailUrl.replace(/\/0$/, "/" + encodeURIComponent(id));
  }

  function text(tag, className, value) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    el.textContent = value;
    return el;
  }

  function render(households) {
    list.textContent = "";
    if (!households.length) {
      list.appendChild(text("li", "roster-suggest-empty", noneLabel));
    }
    households.forEach(function (h) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      var a = document.createElement("a");
      a.href = link(h.id);
      a.appendChild(text("span", "roster-suggest-name", h.head_name));
      var where = [h.group, h.house_number].filter(Boolean).join(" · ");
      if (where) a.appendChild(text("span", "roster-suggest-meta", where));
      var matched = h.matched || [];
      var found = h.members.filter(function (m) { return matched.indexOf(m.id) >= 0; });
      var others = h.members.filter(function (m) { return m.name !== h.head_name && matched.indexOf(m.id) < 0; })
        .map(function (m) { return m.label || m.name; });
      if (found.length) {
        a.appendChild(text("span", "roster-suggest-match", memberLabel + "：" + found.map(function (m) { return m.label || m.name; }).join("、")));
      }
      if (others.length) a.appendChild(text("span", "roster-suggest-members", membersLabel + "：" + others.join("、")));
      li.appendChild(a);
      list.appendChild(li);
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function search() {
    var q = input.value.trim();
    if (q === lastQuery) return;
    lastQuery = q;
    if (!q) { hide(); return; }
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    fetch(searchUrl + "?q=" + encodeURIComponent(q), {
      headers: { "Accept": "application/json" },
      credentials: "same-origin",
      signal: controller ? controller.signal : undefined
    })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && input.value.trim() === q) render(data.households || []); })
      .catch(function () { /* offline or aborted: the form still works */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Escape") hide();
    if (e.key === "ArrowDown" && !list.hidden) {
      var first = list.querySelector("a");
      if (first) { e.preventDefault(); first.focus(); }
    }
  });
  list.addEventListener("keydown", function (e) {
    var links = Array.prototype.slice.call(list.querySelectorAll("a"));
    var i = links.indexOf(document.activeElement);
    if (e.key === "ArrowDown" && i < links.length - 1) { e.preventDefault(); links[i + 1].focus(); }
    if (e.key === "ArrowUp") { e.preventDefault(); (i > 0 ? links[i - 1] : input).focus(); }
    if (e.key === "Escape") { hide(); input.focus(); }
  });
  document.addEventListener("click", function (e) {
    if (e.target !== input && !list.contains(e.target)) hide();
  });
})();
