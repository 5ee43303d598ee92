// mxinvite dashboard: refreshes the live part of a page (numbers, progress,
// chart) from its HTML fragment endpoint, without reloading the page. The
// server renders the fragment with the same templates as the page, escaped;
// it replaces the old nodes, so memory does not grow with time. Without
// JavaScript the pages work the same, they just do not refresh.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !live.dataset.liveSrc || !window.fetch) { return; }
  var src = live.dataset.liveSrc;
  var base = parseInt(document.body.dataset.refreshMs, 10) || 2000;
  var updates = 0;

  function pending() {
    var root = live.querySelector("[data-pending]");
    return root ? parseInt(root.dataset.pending, 10) || 0 : 0;
  }

  function schedule() {
    // Campaigns with nothing pending change rarely: poll four times slower.
    window.setTimeout(tick, pending() > 0 ? base : base * 4);
  }

  function tick() {
    if (document.hidden) { schedule(); return; }
    var ctrl = new AbortController();
    var timer = window.setTimeout(function () { ctrl.abort(); }, 15000);
    fetch(src, { credentials: "same-origin", cache: "no-store", signal: ctrl.signal, headers: { "Accept": "text/html" } })
      .then(function (res) {
        if (res.status === 401) { window.location.reload(); throw new Error("logged out"); }
        if (!res.ok) { throw new Error("HTTP " + res.status); }
        return res.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var open = {};
        live.querySelectorAll("details[open]").forEach(function (d) { open[d.className] = true; });
        live.replaceChildren.apply(live, Array.prototype.slice.call(doc.body.childNodes));
        live.querySelectorAll("details").forEach(function (d) { if (open[d.className]) { d.open = true; } });
        updates++;
        live.dataset.updates = String(updates);
        live.removeAttribute("data-stale");
      })
      .catch(function () { live.dataset.stale = "1"; })
      .finally(function () { window.clearTimeout(timer); schedule(); });
  }

  schedule();
})();
