// The support inbox, live: the admins' "Inbox" badge and inbox list, and the panel beside a
// support conversation (its state, assignee and internal notes). Without script each of them
// is current on the next page load.

import { updateTitle } from "./sidebar.js";

/** Parses a page the server rendered (inert, never run) and returns one element of it. */
function fromPage(html, id) {
  return new DOMParser().parseFromString(html, "text/html").getElementById(id);
}

async function fetchPage(url) {
  const res = await fetch(url, { credentials: "same-origin" });
  return res.ok ? res.text() : null;
}

function setInboxBadge(link, n) {
  const badge = link.querySelector(".unread-badge");
  if (!badge) return;
  badge.hidden = n <= 0;
  badge.dataset.unread = String(n);
  const count = badge.querySelector(".n");
  if (count) count.textContent = String(n);
  updateTitle();
}

/** A fresh copy of the inbox list from the server (the page's own filter kept). */
async function refreshList(list) {
  const html = await fetchPage(location.href);
  const fresh = html && fromPage(html, "inbox-list");
  if (fresh) list.replaceWith(fresh);
}

/** A fresh copy of the panel, keeping a note being written and whether the notes are open. */
async function refreshPanel() {
  const html = await fetchPage(location.pathname);
  const fresh = html && fromPage(html, "support-panel");
  const current = document.getElementById("support-panel");
  if (!fresh || !current) return;
  const typed = current.querySelector("#note-body")?.value ?? "";
  const open = current.querySelector("details.notes-box")?.open;
  current.replaceWith(fresh);
  const body = fresh.querySelector("#note-body");
  if (body) body.value = typed;
  const box = fresh.querySelector("details.notes-box");
  if (box && open !== undefined) box.open = open || box.open;
}

/** Adds a note that arrived live (the server's fragment), once. */
function addNote(data) {
  const notes = document.getElementById("notes");
  if (!notes || !data?.html || document.getElementById(`note-${data.note?.id}`)) return;
  const t = document.createElement("template");
  t.innerHTML = data.html;
  notes.append(t.content);
  const count = document.querySelector("#support-panel .note-count");
  if (count) count.textContent = String(notes.querySelectorAll("article.note").length);
  const box = document.querySelector("#support-panel details.notes-box");
  if (box) box.open = true;
}

export function initSupport(live) {
  const inboxLink = document.querySelector("#sidebar a.inbox-link");
  if (!inboxLink) return; // only admins have an inbox, notes and the panel
  let timer;
  const refresh = async () => {
    if (live.stopped) return;
    try {
      const res = await fetch("/api/v1/inbox", { credentials: "same-origin" });
      if (res.ok) setInboxBadge(inboxLink, Number((await res.json()).unread) || 0);
      const list = document.getElementById("inbox-list");
      if (list) await refreshList(list);
    } catch {
      /* offline: the next change tries again */
    }
  };
  const refreshSoon = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  };
  live.on("ready", refreshSoon);
  live.on("stop", () => clearTimeout(timer));
  live.on("event", (f) => {
    const panel = document.getElementById("support-panel");
    const here = panel && String(f.conversation) === panel.dataset.conversationId;
    switch (f.event) {
      case "support.updated":
        refreshSoon();
        if (here) refreshPanel().catch(() => {});
        break;
      case "note.created":
        if (here) addNote(f.data);
        break;
      case "message.created":
      case "message.deleted":
      case "read.updated":
        refreshSoon();
        break;
    }
  });
}
