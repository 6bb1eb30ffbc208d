// The conversation list: unread and mention badges, the "(N) " in the tab title,
// presence dots, the current conversation after moving in place, and the menu button that
// opens the list on narrow screens.

import { setFaviconCount } from "./favicon.js";
import { setAppBadge } from "./notify.js";

let baseTitle = document.title.replace(/^\(\d+\) /, "");

/** The tab title without the unread count (after a rename). */
export function setBaseTitle(title) {
  baseTitle = title;
  updateTitle();
}

function link(id) {
  return document.querySelector(`#sidebar a.conv[data-conversation-id="${id}"]`);
}

function setBadge(badge, n) {
  if (!badge) return;
  badge.hidden = n <= 0;
  badge.dataset[badge.classList.contains("unread-badge") ? "unread" : "mentions"] = String(n);
  const count = badge.querySelector(".n");
  if (count) count.textContent = String(n);
}

/** Sets a conversation's unread count (and optionally its mention count). */
export function setCounts(id, unread, mentions) {
  const a = link(id);
  if (!a) return;
  if (mentions !== undefined) setBadge(a.querySelector(".mention-badge"), mentions);
  if (unread <= 0) setBadge(a.querySelector(".mention-badge"), 0);
  a.dataset.unread = String(unread);
  // A muted conversation shows no unread count unless someone mentioned me there.
  const shown = a.dataset.muted !== undefined && count(a, "mention") === 0 ? 0 : unread;
  setBadge(a.querySelector(".unread-badge"), shown);
  a.classList.toggle("unread", shown > 0);
  updateTitle();
}

/** Marks a conversation muted or not (its setting changed, here or in another tab). */
export function setMuted(id, muted) {
  const a = link(id);
  if (!a) return;
  if (muted) a.dataset.muted = "";
  else delete a.dataset.muted;
  setCounts(id, unreadOf(a));
}

/** Unread messages, muted or not (the badge may show fewer). */
function unreadOf(a) {
  return Number(a?.dataset.unread ?? count(a, "unread"));
}

function count(a, kind) {
  return Number(a?.querySelector(`.${kind}-badge`)?.dataset[kind === "unread" ? "unread" : "mentions"] || 0);
}

/** "(N) Name · Hearth" with N the unread total; the menu button shows it too. */
export function updateTitle() {
  let total = 0;
  for (const a of document.querySelectorAll("#sidebar a.conv")) total += count(a, "unread");
  total += count(document.querySelector("#sidebar a.inbox-link"), "unread");
  document.title = total > 0 ? `(${total}) ${baseTitle}` : baseTitle;
  setFaviconCount(total);
  // The app's icon counts what is for me: mentions, and unread directs not muted.
  let mine = 0;
  for (const a of document.querySelectorAll("#sidebar a.conv")) {
    mine += a.dataset.kind === "direct" ? count(a, "unread") : count(a, "mention");
  }
  setAppBadge(mine);
  const menu = document.querySelector(".total-badge");
  if (menu) {
    menu.hidden = total === 0;
    const n = menu.querySelector(".n");
    if (n) n.textContent = String(total);
  }
}

/** Moves a conversation to the top of its section (newest activity first). */
function toTop(id) {
  const li = link(id)?.closest("li");
  if (li && li.parentElement.firstElementChild !== li) li.parentElement.prepend(li);
}

/** Presence dots (and words) of one person, wherever they are on the page. */
export function setPresence(userId, status) {
  for (const dot of document.querySelectorAll(`.presence[data-user-id="${userId}"]`)) {
    dot.dataset.status = status;
    dot.setAttribute("aria-label", status);
    dot.title = status;
  }
  for (const word of document.querySelectorAll(`[data-status-for="${userId}"]`)) word.textContent = status;
}

/**
 * Live changes to counts, numbered: `touched` holds the number of each conversation's last
 * one. A re-read from the server that overlapped a live change may predate it, so it leaves
 * that conversation alone and reads again.
 */
let changes = 0;
const touched = new Map();
let refreshTimer;

function touch(id) {
  touched.set(String(id), ++changes);
}

/** Whether a live change reached `id` after change number `since`. */
function changedSince(id, since) {
  return (touched.get(String(id)) ?? 0) > since;
}

function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshUnread, 300);
}

/** Re-reads every count from the server (after a reconnect, or when counts may be off). */
export async function refreshUnread() {
  const since = changes;
  try {
    const res = await fetch("/api/v1/unread", { credentials: "same-origin" });
    if (!res.ok) return;
    const u = await res.json();
    let stale = false;
    for (const a of document.querySelectorAll("#sidebar a.conv")) {
      const id = a.dataset.conversationId;
      if (changedSince(id, since)) stale = true;
      else setCounts(id, u.conversations?.[id] || 0, u.mention_counts?.[id] || 0);
    }
    if (stale) refreshSoon();
  } catch {
    /* offline: the badges stay as they are */
  }
}

/** Adds conversations the list does not show yet (joined or added elsewhere). */
async function refreshList() {
  const since = changes;
  try {
    const res = await fetch("/api/v1/conversations", { credentials: "same-origin" });
    if (!res.ok) return;
    const body = await res.json();
    let stale = false;
    for (const c of body.conversations || body) {
      // Support conversations are reached by the inbox or the team's entry, never the lists.
      if (!link(c.id) && !c.support) addEntry(c);
      if (changedSince(c.id, since)) stale = true;
      else setCounts(c.id, c.unread || 0, c.mentions || 0);
    }
    if (stale) refreshSoon();
  } catch {
    /* try again on the next change */
  }
}

function addEntry(c) {
  const section = { channel: "nav-channels", group: "nav-groups", direct: "nav-directs" }[c.kind];
  const list = document.querySelector(`#sidebar ul[data-kind="${section}"]`);
  if (!list) return;
  const li = document.createElement("li");
  const a = document.createElement("a");
  a.className = "conv";
  a.href = `/c/${c.id}`;
  a.dataset.conversationId = c.id;
  a.dataset.kind = c.kind;
  let icon = document.createElement("span");
  if (c.kind !== "direct" && c.picture_url) {
    icon = document.createElement("img");
    icon.className = "conv-picture";
    icon.src = c.picture_url;
    icon.alt = "";
  } else if (c.kind === "direct" && c.other) {
    icon.className = "presence";
    icon.dataset.userId = c.other.id;
    icon.dataset.status = "offline";
  } else {
    icon.className = "conv-icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = c.kind === "group" ? "🔒" : "#";
  }
  const name = document.createElement("span");
  name.className = "conv-name";
  name.textContent = c.title || c.name || "Direct message";
  a.append(icon, name, badge("mention", "@", " mentions"), badge("unread", "", " unread"));
  li.append(a);
  list.prepend(li);
  list.parentElement.querySelector(".nav-empty")?.remove();
}

function badge(kind, prefix, words) {
  const b = document.createElement("span");
  b.className = `badge ${kind}-badge`;
  b.hidden = true;
  const n = document.createElement("span");
  n.className = "n";
  n.textContent = "0";
  const hidden = document.createElement("span");
  hidden.className = "visually-hidden";
  hidden.textContent = words;
  b.append(prefix, n, hidden);
  return b;
}

/** Whether a message fragment mentions `me` (parsed inert, in a template). */
function mentionsMe(html, me) {
  const t = document.createElement("template");
  t.innerHTML = html || "";
  return !!t.content.querySelector(`.mention[data-user-id="${me}"]`);
}

/**
 * Keeps the list current from live events. `reading(id)` says whether the person is
 * looking at that conversation's newest messages right now (then nothing is unread).
 */
export function initSidebar(live, me, reading) {
  live.on("stop", () => clearTimeout(refreshTimer));
  live.on("ready", () => refreshUnread());
  live.on("presence", (f) => setPresence(f.user_id, f.status));
  live.on("event", (f) => {
    const id = f.conversation;
    const data = f.data || {};
    switch (f.event) {
      case "message.created": {
        toTop(id);
        const m = data.message;
        if (!m || String(m.sender?.id) === me || reading(id)) return;
        touch(id);
        const a = link(id);
        if (!a) return refreshList();
        const mentioned = mentionsMe(data.html, me);
        setCounts(id, unreadOf(a) + 1, count(a, "mention") + (mentioned ? 1 : 0));
        break;
      }
      case "message.deleted":
        refreshSoon();
        break;
      case "read.updated":
        if (String(data.user?.id) === me) refreshSoon();
        break;
      case "conversation.updated": {
        const c = data.conversation;
        const a = link(id);
        if (!a || !c) return;
        if (c.kind !== "direct") a.querySelector(".conv-name").textContent = c.name;
        a.classList.toggle("archived", !!c.archived);
        break;
      }
      case "membership.changed": {
        if (String(data.user?.id) !== me) return;
        if (["left", "removed"].includes(data.action)) link(id)?.closest("li")?.remove();
        else if (!link(id)) refreshList();
        updateTitle();
        break;
      }
    }
  });
}

/** The conversation links in the order the list shows them (the support one first). */
export function conversationLinks() {
  return [...document.querySelectorAll("#sidebar a.conv[data-conversation-id]")];
}

/**
 * After a conversation came in place from a fetched page (`doc`): the list says which one is
 * on screen, gains the entries it did not have yet (a direct just opened), and takes the
 * page's counts for those and the one on screen (live events keep the others current).
 */
export function syncSidebar(doc, id) {
  for (const a of document.querySelectorAll("#sidebar a[aria-current]")) a.removeAttribute("aria-current");
  for (const fresh of doc.querySelectorAll("#sidebar a.conv[data-conversation-id]")) {
    const cid = fresh.dataset.conversationId;
    const known = !!link(cid);
    if (!known) {
      const kind = fresh.closest("ul[data-kind]")?.dataset.kind;
      const list = kind && document.querySelector(`#sidebar ul[data-kind="${kind}"]`);
      if (!list) continue;
      list.prepend(document.importNode(fresh.closest("li"), true));
      list.parentElement.querySelector(".nav-empty")?.remove();
    }
    if (!known || cid === String(id)) setCounts(cid, unreadOf(fresh), count(fresh, "mention"));
  }
  link(id)?.setAttribute("aria-current", "page");
}

/** Closes the list's panel on narrow screens (a conversation was chosen in it). */
export let closeMenu = () => {};

/** The menu button opens the list as a panel on narrow screens (a plain link without script). */
export function initMenu() {
  const toggle = document.querySelector(".menu-toggle");
  const nav = document.getElementById("sidebar");
  if (!toggle || !nav) return;
  const set = (open) => {
    if (!open && !nav.classList.contains("open")) return;
    nav.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", String(open));
    if (open) nav.querySelector("a[aria-current], a")?.focus();
  };
  toggle.addEventListener("click", (e) => {
    e.preventDefault();
    set(!nav.classList.contains("open"));
  });
  toggle.addEventListener("keydown", (e) => {
    if (e.key === " ") {
      e.preventDefault();
      set(!nav.classList.contains("open"));
    }
  });
  nav.querySelector(".close-nav")?.addEventListener("click", (e) => {
    e.preventDefault();
    set(false);
    toggle.focus();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && nav.classList.contains("open")) {
      e.preventDefault(); // closing the list is all this Esc does
      set(false);
      toggle.focus();
    }
  });
  closeMenu = () => set(false);
  updateTitle();
}
