// The patient portal's page behaviour (no inline scripts: the Content-Security-Policy forbids them).
// Register the service worker that keeps the portal's static shell for offline use; it never stores pages.
(function () {
  "use strict";
  var worker = document.body && document.body.getAttribute("data-service-worker");
  if (worker && "serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register(worker, { scope: document.body.getAttribute("data-scope") || "/portal/" });
    });
  }
})();
