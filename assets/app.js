// Hearth's page script: progressive enhancement; every page works without it.
// Signed-in pages open the live connection (one for the page's life); the conversation on
// screen comes alive, and is swapped for another in place when the person moves.

import { Edits, initActions } from "./actions.js";
import { Composer } from "./composer.js";
import { initCopy } from "./copy.js";
import { initCards, initLightbox } from "./files.js";
import { Conversation } from "./conversation.js";
import { clearAllDrafts } from "./drafts.js";
import { initKeys } from "./keys.js";
import { initNav } from "./nav.js";
import { initNotify } from "./notify.js";
import { Reads } from "./reads.js";
import { initMenu, initSidebar, setBaseTitle, setCounts, setMuted } from "./sidebar.js";
import { initSupport } from "./support.js";
import "./sw-register.js";
import { initSearch } from "./search.js";
import { localizeTimes } from "./time.js";
import { Live } from "./ws.js";

document.documentElement.classList.add("js");

/** Focuses the first field that asks for input, so keyboard users can type at once. */
function focusFirstField() {
  const field = document.querySelector("[data-autofocus]");
  if (field instanceof HTMLElement) field.focus();
}

/** Refuses to submit a form twice while the first submission is on its way. */
function guardForms(root = document) {
  for (const form of root.querySelectorAll("form:not(#composer)")) {
    form.addEventListener("submit", () => {
      setTimeout(() => {
        for (const b of form.querySelectorAll("button[type=submit]")) b.disabled = true;
      });
    });
  }
}

function guardDoubleSubmit() {
  guardForms();
  addEventListener("pageshow", (e) => {
    // A signed-in page restored by Back may be stale, or signed out since: ask again.
    if (e.persisted && document.body.dataset.me) location.reload();
    // Coming back through the history: the buttons work again.
    for (const b of document.querySelectorAll("button[type=submit]:disabled")) b.disabled = false;
  });
}

/**
 * Everything about the conversation on screen, until `stop()` takes it off: then nothing of
 * it listens any more (to the socket, the window or the document), so the next conversation
 * brought in place is the only one handling events. `handle(frame)` is its event handler,
 * for events that arrived while it was being fetched.
 */
function startConversation(section, live, me) {
  const scope = new AbortController();
  const { signal } = scope;
  const view = new Conversation(section, me);
  const reads = new Reads(view, live, setCounts, signal);
  let composer = null;
  const edits = new Edits(view, live, () => composer);
  const form = document.getElementById("composer");
  if (form) composer = new Composer(form, view, live, edits);
  initActions(view, live, composer ?? { say: () => {}, reply: () => {}, focus: () => {} }, edits, signal);

  live.on(
    "typing",
    (f) => {
      if (String(f.conversation) === view.id && f.user) reads.typing(f.user);
    },
    { signal },
  );
  // The page already shows every event up to its seq (a socket behind may still bring them).
  const pageSeq = Number(section.dataset.seq) || 0;
  const handle = (f) => {
    if (String(f.conversation) !== view.id || f.seq <= pageSeq) return;
    const data = f.data || {};
    switch (f.event) {
      case "message.created": {
        const m = data.message;
        if (m?.client_id && String(m.sender?.id) === view.me) view.settle(m.client_id);
        const wasAtBottom = view.atBottom();
        const article = view.upsert(data.html);
        reads.stopTyping(m?.sender?.id);
        if (!article && !view.latest) reads.offerNewBelow();
        else if (article) {
          reads.noteArrival(article);
          if (!wasAtBottom && article.dataset.sender !== view.me) reads.offerNewBelow();
        }
        break;
      }
      case "message.updated":
      case "message.deleted":
      case "reaction.changed":
        view.upsert(data.html);
        break;
      case "read.updated":
        reads.onRead(data);
        break;
      case "conversation.updated":
        if (data.html) view.upsert(data.html); // its line in the timeline
        conversationChanged(data.conversation);
        break;
      case "membership.changed":
        if (data.html) view.upsert(data.html);
        membershipChanged(view, data);
        break;
    }
  };
  live.on("event", handle, { signal });
  const stop = () => {
    scope.abort();
    view.stop();
  };
  return { view, reads, composer, handle, stop };
}

function conversationChanged(c) {
  if (!c) return;
  const section = document.querySelector("section.conversation");
  const archivedNow = !!c.archived;
  const archivedBefore = !!section.querySelector(".archived-notice");
  if (archivedNow !== archivedBefore) {
    location.reload(); // the composer comes or goes
    return;
  }
  if (c.kind !== "direct") {
    section.querySelector("#conv-title .conv-name").textContent = c.name;
    const topic = section.querySelector(".conv-head .topic");
    if (topic) topic.textContent = c.topic || "";
    setBaseTitle(`${c.name} · Hearth`);
  }
}

function membershipChanged(view, data) {
  const user = data.user;
  if (!user) return;
  const id = String(user.id);
  if (["left", "removed"].includes(data.action)) {
    view.members.delete(id);
    if (id === view.me) {
      const notice = document.createElement("p");
      notice.className = "archived-notice";
      notice.setAttribute("role", "status");
      notice.textContent = "You are no longer a member of this conversation.";
      document.getElementById("composer")?.replaceWith(notice);
    }
  } else if (!view.members.has(id)) {
    view.members.set(id, { id, username: user.username, name: user.display_name, lastRead: 0 });
  }
}

/** The members of the conversation, fresh from the API (the page's copy may be old after a reconnect). */
async function refreshMembers(view) {
  try {
    const res = await fetch(`/api/v1/conversations/${view.id}`, { credentials: "same-origin" });
    if (!res.ok) return;
    const c = await res.json();
    const members = c.members || c.conversation?.members;
    if (!Array.isArray(members)) return;
    view.members.clear();
    for (const m of members) {
      view.members.set(String(m.id), {
        id: String(m.id),
        username: m.username,
        name: m.display_name,
        lastRead: Number(m.last_read_message_id) || 0,
      });
    }
  } catch {
    /* keep what the page had */
  }
}

function main() {
  localizeTimes();
  initSearch();
  focusFirstField();
  guardDoubleSubmit();
  initCopy();
  initMenu();
  initLightbox();
  const me = document.body.dataset.me;
  if (!me) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const section = document.querySelector("section.conversation");
  // What happens between the page's render and the socket's ready is replayed from the
  // page's own seq, not lost.
  const since = section?.dataset.seq ? Number(section.dataset.seq) : null;
  const live = new Live(`${scheme}//${location.host}/api/v1/ws`, since);
  /** The conversation on screen (null on other pages); replaced when moving in place. */
  let current = section ? startConversation(section, live, me) : null;
  // Signing out: nothing scheduled may reach the server once the session is gone.
  document.querySelector("form.logout")?.addEventListener("submit", () => {
    clearAllDrafts(me);
    live.stop();
  });
  initCards((text, error) => current?.composer?.say(text, error));
  initSidebar(live, me, (id) => !!current && String(id) === current.view.id && current.view.latest && readingNow(current.view));
  initSupport(live);
  initNotify(live);
  live.on("event", (f) => {
    if (f.event === "notify.updated") setMuted(f.conversation, !!f.data?.muted);
  });
  live.on("ready", ({ resumed }) => {
    if (current && resumed) refreshMembers(current.view);
  });
  const nav = initNav({
    live,
    current: () => current,
    stop() {
      current?.stop();
      current = null;
    },
    start(main) {
      localizeTimes(main);
      initSearch(main);
      guardForms(main);
      initCopy(main);
      const fresh = main.querySelector("section.conversation");
      current = fresh ? startConversation(fresh, live, me) : null;
      return current;
    },
  });
  initKeys({ nav, current: () => current });
  if (current) {
    const target = /^#m-(\d+)$/.exec(location.hash)?.[1] ?? new URLSearchParams(location.search).get("at");
    if (target) current.view.jumpTo(Number(target));
    else current.view.toBottom();
  }
  live.connect();
}

function readingNow(view) {
  return document.visibilityState === "visible" && document.hasFocus() && view.atBottom(80);
}

main();
