// The patient portal's service worker: it keeps the static shell (styles, script, icons, an offline page) and
// nothing else. Portal pages hold patient data: they always come from the network and are never stored.
"use strict";
const SHELL_CACHE = "{{ cache_name|escapejs }}";
const SHELL = {{ shell_json|safe }};
const OFFLINE = "{{ offline_url|escapejs }}";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== SHELL_CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin === self.location.origin && SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(request).then((kept) => kept || fetch(request)));
    return;
  }
  if (request.mode === "navigate") {
    // Network only; offline, the static offline page (never a stored copy of a portal page).
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE)));
  }
});
