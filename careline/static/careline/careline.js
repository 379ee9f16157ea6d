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

  // A Copy button (data-copy-target="<field id>") copies its field with the clipboard API; where that is
  // refused (an older browser, a page not served over https) the text is selected for Ctrl+C / Cmd+C.
  // The button stays hidden without this script, which would leave it doing nothing.
  function copyStatus(id, text) {
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (status) { status.textContent = text; }
  }
  function selectForCopying(field, id) {
    field.focus();
    field.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    copyStatus(id, copied ? "Copied." : "Selected: press Ctrl+C (Cmd+C on a Mac) to copy it.");
  }
  function copyField(event) {
    var button = event.target.closest && event.target.closest("[data-copy-target]");
    if (!button) { return; }
    var id = button.getAttribute("data-copy-target");
    var field = document.getElementById(id);
    if (!field) { return; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(
        function () { copyStatus(id, "Copied."); },
        function () { selectForCopying(field, id); }
      );
    } else {
      selectForCopying(field, id);
    }
  }
  document.addEventListener("click", copyField);
  function showCopyButtons() {
    var buttons = document.querySelectorAll("[data-copy-target][hidden]");
    for (var i = 0; i < buttons.length; i++) { buttons[i].hidden = false; }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", showCopyButtons);
  } else {
    showCopyButtons();
  }

  // Polling marked data-poll-while-visible skips its request while the tab is hidden.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail && event.detail.elt;
    if (source && source.hasAttribute("data-poll-while-visible") && document.visibilityState !== "visible") {
      event.preventDefault();
    }
  });

  // A table wider than its box (a phone) scrolls sideways inside its .table-wrap: such a box takes the
  // keyboard focus, so arrow keys scroll it, and is named by the table's caption. Only while it scrolls, so a
  // desktop gets no extra tab stops.
  function tableWrapsReachable() {
    var wraps = document.querySelectorAll(".table-wrap");
    for (var i = 0; i < wraps.length; i++) {
      var wrap = wraps[i];
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        var caption = wrap.querySelector("caption");
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", (caption && caption.textContent.trim()) || "Table");
        wrap.setAttribute("data-scroll-focus", "");
      } else if (!scrolls && wrap.hasAttribute("data-scroll-focus")) {
        ["tabindex", "role", "aria-label", "data-scroll-focus"].forEach(function (name) { wrap.removeAttribute(name); });
      }
    }
  }
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(tableWrapsReachable, 100);
  });
  document.addEventListener("DOMContentLoaded", tableWrapsReachable);
  document.addEventListener("htmx:afterSettle", tableWrapsReachable);
})();

// A button marked data-print prints the page (a desk receipt).
document.addEventListener("click", function (event) {
  var target = event.target instanceof Element ? event.target.closest("[data-print]") : null;
  if (target) { event.preventDefault(); window.print(); }
});
