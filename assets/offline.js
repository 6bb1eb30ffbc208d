// Offline. A page the service worker served from what this device kept says so (a banner; the
// conversation reads but does not act, except its composer). A message written while the
// connection is down waits on this device (localStorage, per person and conversation, with
// its client_id) and shows as "waiting to send"; once the server answers again it is sent
// through the JSON API with that client_id, so a repeat (another tab, a retry after a lost
// answer) gets the first message back instead of making a second.

import { loadDraft, saveDraft } from "./drafts.js";

/** How often a device waiting for the server asks whether it is back. */
const CHECK_EVERY = 2000;

const prefix = (me) => `hearth:outbox:${me}:`;

/** The page on screen is a kept copy, and the server has not answered since it opened. */
let copy = false;
/** The composer on screen (with its view and live connection), if any. */
let composer = null;
let timer = null;
let flushing = null;
const heard = new WeakSet();

const me = () => document.body?.dataset.me || null;

function load(who, conversation) {
  try {
    const list = JSON.parse(localStorage.getItem(prefix(who) + conversation) || "[]");
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

/** Stores the list (an empty one forgets it); false when storage refused it. */
function store(who, conversation, list) {
  try {
    if (list.length) localStorage.setItem(prefix(who) + conversation, JSON.stringify(list));
    else localStorage.removeItem(prefix(who) + conversation);
    return true;
  } catch {
    return false;
  }
}

/** The conversations with messages waiting. */
function conversations(who) {
  try {
    return Object.keys(localStorage)
      .filter((k) => k.startsWith(prefix(who)))
      .map((k) => k.slice(prefix(who).length))
      .filter((id) => /^\d+$/.test(id));
  } catch {
    return [];
  }
}

/** Whether a message sent now has to wait on this device. */
function offline(live) {
  return copy ? !live.ready : live.everReady && !live.ready;
}

/** Reads the page: a kept copy shows the banner, and anything waiting is sent when it can be. */
export function initOffline() {
  const who = me();
  if (!who) return;
  copy = "offlineCopy" in document.body.dataset;
  if (copy) showCopy(true);
  if (copy || conversations(who).length) watch();
  addEventListener("online", check);
}

function showCopy(on) {
  document.body.classList.toggle("offline-copy", on);
  const banner = document.getElementById("offline-banner");
  if (banner) banner.hidden = !on;
}

/** Composer hook, on start: shows what waits in its conversation; sends it on reconnect. */
export function attachOutbox(c) {
  composer = c;
  for (const item of load(me(), c.view.id)) {
    if (document.getElementById(`pending-${item.client_id}`)) continue;
    c.view.addPending(item.client_id, item.body);
    markWaiting(item.client_id);
  }
  if (!heard.has(c.live)) {
    heard.add(c.live);
    c.live.on("ready", () => {
      if (copy) {
        copy = false;
        showCopy(false);
      }
      flush();
    });
  }
}

/** Composer hook, on submit: whether the message is to wait here (the form cannot post either). */
export function holdWhileOffline(c) {
  return offline(c.live);
}

/** Composer hook, on send (its placeholder shown): keeps the message when offline; true if kept. */
export function keepIfOffline(c, fields) {
  if (!offline(c.live)) return false;
  const who = me();
  const item = { client_id: fields.client_id, body: fields.body, reply_to: fields.reply_to ?? null, at: Date.now() };
  if (!store(who, c.view.id, [...load(who, c.view.id), item])) return false;
  markWaiting(item.client_id);
  watch();
  return true;
}

function markWaiting(clientId) {
  const row = document.getElementById(`pending-${clientId}`);
  if (!row) return;
  row.classList.add("waiting");
  const state = row.querySelector(".msg-time");
  if (state) state.textContent = "waiting to send";
}

function watch() {
  timer ??= setInterval(check, CHECK_EVERY);
}

/** Asks whether the server is back; if it is, sends what waits. */
async function check() {
  let up = false;
  try {
    up = (await fetch("/healthz", { cache: "no-store" })).ok;
  } catch {
    up = false;
  }
  if (!up) return;
  if (copy) {
    copy = false;
    showCopy(false);
  }
  if (await flush()) {
    clearInterval(timer);
    timer = null;
  }
}

/** Sends everything waiting, one tab at a time; true when nothing is left to try later. */
function flush() {
  if (!flushing) {
    const who = me();
    const run = () => sendAll(who);
    const done = navigator.locks ? navigator.locks.request("hearth:outbox", run) : run();
    flushing = done.finally(() => {
      flushing = null;
    });
  }
  return flushing;
}

async function sendAll(who) {
  for (const conversation of conversations(who)) {
    for (;;) {
      // Read again each time: another tab may have sent it meanwhile.
      const [item] = load(who, conversation);
      if (!item) break;
      const outcome = await post(conversation, item);
      if (outcome === "later") return false;
      store(
        who,
        conversation,
        load(who, conversation).filter((i) => i.client_id !== item.client_id),
      );
      if (outcome.error) refused(who, conversation, item, outcome.error);
      else sent(item, outcome.message);
    }
  }
  return true;
}

/** `{message}`, `{error}` (refused for good), or "later" (no answer, or not now). */
async function post(conversation, item) {
  const body = { body: item.body, client_id: item.client_id };
  if (item.reply_to) body.reply_to = Number(item.reply_to);
  let res;
  try {
    res = await fetch(`/api/v1/conversations/${conversation}/messages`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    return "later";
  }
  if (res.ok) return { message: await res.json().catch(() => null) };
  if (res.status === 401 || res.status === 429 || res.status >= 500) return "later";
  const err = await res.json().catch(() => null);
  return { error: err?.error?.message || `refused (${res.status})` };
}

/** Sent: the placeholder goes once the message itself is in (its event settles it otherwise). */
function sent(item, message) {
  const row = document.getElementById(`pending-${item.client_id}`);
  if (!row) return;
  if (message && document.getElementById(`m-${message.id}`)) {
    if (composer) composer.view.settle(item.client_id);
    else row.remove();
    return;
  }
  row.classList.remove("waiting");
  const state = row.querySelector(".msg-time");
  if (state) state.textContent = "sending…";
}

/** Refused for good (too long, archived, no longer a member): said, and the text kept. */
function refused(who, conversation, item, error) {
  const c = composer;
  if (c && c.view.id === conversation && document.getElementById(`pending-${item.client_id}`)) {
    c.view.fail(item.client_id, "not sent");
    if (!c.field.value) {
      c.field.value = item.body;
      c.keepDraft();
      c.autosize();
    }
    c.say(`Not sent: ${error}`, true);
  } else if (!loadDraft(who, conversation)) {
    saveDraft(who, conversation, item.body);
  }
}
