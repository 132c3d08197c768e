// Service worker: only one job. A page load that cannot reach the gateway gets the cached offline page, which
// retries by itself and returns to the page when the gateway answers. Nothing else is cached: pages and data
// always come from the gateway (no-store), so a signed-out or stale page is never shown from a cache.
'use strict';

const CACHE = 'vitals-offline-v1';
const OFFLINE = ['/offline.html', '/offline.js', '/app.css', '/favicon.svg'];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(OFFLINE)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.mode === 'navigate') {
    e.respondWith(fetch(e.request).catch(() => caches.match('/offline.html')));
  } else if (url.origin === self.location.origin && OFFLINE.includes(url.pathname)) {
    e.respondWith(fetch(e.request).catch(() => caches.match(url.pathname)));
  }
});
