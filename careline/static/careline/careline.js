// Page behaviour for every Careline page. It lives here, not in templates: the Content-Security-Policy
// runs no inline script, on*= handler or eval (so no htmx trigger filters either).
(function () {
  "use strict";
  // A one-time secret (a new API token) is selected whole when focused or clicked, ready to copy.
  function selectWhole(event) {
    var field = event.target.closest && event.target.closest("[data-select-on-focus]");
    if (field) { field.select(); }
  }
  document.addEventListener("click", selectWhole);
  document.addEventListener("focusin", selectWhole);

  // Polling marked data-poll-while-visible skips its request while the tab is hidden.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail && event.detail.elt;
    if (source && source.hasAttribute("data-poll-while-visible") && document.visibilityState !== "visible") {
      event.preventDefault();
    }
  });
})();
