// Keeps the page's live regions (elements with data-live and an id) up to
// date without a reload: while the page is visible it fetches the page again,
// every second while some region has data-pending (something is in
// progress), every five seconds otherwise, and swaps in each region the
// server renders differently. Everything else, forms included, stays as is.
(function () {
  "use strict";
  var regions = document.querySelectorAll("[data-live][id]");
  if (regions.length === 0) {
    return;
  }
  var shown = {};
  regions.forEach(function (el) { shown[el.id] = el.outerHTML; });
  function schedule() {
    setTimeout(refresh, document.querySelector("[data-pending]") ? 1000 : 5000);
  }
  function refresh() {
    if (document.hidden) {
      schedule();
      return;
    }
    fetch(location.href, { headers: { Accept: "text/html" } })
      .then(function (r) {
        if (!r.ok) {
          throw new Error("HTTP " + r.status);
        }
        return r.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        Object.keys(shown).forEach(function (id) {
          var next = page.getElementById(id), el = document.getElementById(id);
          if (next && el && next.outerHTML !== shown[id]) {
            shown[id] = next.outerHTML;
            el.replaceWith(next);
          }
        });
      })
      .catch(function () {})
      .finally(schedule);
  }
  schedule();
})();
