// The service worker of a volunteer's collecting page (editor/survey/collect.py serves it, with
// `self.COLLECT` set on its first line: the page, its assets, the cache's name and its prefix).
//
// It keeps the page and its assets so that the page opens again with the network off, also after
// a reload. The page is asked of the network first (a fresh copy, in the reader's language, with
// a fresh CSRF token) and the kept copy is used when there is no network; assets come from the
// cache, which is filled afresh whenever they change (their digest is in the cache's name, so a
// changed asset changes this script and the browser installs it again). The API is never cached.
/* global self, caches, fetch, Response */
(function () {
  "use strict";

  var config = self.COLLECT;

  self.addEventListener("install", function (event) {
    event.waitUntil(caches.open(config.cache).then(function (cache) {
      return cache.addAll([config.page].concat(config.assets));
    }).then(function () { return self.skipWaiting(); }));
  });

  self.addEventListener("activate", function (event) {
    event.waitUntil(caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf(config.prefix) === 0 && name !== config.cache;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); }));
  });

  function page(request) {
    return caches.open(config.cache).then(function (cache) {
      return fetch(request).then(function (response) {
        if (response.ok && response.type === "basic" && !response.redirected) {
          return cache.put(config.page, response.clone()).then(function () { return response; });
        }
        if (response.status === 403 || response.status === 404) {
          // The questionnaire closed (or the account lost the right) while answers wait on this
          // tablet: the kept page still sends them; it asks the server and offers no new form.
          return cache.match(config.page).then(function (kept) { return kept || response; });
        }
        return response;  // a redirect to sign in, a server error: as the server says
      }, function () {
        return cache.match(config.page).then(function (kept) { return kept || Response.error(); });
      });
    });
  }

  function asset(request) {
    return caches.open(config.cache).then(function (cache) {
      return cache.match(request, { ignoreSearch: true }).then(function (kept) {
        return kept || fetch(request).then(function (response) {
          if (response.ok) { cache.put(request, response.clone()); }
          return response;
        });
      });
    });
  }

  self.addEventListener("fetch", function (event) {
    var request = event.request;
    if (request.method !== "GET") { return; }
    var url = new URL(request.url);
    if (url.origin !== self.location.origin) { return; }
    if (url.pathname === config.page) {
      event.respondWith(page(request));
    } else if (config.assets.indexOf(url.pathname) !== -1) {
      event.respondWith(asset(request));
    }
  });
}());
