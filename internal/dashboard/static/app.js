// mxinvite dashboard: refreshes the live parts of a page (numbers, progress,
// chart, failures) from their HTML fragment endpoints, without reloading the
// page. The server renders each fragment with the same templates as the
// page, escaped; it replaces the old nodes, so memory does not grow with
// time. When a refresh fails the page says so ("stale since …") until one
// succeeds. Times are shown in the reader's local time (UTC on hover).
// Without JavaScript the pages work the same, in UTC, without refreshing.
(function () {
  "use strict";
  var base = parseInt(document.body.dataset.refreshMs, 10) || 2000;
  var stale = document.getElementById("stale");
  var staleSince = null;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function localText(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  function zoneText(d) {
    var off = -d.getTimezoneOffset();
    var sign = off >= 0 ? "+" : "-";
    off = Math.abs(off);
    return "UTC" + sign + pad(Math.floor(off / 60)) + ":" + pad(off % 60);
  }

  // localTimes shows every <time datetime> under root in local time; the
  // UTC text the server wrote stays as the title.
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d.getTime())) { return; }
      if (!t.dataset.local) { t.title = t.textContent + " (shown in local time, " + zoneText(d) + ")"; }
      t.textContent = localText(d);
      t.dataset.local = "1";
    });
  }

  function markStale(why) {
    if (!stale) { return; }
    if (!staleSince) {
      staleSince = new Date();
      var t = stale.querySelector(".stale-since");
      t.setAttribute("datetime", staleSince.toISOString());
      t.textContent = localText(staleSince);
      t.title = staleSince.toISOString() + " (shown in local time, " + zoneText(staleSince) + ")";
    }
    stale.querySelector(".stale-why").textContent = why;
    stale.hidden = false;
    document.body.dataset.stale = "1";
  }

  function markFresh() {
    staleSince = null;
    if (stale) { stale.hidden = true; }
    document.body.removeAttribute("data-stale");
  }

  function live(el) {
    var src = el.dataset.liveSrc;
    var slower = parseInt(el.dataset.liveSlower, 10) || 1;
    var updates = 0;

    function pending() {
      var root = el.querySelector("[data-pending]");
      return root ? parseInt(root.dataset.pending, 10) || 0 : 0;
    }

    function schedule() {
      // Campaigns with nothing pending change rarely: poll four times slower.
      window.setTimeout(tick, (pending() > 0 ? base : base * 4) * slower);
    }

    function tick() {
      if (document.hidden) { schedule(); return; }
      var ctrl = new AbortController();
      var timer = window.setTimeout(function () { ctrl.abort(); }, 15000);
      fetch(src, { credentials: "same-origin", cache: "no-store", signal: ctrl.signal, headers: { "Accept": "text/html" } })
        .then(function (res) {
          if (res.status === 401) { window.location.reload(); throw new Error("logged out"); }
          if (!res.ok) { throw new Error("the server answered HTTP " + res.status); }
          return res.text();
        })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var open = {};
          el.querySelectorAll("details[open]").forEach(function (d) { open[d.className + "|" + (d.dataset.cause || "")] = true; });
          el.replaceChildren.apply(el, Array.prototype.slice.call(doc.body.childNodes));
          el.querySelectorAll("details").forEach(function (d) { if (open[d.className + "|" + (d.dataset.cause || "")]) { d.open = true; } });
          localTimes(el);
          updates++;
          el.dataset.updates = String(updates);
          el.removeAttribute("data-stale");
          markFresh();
        })
        .catch(function (err) {
          el.dataset.stale = "1";
          markStale(err && err.name === "AbortError" ? "no answer within 15 s" :
            (err && err.message && err.message.indexOf("HTTP") >= 0 ? err.message : "the server could not be reached"));
        })
        .finally(function () { window.clearTimeout(timer); schedule(); });
    }

    schedule();
  }

  localTimes(document);
  if (!window.fetch) { return; }
  document.querySelectorAll("[data-live-src]").forEach(live);
})();
