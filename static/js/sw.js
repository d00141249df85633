// Service worker: keeps the app shell and the inspection, red-tag and corrective-action pages a supervisor opened,
// so a reload in a Wi-Fi dead corner still shows the form (the outbox then re-applies what is queued).
// Everything else: network.
"use strict";
var CACHE = "sixs-static";  // the server puts a digest of the static files here (app.py, /sw.js)
var SHELL = ["/static/css/app.css", "/static/js/htmx-2.0.11.min.js", "/static/js/outbox.js", "/static/js/markup.js"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); }).then(function () {
    return self.skipWaiting();
  }));
});
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function isFormPage(url, request) {
  // the inspection form, the red-tag form and a corrective action (raised or fixed on the floor, where the Wi-Fi drops)
  return /^\/(inspections\/\d+|workshops\/[^/]+\/red-tags\/new|actions\/\d+)$/.test(url.pathname) &&
    !request.headers.get("HX-Request");
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
        return response;
      });
    }));
    return;
  }
  if (isFormPage(url, request)) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request).then(function (hit) {
        return hit || caches.match(request, { ignoreSearch: true }).then(function (any) {
          return any || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
        });
      });
    }));
  }
});
