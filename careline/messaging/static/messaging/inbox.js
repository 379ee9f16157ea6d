// Inbox helpers: saved replies fill the composer; threads stay scrolled to the newest text.
(function () {
  "use strict";
  function scrollToNewest(root) {
    (root || document).querySelectorAll("[data-scroll-newest]").forEach(function (list) {
      list.scrollTop = list.scrollHeight;
    });
  }
  document.addEventListener("change", function (event) {
    var picker = event.target.closest && event.target.closest("[data-saved-reply]");
    if (!picker || !picker.value) { return; }
    var box = document.getElementById(picker.getAttribute("data-saved-reply"));
    if (!box) { return; }
    box.value = picker.value;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
    picker.selectedIndex = 0;
  });
  document.addEventListener("DOMContentLoaded", function () { scrollToNewest(document); });
  document.addEventListener("htmx:afterSwap", function (event) {
    var list = event.detail.target;
    if (list && list.hasAttribute("data-scroll-newest")) {
      // Only follow new texts when the reader was already at the bottom.
      if (list.dataset.wasAtBottom !== "false") { list.scrollTop = list.scrollHeight; }
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var list = event.detail.target;
    if (list && list.hasAttribute("data-scroll-newest")) {
      list.dataset.wasAtBottom = String(list.scrollHeight - list.scrollTop - list.clientHeight < 40);
    }
  });
})();
