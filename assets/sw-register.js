// The installed app's page side: registers the service worker on signed-in pages, has it
// keep a copy of the page it could not see open, opens in place what a clicked notification
// points at, and starts the offline handling (the kept-copy banner, messages waiting to send).

import { initOffline } from "./offline.js";

/** Shows `url` (a path of this site): a conversation in place through the page's own link
 * handling (nav.js), anything else by an ordinary navigation. */
function openInPlace(url) {
  const target = new URL(url, location.href);
  if (target.origin !== location.origin) return;
  if (target.href === location.href) return;
  const a = document.createElement("a");
  a.href = target.href;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
}

async function register() {
  const seen = !!navigator.serviceWorker.controller;
  await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  if (seen) return;
  // This page loaded before the worker ran. One that was still loading when the worker took
  // the open pages is not its page yet: ask again. And ask it to keep a copy, for offline.
  const ready = await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) ready.active?.postMessage({ type: "claim" });
  ready.active?.postMessage({ type: "keep", url: location.pathname + location.search });
}

if ("serviceWorker" in navigator && document.body?.dataset.me) {
  navigator.serviceWorker.addEventListener("message", (e) => {
    // The worker asks what is on screen (moving in place does not change what it sees).
    if (e.data?.type === "showing") e.ports[0]?.postMessage({ path: location.pathname });
    else if (e.data?.type === "open" && typeof e.data.url === "string") openInPlace(e.data.url);
  });
  // Without a worker the app still works, online; there is nothing to tell the person.
  register().catch(() => {});
}

initOffline();
