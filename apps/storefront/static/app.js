// ShopMesh storefront: enhancements only. Every page works without this file.
(function () {
  "use strict";

  // Search suggestions: the search box becomes an ARIA 1.2 combobox with a
  // listbox popup. Arrows move, Enter opens the highlighted product (or
  // searches), Escape closes the list (and clears the box if already closed).
  function combobox(input) {
    var list = document.getElementById("q-suggestions");
    if (!list) return;
    var url = input.getAttribute("data-suggest");
    var timer = 0, seq = 0, active = -1, items = [];
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function highlight(i) {
      var opts = list.children;
      for (var j = 0; j < opts.length; j++) opts[j].setAttribute("aria-selected", j === i ? "true" : "false");
      active = i;
      if (i >= 0) input.setAttribute("aria-activedescendant", opts[i].id);
      else input.removeAttribute("aria-activedescendant");
    }
    function show(found) {
      items = found;
      list.textContent = "";
      found.forEach(function (it, i) {
        var li = document.createElement("li");
        li.id = "q-option-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var name = document.createElement("span");
        name.textContent = it.name;
        var price = document.createElement("span");
        price.textContent = it.price;
        li.appendChild(name);
        li.appendChild(price);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); location.href = it.url; });
        list.appendChild(li);
      });
      if (found.length === 0) { close(); return; }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }
    function fetchSuggestions() {
      var q = input.value.trim();
      var mine = ++seq;
      if (q.length < 2) { show([]); return; }
      fetch(url + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (body) { if (mine === seq) show(body.items || []); })
        .catch(function () { if (mine === seq) show([]); });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, 200);
    });
    input.addEventListener("keydown", function (e) {
      var open = !list.hidden;
      if (e.key === "ArrowDown") {
        e.preventDefault();
        if (!open) { fetchSuggestions(); return; }
        highlight(active + 1 < items.length ? active + 1 : 0);
      } else if (e.key === "ArrowUp") {
        if (!open) return;
        e.preventDefault();
        highlight(active > 0 ? active - 1 : items.length - 1);
      } else if (e.key === "Enter") {
        if (open && active >= 0) { e.preventDefault(); location.href = items[active].url; }
      } else if (e.key === "Escape") {
        if (open) { e.preventDefault(); close(); } else { input.value = ""; }
      }
    });
    input.addEventListener("blur", close);
  }

  // Follows a pending order: the server sends "status" events until the
  // order is settled ("end") or it stops watching ("timeout").
  function follow(box) {
    if (!window.EventSource) return;
    var es = new EventSource(box.getAttribute("data-events"));
    var failures = 0;
    function field(name) { return document.querySelector('[data-field="' + name + '"]'); }
    es.addEventListener("status", function (e) {
      failures = 0;
      var s = JSON.parse(e.data);
      var label = field("label");
      label.textContent = s.label;
      label.className = "status-label status-" + s.status;
      field("message").textContent = s.message;
      var tl = field("timeline");
      tl.textContent = "";
      (s.timeline || []).forEach(function (t) {
        var li = document.createElement("li");
        var l = document.createElement("span");
        l.className = "label";
        l.textContent = t.label;
        var time = document.createElement("time");
        time.setAttribute("datetime", t.at);
        time.textContent = t.when;
        li.appendChild(l);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(time);
        if (t.reason) {
          var r = document.createElement("span");
          r.className = "reason";
          r.textContent = t.reason;
          li.appendChild(document.createTextNode(" "));
          li.appendChild(r);
        }
        tl.appendChild(li);
      });
      if (s.settled) {
        ["cancel", "note"].forEach(function (n) { var el = field(n); if (el) el.hidden = true; });
      }
    });
    es.addEventListener("end", function () { es.close(); });
    es.addEventListener("timeout", function () {
      es.close();
      var note = field("note");
      if (note) note.firstChild.textContent = "Still pending. It may take a little longer: refresh the page in a while. ";
    });
    es.addEventListener("error", function () { if (++failures >= 3) es.close(); });
  }

  // A form marked data-once sends once: a second click while the first
  // request is on its way does nothing (the server is idempotent anyway).
  function once(form) {
    form.addEventListener("submit", function (e) {
      if (form.getAttribute("data-sent")) { e.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
      var b = form.querySelector("button[type=submit]");
      if (b) b.setAttribute("aria-disabled", "true");
    });
  }

  var q = document.getElementById("q");
  if (q) combobox(q);
  var box = document.querySelector("[data-events]");
  if (box) follow(box);
  document.querySelectorAll("form[data-once]").forEach(once);
  window.addEventListener("pageshow", function (e) {
    // Back from the next page: the form may be sent again.
    if (e.persisted) document.querySelectorAll("form[data-sent]").forEach(function (f) { f.removeAttribute("data-sent"); });
  });
})();
