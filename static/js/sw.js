// Service worker: the app in a Wi-Fi dead corner.
// - The shell (styles, scripts) in a cache named after this build's static files: a deploy replaces it.
// - Pages in a cache of their own that a deploy never deletes: the home page, the 离线可用 screen and the page of
//   every workshop the user may inspect (the list comes from /offline/holdings.json, fetched after each online
//   visit of the home page) with the blank form of every checklist version they may start there (an inspection
//   started offline is filled on it: device-start.js), and the inspection, red-tag and corrective-action forms
//   once opened.
// Pages: the network first, the kept copy when the network fails or takes longer than a tablet user waits.
"use strict";
var CACHE = "sixs-static";  // the server puts a digest of the static files here (app.py, /sw.js)
var PAGES = "sixs-pages";
var HELD = "/offline/holdings.json?held=1";  // the device's copy of the list, with when it was fetched
var SHELL = ["/static/css/app.css", "/static/js/htmx-2.0.11.min.js", "/static/js/device.js", "/static/js/answer-form.js",
             "/static/js/outbox-screen.js", "/static/js/outbox.js", "/static/js/device-start.js", "/static/js/signing-key.js", "/static/js/markup.js",
             "/static/js/scoring.js", "/static/js/signature.js", "/static/js/device-review.js", "/static/js/offline.js",
             "/static/js/sync-centre.js"];
var NETWORK_TIMEOUT_MS = 6000;
var REFRESH_EVERY_MS = 30 * 60 * 1000;  // the kept pages of an unchanged list are fetched again after this

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); }).then(function () {
    return self.skipWaiting();
  }));
});
self.addEventListener("activate", function (event) {
  // an older build's shell goes; the kept pages stay (refreshed at the next online visit)
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE && k !== PAGES; }).map(function (k) {
      return caches.delete(k);
    }));
  }).then(function () { return self.clients.claim(); }));
});

function isFormPage(path) {
  // the inspection form, the red-tag form and a corrective action (raised or fixed on the floor, where the Wi-Fi drops)
  return /^\/(inspections\/\d+|workshops\/[^/]+\/red-tags\/new|actions\/\d+)$/.test(path);
}
var BLANK = /^\/workshops\/[^/]+\/checklists\/([^/]+)\/v(\d+)\/form$/;
function isBlankForm(path) { return BLANK.test(path); }
// A version's blank form is kept once for every workshop and every inspection filled on it (?device=KEY): the page
// puts its workshop in from its own address (device-start.js).
function keptAs(path) {
  var m = BLANK.exec(path);
  return m ? "/offline/blank/" + m[1] + "/v" + m[2] : path;
}
function isHeldPage(path) {
  return path === "/" || path === "/offline" || /^\/workshops\/[^/]+$/.test(path) || isBlankForm(path);
}
function plainName(path) {  // js/outbox.3f2a9c1b7d4e.js → js/outbox.js (assets/__init__.py)
  return path.replace(/\.[0-9a-f]{12}(\.[A-Za-z0-9]+)$/, "$1");
}

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (v) { clearTimeout(timer); resolve(v); }, function (e) { clearTimeout(timer); reject(e); });
  });
}

function keep(request, response) {
  // a redirect (to the sign-in page) or an error is never kept in place of the page
  if (!response.ok || response.redirected || response.type !== "basic") return;
  var copy = response.clone(), url = new URL(request.url);
  var key = isBlankForm(url.pathname) ? keptAs(url.pathname) : request;
  caches.open(PAGES).then(function (cache) { cache.put(key, copy); });
}

function keptPage(request) {
  var path = new URL(request.url).pathname;
  return caches.open(PAGES).then(function (pages) {
    return pages.match(isBlankForm(path) ? keptAs(path) : request, { ignoreSearch: true });
  })
    .then(function (hit) { return hit || caches.match(request, { ignoreSearch: true }); })
    .then(function (hit) {
      return hit || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
    });
}

function staticFile(request) {
  return caches.match(request).then(function (hit) {
    return hit || fetch(request).then(function (response) {
      var copy = response.clone();
      if (response.ok) caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      return response;
    }).catch(function () {
      // a kept page of an older build names files by their old digests: this build's copy of the same file
      var wanted = plainName(new URL(request.url).pathname);
      return caches.open(CACHE).then(function (cache) {
        return cache.keys().then(function (keys) {
          var same = keys.filter(function (k) { return plainName(new URL(k.url).pathname) === wanted; })[0];
          return same ? cache.match(same) : Response.error();
        });
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) { event.respondWith(staticFile(request)); return; }
  if (url.pathname + url.search === HELD) {
    event.respondWith(caches.open(PAGES).then(function (pages) { return pages.match(HELD); }).then(function (hit) {
      return hit || new Response("null", { status: 404, headers: { "Content-Type": "application/json" } });
    }));
    return;
  }
  if (request.headers.get("HX-Request")) return;  // fragments: the page's own outbox deals with failures
  if (isFormPage(url.pathname) || isHeldPage(url.pathname)) {
    event.respondWith(withTimeout(fetch(request), NETWORK_TIMEOUT_MS).then(function (response) {
      keep(request, response);
      return response;
    }).catch(function () { return keptPage(request); }));
  }
});

// After an online visit of the home page: fetch the list of what to keep, keep every page on it (drop pages of
// workshops no longer on it) and the list itself with the time it was fetched.
function refreshHoldings() {
  // Signed out, the server answers with a redirect to the sign-in page: not followed, as rendering that page here
  // would start a session of its own and its cookie would replace the one of the sign-in form the person is
  // filling in (whose token would then be refused: "页面已过期").
  return fetch("/offline/holdings.json", { credentials: "same-origin", cache: "no-store", redirect: "manual" })
    .then(function (response) {
    if (!response.ok || response.redirected) return null;  // signed out: keep what is held
    return response.json();
  }).then(function (held) {
    if (!held) return null;
    return caches.open(PAGES).then(function (pages) {
      return pages.match(HELD).then(function (kept) { return kept ? kept.json() : null; }).then(function (before) {
        // the same list, fetched a little while ago: its pages are fresh enough (each visit keeps its own page too)
        var fresh = before && before.digest === held.digest && before.user === held.user &&
          Date.now() - Date.parse(before.refreshed_at) < REFRESH_EVERY_MS;
        return fresh ? before : keepAll(pages, held);
      });
    });
  });
}
function keepAll(pages, held) {
  return Promise.all(held.pages.map(function (path) {
    return fetch(path, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (response.ok && !response.redirected) return pages.put(keptAs(path), response);
    });
  })).then(function () {
    return pages.keys();
  }).then(function (keys) {
    var wanted = {};
    held.pages.forEach(function (p) { wanted[keptAs(p)] = true; });
    return Promise.all(keys.filter(function (k) {
      var path = new URL(k.url).pathname;
      var kept = isHeldPage(path) || path.indexOf("/offline/blank/") === 0;
      return kept && !wanted[path] && k.url.indexOf(HELD) < 0;
    }).map(function (k) { return pages.delete(k); }));
  }).then(function () {
    held.refreshed_at = new Date().toISOString();
    return pages.put(HELD, new Response(JSON.stringify(held), { headers: { "Content-Type": "application/json" } }));
  }).then(function () { return held; });
}

self.addEventListener("message", function (event) {
  if (!event.data || event.data.type !== "refresh-holdings") return;
  event.waitUntil(refreshHoldings().catch(function () { return null; }).then(function (held) {
    if (event.source) event.source.postMessage({ type: "holdings-refreshed", ok: !!held });
  }));
});
