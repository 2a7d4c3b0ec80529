/* The clerk's recording page and batch award: three steps without page loads.
   Without this script both pages still work as plain forms. No framework. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var MAX_PHOTOS = 5;
  var SHRINK_OVER = 1.5 * 1024 * 1024; // photos above this are scaled down before upload
  var MAX_EDGE = 2560;
  var MINUS = "\u2212";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function newKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // works on plain http too, unlike randomUUID
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }
  function signed(n) { return n > 0 ? "+" + n : n < 0 ? MINUS + -n : "0"; }
  function ptsClass(n) { return "pts pts-big" + (n > 0 ? " pts-pos" : n < 0 ? " pts-neg" : ""); }
  function csrfOf(form) { var t = $('input[name="csrf_token"]', form); return t ? t.value : ""; }
  function place(h) { return [h.group, h.house_number].filter(Boolean).join(" · "); }
  function chip(type, name, value, text) {
    var label = el("label", "chip");
    var input = el("input");
    input.type = type;
    input.name = name;
    input.value = value;
    label.appendChild(input);
    label.appendChild(document.createTextNode(" "));
    label.appendChild(el("span", "", text));
    return label;
  }

  /* ---- category tabs over the rule grid ---- */
  function setupTabs(picker) {
    function select(bar, id) {
      $$("[data-tab]", bar).forEach(function (tab) {
        var on = tab.getAttribute("data-tab") === id;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.tabIndex = on ? 0 : -1;
        var panel = $('[data-panel="' + tab.getAttribute("data-tab") + '"]', picker);
        if (panel) panel.hidden = !on;
      });
    }
    $$("[data-tabs]", picker).forEach(function (bar) {
      bar.hidden = false;
      var tabs = $$("[data-tab]", bar);
      var checked = $('input[name="rule"]:checked', picker);
      var start = tabs[0];
      tabs.forEach(function (tab) {
        var panel = $('[data-panel="' + tab.getAttribute("data-tab") + '"]', picker);
        if (checked && panel && panel.contains(checked)) start = tab;
        tab.addEventListener("click", function () { select(bar, tab.getAttribute("data-tab")); });
      });
      if (start) select(bar, start.getAttribute("data-tab"));
    });
  }

  /* ---- photos: keep the picked files in the input, scaled down, with thumbnails ---- */
  function shrink(file) {
    if (file.size <= SHRINK_OVER || !window.createImageBitmap || !/^image\/(jpeg|png|webp)$/.test(file.type)) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bmp) {
      var scale = Math.min(1, MAX_EDGE / Math.max(bmp.width, bmp.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bmp.width * scale);
      canvas.height = Math.round(bmp.height * scale);
      canvas.getContext("2d").drawImage(bmp, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          resolve(blob && blob.size < file.size
            ? new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", { type: "image/jpeg" })
            : file);
        }, "image/jpeg", 0.85);
      });
    }).catch(function () { return file; });
  }

  function setupPhotos(box, onChange) {
    var input = $('input[type="file"]', box);
    var row = $(".photo-row", box);
    var add = $(".photo-add", box);
    var files = [];
    var canSet = typeof DataTransfer === "function";
    function kept() { return $$('input[name="evidence"]', box).length; }
    function sync() {
      if (canSet) {
        var dt = new DataTransfer();
        files.forEach(function (f) { dt.items.add(f); });
        input.files = dt.files;
      }
      add.hidden = files.length + kept() >= MAX_PHOTOS;
      onChange();
    }
    function thumb(file) {
      var span = el("span", "photo-thumb");
      var img = el("img");
      img.alt = "";
      img.src = URL.createObjectURL(file);
      var del = el("button", "photo-del");
      del.type = "button";
      del.setAttribute("aria-label", box.getAttribute("data-msg-remove") || "×");
      del.appendChild(el("span", "", "×"));
      del.addEventListener("click", function () {
        files.splice(files.indexOf(file), 1);
        URL.revokeObjectURL(img.src);
        span.remove();
        sync();
      });
      span.appendChild(img);
      span.appendChild(del);
      row.insertBefore(span, add);
    }
    input.addEventListener("change", function () {
      if (!canSet) { onChange(); return; } // old browser: the input keeps its own selection
      var picked = Array.prototype.slice.call(input.files || []);
      var room = MAX_PHOTOS - files.length - kept();
      Promise.all(picked.slice(0, Math.max(room, 0)).map(shrink)).then(function (ready) {
        ready.forEach(function (f) { files.push(f); thumb(f); });
        sync();
      });
    });
    return {
      count: function () { return (canSet ? files.length : (input.files || []).length) + kept(); },
      clear: function () {
        files = [];
        $$(".photo-thumb", row).forEach(function (t) { t.remove(); });
        input.value = "";
        sync();
      }
    };
  }

  function ruleOf(form) { return $('input[name="rule"]:checked', form); }

  function hints(form) {
    var rule = ruleOf(form);
    var deduction = rule && Number(rule.getAttribute("data-points")) < 0;
    var needsPhoto = rule && rule.hasAttribute("data-evidence");
    var note = $("#note", form);
    var noteHint = $("[data-note-hint]", form);
    if (note) note.required = !!deduction;
    if (noteHint) noteHint.classList.toggle("is-required", !!deduction);
    var photoHint = $("[data-photo-hint]", form);
    if (photoHint) {
      // Once a photo is chosen (or kept from an earlier try) the requirement is met.
      var fileInput = $('[data-photos] input[type="file"]', form);
      var hasPhoto = (fileInput && fileInput.files && fileInput.files.length > 0) ||
        $$('[data-photos] input[name="evidence"]', form).length > 0;
      var missing = !!needsPhoto && !hasPhoto;
      if (!photoHint.hasAttribute("data-plain")) photoHint.setAttribute("data-plain", photoHint.textContent);
      photoHint.textContent = missing ? form.getAttribute("data-msg-needs-photo") : photoHint.getAttribute("data-plain");
      photoHint.classList.toggle("is-required", missing);
    }
  }

  function showError(form, message) {
    var box = $("#rec-error", form);
    box.textContent = message || "";
    box.hidden = !message;
    if (message) box.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  /* ---- the recording page ---- */
  function setupRecord(form) {
    var search = $(".rec-search");
    var q = $("#rec-q");
    var results = $("#rec-results");
    var chosenBox = $("#rec-chosen");
    var members = $("#rec-members");
    var submit = $("[data-submit]", form);
    var keyInput = $("[data-key]", form);
    var photos = setupPhotos($("[data-photos]", form), function () { hints(form); });
    var url = search.getAttribute("data-search-url");
    var timer = null;
    var seq = 0;
    var busy = false;

    function choose(h) {
      results.textContent = "";
      chosenBox.textContent = "";
      var card = $("#tpl-card").content.firstElementChild.cloneNode(true);
      $('input[name="household"]', card).value = h.id;
      $(".hh-card-name", card).textContent = h.head_name;
      $(".hh-card-meta", card).textContent = place(h);
      var pts = $(".hh-card-month .pts", card);
      pts.className = ptsClass(h.month_points || 0);
      pts.textContent = signed(h.month_points || 0);
      chosenBox.appendChild(card);
      var chips = $("[data-members]", members);
      var whole = $("label", chips);
      chips.textContent = "";
      chips.appendChild(whole);
      $("input", whole).checked = true;
      var matched = h.matched || [];
      (h.members || []).forEach(function (p) {
        var c = chip("radio", "member", p.id, p.label || p.name);
        // A search that found one member (not the head) means that member did the deed.
        if (matched.length === 1 && matched[0] === p.id) { $("input", c).checked = true; }
        chips.appendChild(c);
      });
      members.hidden = !(h.members && h.members.length);
      showError(form, "");
      q.value = "";
      var next = $("#step-what");
      if (next && next.getBoundingClientRect().top > window.innerHeight * 0.6) {
        next.scrollIntoView({ behavior: "smooth", block: "start" });
      }
    }

    function clearChoice() {
      chosenBox.textContent = "";
      members.hidden = true;
      q.focus();
    }

    function render(list, term) {
      results.textContent = "";
      if (!list.length) {
        results.appendChild(el("p", "empty", (form.getAttribute("data-msg-nomatch") || "").replace("{q}", term)));
        return;
      }
      var ul = el("ul", "hh-list");
      list.forEach(function (h) {
        var li = el("li");
        var btn = el("button", "hh-hit");
        btn.type = "button";
        btn.appendChild(el("span", "hh-hit-name", h.head_name));
        btn.appendChild(el("span", "hh-hit-meta", place(h)));
        var found = (h.members || []).filter(function (p) { return (h.matched || []).indexOf(p.id) >= 0; });
        if (found.length) {
          btn.appendChild(el("span", "hh-hit-member", (form.getAttribute("data-msg-member") || "") +
            found.map(function (p) { return p.label || p.name; }).join("、")));
        }
        btn.addEventListener("click", function () { choose(h); });
        li.appendChild(btn);
        ul.appendChild(li);
      });
      results.appendChild(ul);
    }

    function lookup(now) {
      var term = q.value.trim();
      clearTimeout(timer);
      if (!term) { results.textContent = ""; return; }
      timer = setTimeout(function () {
        var mine = ++seq;
        fetch(url + "?q=" + encodeURIComponent(term), { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
          .then(function (data) { if (mine === seq) render(data.households || [], term); })
          .catch(function () { if (mine === seq) results.textContent = ""; });
      }, now ? 0 : 180);
    }

    if (url) {
      q.addEventListener("input", function () { lookup(false); });
      search.addEventListener("submit", function (e) {
        e.preventDefault();
        var first = $(".hh-hit", results);
        if (first && q.value.trim()) first.click(); else lookup(true);
      });
    }
    chosenBox.addEventListener("click", function (e) {
      if (e.target.closest("[data-change]")) { e.preventDefault(); clearChoice(); }
    });
    document.addEventListener("merit:household", function (e) { if (e.detail) choose(e.detail); });

    form.addEventListener("change", function (e) { if (e.target.name === "rule") { hints(form); showError(form, ""); } });
    hints(form);
    form.noValidate = true;

    function check() {
      var rule = ruleOf(form);
      if (!$('input[name="household"]:checked, input[type="hidden"][name="household"]')) return form.getAttribute("data-msg-household");
      if (!rule) return form.getAttribute("data-msg-rule");
      if (Number(rule.getAttribute("data-points")) < 0 && !$("#note", form).value.trim()) return form.getAttribute("data-msg-note");
      if (rule.hasAttribute("data-evidence") && !photos.count()) return form.getAttribute("data-msg-needs-photo");
      return "";
    }

    function reset() {
      chosenBox.textContent = "";
      results.textContent = "";
      members.hidden = true;
      var rule = ruleOf(form);
      if (rule) rule.checked = false;
      $("#note", form).value = "";
      $$('input[name="evidence"]', form).forEach(function (i) { i.closest(".photo-thumb").remove(); });
      photos.clear();
      hints(form);
      keyInput.value = newKey();
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (busy) return; // a double tap sends once
      var problem = check();
      if (problem) { showError(form, problem); return; }
      busy = true;
      submit.disabled = true;
      var label = submit.textContent;
      submit.textContent = form.getAttribute("data-msg-sending");
      showError(form, "");
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin"
      })
        .then(function (r) {
          return r.json().catch(function () { return { error: form.getAttribute("data-msg-failed") }; });
        })
        .then(function (data) {
          if (data.error) { showError(form, data.error); return; }
          $("#rec-strip").innerHTML = data.strip;
          $("#rec-recent").innerHTML = data.recent;
          reset();
          keyInput.value = data.key || newKey();
          window.scrollTo({ top: 0, behavior: "smooth" });
          q.focus({ preventScroll: true });
        })
        .catch(function () { showError(form, form.getAttribute("data-msg-failed")); })
        .then(function () {
          busy = false;
          submit.disabled = false;
          submit.textContent = label;
        });
    });
  }

  /* ---- withdraw from the strip or the recent list, without a page load ---- */
  function setupWithdraw() {
    document.addEventListener("submit", function (e) {
      var form = e.target.closest(".rec-withdraw");
      if (!form || !$("#rec-recent")) return;
      e.preventDefault();
      var btn = $("button", form);
      if (btn.disabled) return;
      btn.disabled = true;
      var body = new FormData();
      body.append("csrf_token", csrfOf(form));
      fetch(form.action, { method: "POST", body: body, headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (data.error) { alert(data.error); btn.disabled = false; return; }
          $("#rec-strip").innerHTML = data.strip;
          $("#rec-recent").innerHTML = data.recent;
        })
        .catch(function () { form.submit(); });
    });
  }

  /* ---- batch award: tick from the list or scan one card after another ---- */
  function setupBatch(form) {
    var list = $("[data-batch-list]", form);
    var count = $("[data-batch-count]", form);
    var tools = $("[data-batch-tools]", form);
    var submit = $("[data-submit]", form);
    var photos = setupPhotos($("[data-photos]", form), function () {});
    var sent = false;

    function update() {
      var homes = 0, claims = 0;
      $$(".batch-row", form).forEach(function (row) {
        var head = $('input[name="h"]', row);
        var ticked = $$('input[name="m"]:checked', row).length;
        if (ticked) head.checked = true;
        if (head.checked) { homes += 1; claims += Math.max(ticked, 1); }
      });
      count.hidden = false;
      count.textContent = (form.getAttribute("data-msg-count") || "").replace("{households}", homes).replace("{claims}", claims);
    }

    function addRow(h) {
      var li = el("li", "batch-row");
      li.setAttribute("data-household", h.id);
      var head = chip("checkbox", "h", h.id, "");
      head.className = "check batch-head";
      var text = head.lastChild;
      text.appendChild(el("strong", "", h.head_name));
      text.appendChild(document.createTextNode(" "));
      text.appendChild(el("span", "muted small", place(h)));
      li.appendChild(head);
      if (h.members && h.members.length > 1) {
        var chips = el("div", "chips batch-members");
        h.members.forEach(function (p) { chips.appendChild(chip("checkbox", "m", h.id + "-" + p.id, p.label || p.name)); });
        li.appendChild(chips);
      }
      list.insertBefore(li, list.firstChild);
      return li;
    }

    if (tools) tools.hidden = false;
    form.addEventListener("change", function (e) {
      if (e.target.name === "h" && !e.target.checked) {
        $$('input[name="m"]', e.target.closest(".batch-row")).forEach(function (m) { m.checked = false; });
      }
      if (e.target.name === "rule") hints(form);
      update();
    });
    form.addEventListener("click", function (e) {
      var all = e.target.closest("[data-tick-all]");
      var none = e.target.closest("[data-tick-none]");
      if (!all && !none) return;
      $$('input[name="h"]', form).forEach(function (b) { b.checked = !!all; });
      if (none) $$('input[name="m"]', form).forEach(function (b) { b.checked = false; });
      update();
    });
    document.addEventListener("merit:household", function (e) {
      var h = e.detail;
      if (!h || !list) return;
      var row = $('.batch-row[data-household="' + h.id + '"]', list) || addRow(h);
      $('input[name="h"]', row).checked = true;
      row.classList.remove("is-scanned");
      void row.offsetWidth; // restart the highlight
      row.classList.add("is-scanned");
      row.scrollIntoView({ block: "nearest" });
      update();
    });
    form.noValidate = true;
    form.addEventListener("submit", function (e) {
      var rule = ruleOf(form);
      var problem = !rule ? form.getAttribute("data-msg-rule")
        : !$('input[name="h"]:checked', form) ? form.getAttribute("data-msg-none")
        : Number(rule.getAttribute("data-points")) < 0 && !$("#note", form).value.trim() ? form.getAttribute("data-msg-note")
        : rule.hasAttribute("data-evidence") && !photos.count() ? form.getAttribute("data-msg-needs-photo") : "";
      if (problem || sent) { e.preventDefault(); if (problem) showError(form, problem); return; }
      sent = true; // a double tap sends once; the key makes a resend harmless anyway
      submit.disabled = true;
      submit.textContent = form.getAttribute("data-msg-sending");
    });
    hints(form);
    if (list) update();
  }

  function start() {
    $$("[data-rule-picker]").forEach(setupTabs);
    var record = $("#rec-form");
    if (record) { setupRecord(record); setupWithdraw(); }
    var batch = $("[data-batch]");
    if (batch) setupBatch(batch);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
