// Hearth's service worker, at the root scope. It keeps this build's scripts and styles and a
// copy of the last pages seen (the conversations, with their list beside them), so the app
// opens without a connection on what this device last saw; and it shows the notifications
// that pages and Web Push ask for, one per message however many tabs ask.
//
// The server puts one line before this file: `const HEARTH = {build, shell, icon}` (this
// build's hash, the asset URLs to keep on install, the icon notifications show).
//
// Pages talk to it with postMessage:
//   page -> worker  {type: "notify", id, conversation, title, body, url, tag}
//                   (with a port, the worker answers {id, shown} on it once decided)
//                   {type: "badge", n}
//                   {type: "keep", url}      keep a copy of a page opened before the worker ran
//                   {type: "claim"}          take this page, which loaded while the worker started
//   worker -> page  {type: "showing"}        with a port: the page answers {path} on it
//                   {type: "open", url}      a notification was clicked: show `url`
//                   {type: "resubscribe"}    the push subscription changed: subscribe again

/* global HEARTH */

const SHELL = `hearth-shell-${HEARTH.build}`;
const PAGES = `hearth-pages-${HEARTH.build}`;
/** Pictures, the logo and the accent stylesheet: named by their content, the same across builds. */
const MEDIA = "hearth-media";
/** The most recent pages kept; older copies go. */
const MAX_PAGES = 30;
const MAX_MEDIA = 200;
/** Message ids already notified, remembered so that each is shown once. */
const MAX_SHOWN = 500;
/** How long a page has to say what it shows before its URL is taken instead. */
const ASK_WITHIN = 500;

/** The pages worth a copy: the conversation list (`/`) and each conversation. */
const KEPT = /^\/(c\/\d+)?$/;
/** Answers named by their content: once fetched, never different. */
const IMMUTABLE = /^\/assets\/[0-9a-f]+\//;
/** Not pages: the worker leaves these to the network (files stream, the API is live). */
const NOT_PAGES = /^\/(api|assets|files|thumbs|pictures|logo|theme\.css|healthz|metrics|sw\.js|manifest\.webmanifest)(\/|$|\?)/;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL);
      // One asset that fails does not stop the rest (it is fetched again when a page asks).
      await Promise.all(
        HEARTH.shell.map(async (url) => {
          try {
            const res = await fetch(url, { cache: "no-cache" });
            if (res.ok) await cache.put(url, res);
          } catch {
            /* kept on first use instead */
          }
        }),
      );
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const current = new Set([SHELL, PAGES, MEDIA]);
      for (const name of await caches.keys()) {
        if (name.startsWith("hearth-") && !current.has(name)) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== location.origin) return;
  if (IMMUTABLE.test(url.pathname)) {
    event.respondWith(cacheFirst(event, SHELL));
  } else if (/^\/pictures\/[0-9a-f]{64}$/.test(url.pathname) || isVersioned(url)) {
    event.respondWith(cacheFirst(event, MEDIA, MAX_MEDIA));
  } else if (req.mode === "navigate" && !NOT_PAGES.test(url.pathname)) {
    event.respondWith(page(event, url));
  } else if (KEPT.test(url.pathname) && !url.search) {
    // The page script fetching a conversation to show it in place.
    event.respondWith(page(event, url));
  }
});

/** `/logo?v=…` and `/theme.css?v=…`: a new version is a new URL. */
function isVersioned(url) {
  return (url.pathname === "/logo" || url.pathname === "/theme.css") && url.searchParams.has("v");
}

/** A plain, complete, same-origin answer: the only kind worth keeping. */
function keepable(res) {
  return res.status === 200 && res.type === "basic" && !res.redirected && res.headers.get("vary") !== "*";
}

async function cacheFirst(event, name, bound = 0) {
  const hit = await caches.match(event.request);
  if (hit) return hit;
  const res = await fetch(event.request);
  if (keepable(res)) {
    const copy = res.clone();
    event.waitUntil(
      (async () => {
        const cache = await caches.open(name);
        await cache.put(event.request, copy);
        if (bound) await trim(cache, bound);
      })().catch(() => {}),
    );
  }
  return res;
}

/** Drops the oldest entries of `cache` past `bound` (entries are kept in the order put). */
async function trim(cache, bound) {
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, Math.max(0, keys.length - bound)).map((k) => cache.delete(k)));
}

/**
 * A page: from the network, keeping a copy of the conversation list and of conversations;
 * when the network fails (or the server is away behind a proxy), the copy this device kept.
 */
async function page(event, url) {
  let res;
  try {
    res = await fetch(event.request);
  } catch {
    res = null;
  }
  if (res && res.status >= 502 && res.status <= 504) {
    const kept = await keptCopy(url);
    if (kept) return kept;
  }
  if (res) {
    if (KEPT.test(url.pathname) && !url.search) {
      if (keepable(res)) event.waitUntil(keep(url.pathname, res.clone()));
      // Sent elsewhere now, or gone: the copy would show what is no longer there.
      else if (gone(res)) event.waitUntil(forget(url.pathname));
    }
    return res;
  }
  const kept = await keptCopy(url);
  if (kept) return kept;
  return event.request.mode === "navigate" ? offlinePage() : Response.error();
}

function gone(res) {
  return res.type === "opaqueredirect" || res.redirected || res.status === 404 || res.status === 410;
}

async function forget(path) {
  const cache = await caches.open(PAGES);
  await cache.delete(path);
}

/** Whether `html` is a signed-in page (a sign-in form is never kept). */
function signedIn(html) {
  const start = html.indexOf("<body");
  const tag = start < 0 ? "" : html.slice(start, html.indexOf(">", start));
  return /\sdata-me="\d+"/.test(tag);
}

/** Keeps `res` as the copy of `path`, the most recent of the pages kept. */
async function keep(path, res) {
  if (!(res.headers.get("content-type") || "").startsWith("text/html")) return;
  const html = await res.text();
  if (!signedIn(html)) return;
  const headers = new Headers();
  for (const [name, value] of res.headers) {
    if (!["content-encoding", "content-length", "transfer-encoding", "etag"].includes(name)) headers.set(name, value);
  }
  headers.set("x-hearth-kept", String(Date.now()));
  const cache = await caches.open(PAGES);
  await cache.delete(path);
  await cache.put(path, new Response(html, { status: 200, headers }));
  await trim(cache, MAX_PAGES);
}

/**
 * The copy kept of the page at `url`, marked as a copy for the page script (`data-offline-copy`
 * on its body, the time it was kept). The conversation list, never kept as a page of its own
 * when it sends people on to a conversation, is the conversation last seen.
 */
async function keptCopy(url) {
  const cache = await caches.open(PAGES);
  const kept = await cache.match(url.pathname);
  if (!kept) {
    if (url.pathname !== "/") return null;
    const keys = await cache.keys();
    const last = keys.reverse().find((k) => /^\/c\/\d+$/.test(new URL(k.url).pathname));
    return last ? Response.redirect(last.url, 302) : null;
  }
  const when = Number(kept.headers.get("x-hearth-kept")) || 0;
  // Markup and text on the page are escaped: the first `<body` is the body tag.
  const html = (await kept.text()).replace("<body", `<body data-offline-copy="${when}"`);
  return new Response(html, { status: 200, headers: kept.headers });
}

/** What a page not kept on this device says without a connection. */
function offlinePage() {
  const css = HEARTH.shell.find((u) => u.endsWith("/hearth.css"));
  const html = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Offline · Hearth</title>
${css ? `<link rel="stylesheet" href="${css}">` : ""}</head>
<body><main id="main"><section class="card" role="alert"><h1>You are offline</h1>
<p>This page was not kept on this device. The conversations it last saw open without a connection.</p>
<p><a class="button" href="/">Open the conversations</a></p></section></main></body></html>`;
  return new Response(html, {
    status: 503,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": "default-src 'self'; script-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    },
  });
}

// --- Notifications ------------------------------------------------------------------------

/** Message ids notified (or judged not to be), oldest first. */
const shown = new Set();

/** Whether message `id` is asked about for the first time; remembers it. */
function firstTime(id) {
  if (id === undefined || id === null || id === "") return true;
  const key = String(id);
  if (shown.has(key)) return false;
  shown.add(key);
  if (shown.size > MAX_SHOWN) shown.delete(shown.values().next().value);
  return true;
}

/**
 * The path window `w` shows now. A page that moves in place (history.pushState) keeps the
 * URL it opened with as its client URL, so the page is asked; one that does not answer in
 * time is taken at its URL.
 */
function showing(w) {
  const opened = new URL(w.url).pathname;
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(opened), ASK_WITHIN);
    channel.port1.onmessage = (e) => {
      clearTimeout(timer);
      resolve(typeof e.data?.path === "string" ? e.data.path : opened);
    };
    try {
      w.postMessage({ type: "showing" }, [channel.port2]);
    } catch {
      clearTimeout(timer);
      resolve(opened);
    }
  });
}

/** Whether someone is reading `conversation` now: a window showing it, visible and focused. */
async function reading(conversation) {
  if (conversation === undefined || conversation === null) return false;
  const path = `/c/${conversation}`;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const looking = windows.filter((w) => w.visibilityState === "visible" && w.focused);
  return (await Promise.all(looking.map(showing))).includes(path);
}

/** A path of this site for `url` (the conversation's page when there is none). */
function localUrl(url, conversation) {
  const fallback = conversation !== undefined && conversation !== null ? `/c/${conversation}` : "/";
  try {
    const u = new URL(url || fallback, location.origin);
    return u.origin === location.origin ? u.pathname + u.search + u.hash : fallback;
  } catch {
    return fallback;
  }
}

/**
 * Shows the notification of one message, unless it was shown already (another tab, or a push
 * for the same message) or the person is reading its conversation right now.
 */
async function notify({ id, conversation, title, body, url, tag }) {
  // Decided before anything is awaited: the same message from a second tab finds it taken.
  if (!firstTime(id)) return false;
  if (await reading(conversation)) return false;
  const named = tag || (id !== undefined && id !== null ? `m-${id}` : undefined);
  await self.registration.showNotification(String(title || "Hearth"), {
    body: String(body || ""),
    tag: named,
    // A new message under the same tag (the same conversation) alerts again.
    renotify: !!named,
    data: { url: localUrl(url, conversation), id: id ?? null },
    icon: HEARTH.icon,
    badge: HEARTH.icon,
  });
  return true;
}

/** The number on the app's icon; 0 takes it away. Where badges are not supported, nothing. */
async function setBadge(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return;
  try {
    if (n > 0 && self.navigator.setAppBadge) await self.navigator.setAppBadge(Math.floor(n));
    else if (n <= 0 && self.navigator.clearAppBadge) await self.navigator.clearAppBadge();
  } catch {
    /* not installed, or not allowed: the badge is a nicety */
  }
}

self.addEventListener("message", (event) => {
  const m = event.data || {};
  if (m.type === "notify") {
    const answer = (shown) => event.ports[0]?.postMessage({ id: m.id ?? null, shown });
    event.waitUntil(notify(m).then(answer, () => answer(false)));
  } else if (m.type === "badge") {
    event.waitUntil(setBadge(Number(m.n)));
  } else if (m.type === "keep") {
    event.waitUntil(keepNow(m.url).catch(() => {}));
  } else if (m.type === "claim") {
    event.waitUntil(self.clients.claim());
  }
});

/** Keeps a copy of a page that was opened before this worker could see it. */
async function keepNow(path) {
  const url = new URL(String(path || "/"), location.origin);
  if (url.origin !== location.origin || !KEPT.test(url.pathname) || url.search) return;
  const res = await fetch(url.pathname, { credentials: "same-origin" });
  if (keepable(res)) await keep(url.pathname, res);
}

self.addEventListener("push", (event) => {
  let p = {};
  try {
    p = event.data ? event.data.json() : {};
  } catch {
    p = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    Promise.all([
      notify({ id: p.message_id, conversation: p.conversation, title: p.title, body: p.body, url: p.url, tag: p.tag }),
      setBadge(p.badge),
    ]).catch(() => {}),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(open(localUrl(event.notification.data?.url)));
});

/** Brings a window of the app forward on `url` (in place), or opens one. */
async function open(url) {
  const path = new URL(url, location.origin).pathname;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const paths = await Promise.all(windows.map(showing));
  const best =
    windows.find((w, i) => paths[i] === path) ||
    windows.find((w) => w.focused) ||
    windows.find((w) => w.visibilityState === "visible") ||
    windows[0];
  if (!best) {
    await self.clients.openWindow(url);
    return;
  }
  let shown = best;
  try {
    shown = (await best.focus()) || best;
  } catch {
    /* focusing needs the click's user activation; the message still goes */
  }
  shown.postMessage({ type: "open", url });
}

// A renewed push subscription has to reach the server, which only a signed-in page can
// tell: the open windows are asked to subscribe again. With none open, the page does it
// the next time it starts.
self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil(
    self.clients.matchAll({ type: "window" }).then((windows) => {
      for (const w of windows) w.postMessage({ type: "resubscribe" });
    }),
  );
});
