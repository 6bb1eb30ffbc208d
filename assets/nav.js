// Moving between conversations without reloading: links to a conversation (the sidebar's,
// `/c/ID?at=MSG`, `/c/ID#m-MSG`) and Back/Forward fetch the server's page and put its
// conversation in place of the one on screen, under the same live connection. Events that
// arrive while the page is on its way are kept and replayed after the swap; the scroll
// position of the conversation left is remembered for the way back. Anything that is not a
// conversation page (a preview, an error, the sign-in page) is opened the ordinary way.

import { closeMenu, setBaseTitle, syncSidebar } from "./sidebar.js";

/** Older pages loaded at most to find the message the reader had left at the top. */
const MAX_RESTORE_PAGES = 10;

/**
 * The conversation a URL shows in place, `{id, at}`, or null when it needs a page load
 * (another page, a window of older messages, a foreign site).
 */
export function conversationTarget(url) {
  if (url.origin !== location.origin) return null;
  const id = /^\/c\/(\d+)$/.exec(url.pathname)?.[1];
  if (!id || [...url.searchParams.keys()].some((k) => k !== "at")) return null;
  const at = url.searchParams.get("at");
  if (at !== null && !/^\d+$/.test(at)) return null;
  const hash = /^#m-(\d+)$/.exec(url.hash)?.[1];
  if (url.hash && !hash) return null;
  const message = at ?? hash;
  return { id, at: message ? Number(message) : null };
}

/** Where the reader was in each conversation left: at the bottom, or a row and its offset. */
class ScrollMemory {
  constructor() {
    this.places = new Map();
  }

  remember(view) {
    if (!view) return;
    const top = view.scroller.getBoundingClientRect().top;
    const anchor = view.latest && view.atBottom() ? null : view.firstVisible();
    const id = /^m-(\d+)$/.exec(anchor?.id || "")?.[1];
    this.places.set(view.id, id ? { id: Number(id), offset: anchor.getBoundingClientRect().top - top } : null);
  }

  /** Back where the reader was (loading older pages when needed), else at the newest. */
  async restore(view) {
    view.toBottom();
    const place = this.places.get(view.id);
    if (!place) return;
    let row = document.getElementById(`m-${place.id}`);
    for (let i = 0; !row && view.hasMore && view.oldestId() > place.id && i < MAX_RESTORE_PAGES; i++) {
      try {
        await view.loadOlder();
      } catch {
        break;
      }
      row = document.getElementById(`m-${place.id}`);
    }
    if (!row?.isConnected || !view.section.isConnected) return;
    const top = view.scroller.getBoundingClientRect().top;
    view.scroller.scrollTop += row.getBoundingClientRect().top - top - place.offset;
  }
}

/**
 * `current()` is the conversation on screen ({view, composer, handle}) or null; `stop()`
 * takes it off; `start(main)` brings alive the one now in `main` and returns it.
 */
export function initNav({ live, current, stop, start }) {
  const main = document.querySelector(".app > main#main");
  const memory = new ScrollMemory();
  /** The navigation under way: {id, controller}. */
  let pending = null;
  /** What `main` shows (path and query): Back to it changes nothing. */
  let shown = location.pathname + location.search;
  /** Once `main` holds something else than the page loaded, Back to a page needs a load. */
  let swapped = false;

  function record(url, push) {
    if (push && url.href !== location.href) history.pushState({ conversation: conversationTarget(url)?.id }, "", url);
    shown = url.pathname + url.search;
  }

  function focusComposer(on) {
    const field = on?.composer?.field;
    if (field) field.focus({ preventScroll: true });
    else main.focus({ preventScroll: true });
  }

  /** The fetched page is this person's conversation page: it can go in place. */
  function fits(doc) {
    return (
      doc.body?.dataset.me === document.body.dataset.me &&
      !!doc.body.dataset.conversation &&
      !!doc.querySelector(".app > main#main > section.conversation")
    );
  }

  /** Puts the fetched conversation in place; `missed`: its events that came meanwhile. */
  function show(doc, url, target, missed, push) {
    memory.remember(current()?.view);
    stop();
    record(url, push);
    swapped = true;
    document.body.dataset.conversation = doc.body.dataset.conversation;
    const fresh = doc.getElementById("main");
    main.replaceChildren(...[...fresh.childNodes].map((n) => document.importNode(n, true)));
    syncSidebar(doc, doc.body.dataset.conversation);
    setBaseTitle(doc.title.replace(/^\(\d+\) /, ""));
    closeMenu();
    const now = start(main);
    if (!now) return;
    for (const f of missed) now.handle(f); // those the page already shows are skipped
    if (target.at) now.view.jumpTo(target.at, url.href);
    else {
      focusComposer(now);
      memory.restore(now.view);
    }
  }

  /** Opens `href` in place when it is a conversation, else the ordinary way. */
  async function go(href, { push = true } = {}) {
    const url = new URL(href, location.href);
    const target = conversationTarget(url);
    if (!target || !main) {
      location.assign(url.href);
      return;
    }
    const now = current();
    if (!pending && now && now.view.id === target.id && (target.at || now.view.latest)) {
      // Already on screen: only where to look changes.
      record(url, push);
      if (target.at) now.view.jumpTo(target.at, url.href);
      else {
        now.view.toBottom();
        focusComposer(now);
      }
      closeMenu();
      return;
    }
    pending?.controller.abort();
    const mine = { id: target.id, controller: new AbortController() };
    pending = mine;
    const missed = [];
    const stopKeeping = live.on("event", (f) => {
      if (String(f.conversation) === target.id) missed.push(f);
    });
    main.setAttribute("aria-busy", "true");
    try {
      const res = await fetch(url.href, { credentials: "same-origin", signal: mine.controller.signal });
      const html = res.ok && /text\/html/.test(res.headers.get("content-type") || "") ? await res.text() : null;
      if (pending !== mine) return;
      const doc = html && new DOMParser().parseFromString(html, "text/html");
      if (!doc || !fits(doc)) {
        location.assign(res.redirected ? res.url : url.href);
        return;
      }
      show(doc, url, target, missed, push);
    } catch (err) {
      if (err?.name !== "AbortError" && pending === mine) location.assign(url.href);
    } finally {
      stopKeeping();
      if (pending === mine) {
        pending = null;
        main.removeAttribute("aria-busy");
      }
    }
  }

  if (main) {
    document.addEventListener("click", (e) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const a = e.target.closest?.("a[href]");
      if (!a || (a.target && a.target !== "_self") || a.hasAttribute("download")) return;
      const url = new URL(a.href, location.href);
      if (!conversationTarget(url)) return;
      e.preventDefault();
      go(url.href);
    });
    addEventListener("popstate", () => {
      const url = new URL(location.href);
      const target = conversationTarget(url);
      if (url.pathname + url.search === shown) {
        if (target?.at && current()) current().view.jumpTo(target.at);
        return;
      }
      if (target) go(url.href, { push: false });
      else if (swapped) location.reload(); // a page of its own, no longer on screen
    });
  }

  return {
    go,
    /** The conversation on screen, or the one on its way. */
    currentId: () => pending?.id ?? current()?.view.id ?? null,
  };
}
