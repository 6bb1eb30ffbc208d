// One conversation on screen: live fragments put in place (never twice, in id order),
// runs and day separators in local time, infinite scroll upward, jumps to a message,
// and the placeholders of messages still on their way. Lines about the conversation
// ("Bob added Ada") are rows among the messages, placed the same way.

import { dayKey, dayLabel, localizeTimes } from "./time.js";

const RUN_GAP_MS = 5 * 60 * 1000;
const MAX_JUMP_PAGES = 20;
/** A row of the timeline: a message or a line about the conversation. */
const ROW = "article.msg, .notice";
/** The rows directly in a list (for `querySelectorAll` on the list). */
const ROWS = ":scope > article.msg, :scope > .notice";

export class Conversation {
  constructor(section, me) {
    this.section = section;
    this.me = String(me);
    this.id = document.body.dataset.conversation;
    this.items = section.querySelector("#items");
    this.scroller = section.querySelector("#messages");
    this.top = section.querySelector(".history-top");
    this.latest = section.dataset.latest === "true";
    /** user id -> {id, username, name, lastRead} */
    this.members = new Map();
    for (const li of section.querySelectorAll("#members li")) {
      const d = li.dataset;
      this.members.set(d.id, { id: d.id, username: d.username, name: d.name, lastRead: Number(d.lastRead) });
    }
    const older = section.querySelector("a.older");
    this.hasMore = !!older;
    this.before = older?.dataset.before;
    this.loading = null;
    this.loadingNewer = null;
    this.listeners = [];
    for (const a of this.articles()) this.decorate(a);
    this.relayout();
    this.observeTop();
    this.observeBottom();
  }

  /** Stops watching the edges of the history (the conversation is being left). */
  stop() {
    this.topObserver?.disconnect();
    this.bottomObserver?.disconnect();
  }

  /** Calls `fn()` after every change to the list (for "seen by", read marks…). */
  onChange(fn) {
    this.listeners.push(fn);
  }

  changed() {
    for (const fn of this.listeners) fn();
  }

  /** The messages on screen (lines about the conversation left out). */
  articles() {
    return this.items.querySelectorAll(":scope > article.msg");
  }

  /** Every row on screen in page order, lines about the conversation included. */
  rows() {
    return this.items.querySelectorAll(ROWS);
  }

  /** Ids of the rows on screen, pending messages left out. */
  ids() {
    return [...this.rows()].filter((a) => a.dataset.id).map((a) => Number(a.dataset.id));
  }

  newest() {
    const all = [...this.articles()].filter((a) => a.dataset.id);
    return all[all.length - 1] || null;
  }

  oldestId() {
    return this.ids()[0] ?? Infinity;
  }

  memberName(id) {
    return this.members.get(String(id))?.name;
  }

  /** Per-viewer touches on the shared fragment: mine, my reactions, mentions of me. */
  decorate(a) {
    if (a.classList.contains("notice")) {
      localizeTimes(a);
      return;
    }
    const mine = a.dataset.sender === this.me;
    a.classList.toggle("mine", mine);
    for (const r of a.querySelectorAll(".reaction")) {
      const users = (r.dataset.users || "").split(",").filter(Boolean);
      const on = users.includes(this.me);
      r.classList.toggle("mine", on);
      r.setAttribute("aria-pressed", String(on));
      const names = users.map((u) => (u === this.me ? "you" : this.memberName(u) || "someone"));
      r.title = `${names.join(", ")} reacted with ${r.dataset.emoji}`;
    }
    const mentions = a.querySelectorAll(`.mention[data-user-id="${this.me}"]`);
    for (const m of mentions) m.classList.add("is-me");
    a.classList.toggle("mentions-me", mentions.length > 0 && !mine);
    // A code block may scroll sideways: keyboards must be able to reach it.
    for (const pre of a.querySelectorAll(".msg-body pre")) pre.tabIndex = 0;
    localizeTimes(a);
  }

  /**
   * Day separators in local time and runs of one sender, recomputed over the whole list.
   * A line about the conversation is never part of a run and ends the one before it.
   */
  relayout() {
    for (const s of this.items.querySelectorAll(":scope > .day-sep")) s.remove();
    let prev = null;
    let broken = false;
    for (const el of [...this.items.children]) {
      if (el.classList.contains("unread-divider")) {
        broken = true;
        continue;
      }
      if (!el.matches(ROW)) continue;
      const ms = Number(el.dataset.ms);
      const newDay = !prev || dayKey(ms) !== dayKey(Number(prev.dataset.ms));
      if (newDay) {
        const divider = el.previousElementSibling?.classList.contains("unread-divider");
        this.items.insertBefore(daySeparator(ms), divider ? el.previousElementSibling : el);
      }
      const cont =
        !newDay &&
        !broken &&
        el.tagName === "ARTICLE" &&
        prev.tagName === "ARTICLE" &&
        prev.dataset.sender === el.dataset.sender &&
        prev.dataset.as === el.dataset.as &&
        ms - Number(prev.dataset.ms) < RUN_GAP_MS &&
        !el.querySelector(".msg-reply");
      el.classList.toggle("cont", cont);
      prev = el;
      broken = false;
    }
  }

  distanceFromBottom() {
    const inner = this.scroller.firstElementChild;
    return inner.getBoundingClientRect().bottom - this.scroller.getBoundingClientRect().bottom;
  }

  atBottom(slack = 48) {
    return this.distanceFromBottom() <= slack;
  }

  toBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  firstVisible() {
    const top = this.scroller.getBoundingClientRect().top;
    for (const a of this.rows()) if (a.getBoundingClientRect().bottom > top) return a;
    return null;
  }

  /** Changes the list without moving what the reader is looking at (or keeps them at the bottom). */
  steady(change) {
    const stick = this.atBottom();
    const anchor = stick ? null : this.firstVisible();
    const before = anchor?.getBoundingClientRect().top;
    change();
    if (stick) this.toBottom();
    else if (anchor?.isConnected) this.scroller.scrollTop += anchor.getBoundingClientRect().top - before;
    this.changed();
  }

  /**
   * Puts a server-rendered message (or line about the conversation) in place: replaces the
   * one with its id, or inserts it in id order. Returns the row, or null when it belongs to
   * a page not loaded.
   */
  upsert(html) {
    const t = document.createElement("template");
    t.innerHTML = html.trim();
    const a = t.content.querySelector(ROW);
    if (!a) return null;
    const id = Number(a.dataset.id);
    this.decorate(a);
    const old = document.getElementById(`m-${id}`);
    if (old) {
      const draft = old.querySelector(".msg-edit textarea")?.value;
      this.steady(() => {
        old.replaceWith(a);
        this.relayout();
      });
      if (draft !== undefined) this.onReplacedWhileEditing?.(a, draft);
      return a;
    }
    const all = [...this.rows()].filter((x) => x.dataset.id);
    const after = all.findLast((x) => Number(x.dataset.id) < id);
    if (!after && all.length && this.hasMore) return null; // older than what is loaded
    if (after && after === all[all.length - 1] && !this.latest) return null; // newer than this window
    this.steady(() => {
      if (after) after.after(a);
      else if (all.length) all[0].before(a);
      else this.items.append(a);
      this.relayout();
    });
    return a;
  }

  /** A greyed placeholder for a message on its way. */
  addPending(clientId, body) {
    const a = document.createElement("article");
    a.className = "msg pending mine";
    a.id = `pending-${clientId}`;
    a.dataset.sender = this.me;
    a.dataset.ms = String(Date.now());
    a.dataset.clientId = clientId;
    const gutter = document.createElement("div");
    gutter.className = "msg-gutter";
    const main = document.createElement("div");
    main.className = "msg-main";
    const head = document.createElement("header");
    head.className = "msg-head";
    const who = document.createElement("span");
    who.className = "msg-author";
    who.textContent = this.memberName(this.me) || "You";
    const state = document.createElement("span");
    state.className = "msg-time";
    state.textContent = "sending…";
    head.append(who, " ", state);
    const text = document.createElement("div");
    text.className = "msg-body";
    const p = document.createElement("p");
    p.textContent = body;
    text.append(p);
    main.append(head, text);
    a.append(gutter, main);
    this.items.append(a);
    this.relayout();
    this.toBottom();
    this.changed();
  }

  /** The placeholder is no longer needed: the message itself is in (or coming). */
  settle(clientId) {
    document.getElementById(`pending-${clientId}`)?.remove();
    this.relayout();
  }

  fail(clientId, reason) {
    const a = document.getElementById(`pending-${clientId}`);
    if (!a) return;
    a.classList.add("failed");
    a.querySelector(".msg-time").textContent = reason;
    setTimeout(() => this.settle(clientId), 6000);
  }

  observeTop() {
    if (!this.top || !("IntersectionObserver" in window)) return;
    this.topObserver = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) this.loadOlder().catch(() => {});
      },
      { root: this.scroller, rootMargin: "600px 0px 0px 0px" },
    );
    this.topObserver.observe(this.top);
  }

  /** Loads the page of messages before the oldest on screen, keeping the view still. */
  loadOlder() {
    if (!this.hasMore) return Promise.resolve();
    if (this.loading) return this.loading;
    this.loading = (async () => {
      const res = await fetch(`/c/${this.id}/older?before=${this.before}`, { credentials: "same-origin" });
      if (!res.ok) throw new Error(`older messages: ${res.status}`);
      const t = document.createElement("template");
      t.innerHTML = await res.text();
      const page = t.content.querySelector(".older-page");
      if (!page) throw new Error("older messages: unexpected answer");
      const fresh = [...page.querySelectorAll(ROWS)].filter((a) => !document.getElementById(a.id));
      for (const a of fresh) this.decorate(a);
      this.steady(() => {
        this.items.prepend(...fresh);
        this.relayout();
      });
      this.hasMore = page.dataset.hasMore === "true";
      this.before = page.dataset.before || this.before;
      this.updateTop();
    })().finally(() => {
      this.loading = null;
      // Still near the top (a short page)? Observing again reports it once more.
      if (this.hasMore && this.topObserver) {
        this.topObserver.unobserve(this.top);
        this.topObserver.observe(this.top);
      }
    });
    return this.loading;
  }

  /** On a page around a message: the newer messages load as the reader nears the bottom. */
  observeBottom() {
    this.bottom = this.section.querySelector("a.to-latest");
    if (this.latest || !this.bottom || !("IntersectionObserver" in window)) return;
    this.bottomObserver = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) this.loadNewer().catch(() => {});
      },
      { root: this.scroller, rootMargin: "0px 0px 600px 0px" },
    );
    this.bottomObserver.observe(this.bottom);
  }

  /** Loads the page of messages after the newest on screen, until the latest is reached. */
  loadNewer(catchingUp = false) {
    if (this.latest) return Promise.resolve();
    if (this.loadingNewer && !catchingUp) return this.loadingNewer;
    this.loadingNewer = (async () => {
      const after = this.newest()?.dataset.id;
      if (!after) return;
      const res = await fetch(`/c/${this.id}/newer?after=${after}`, { credentials: "same-origin" });
      if (!res.ok) throw new Error(`newer messages: ${res.status}`);
      const t = document.createElement("template");
      t.innerHTML = await res.text();
      const page = t.content.querySelector(".newer-page");
      if (!page) throw new Error("newer messages: unexpected answer");
      const fresh = [...page.querySelectorAll(ROWS)].filter((a) => !document.getElementById(a.id));
      for (const a of fresh) this.decorate(a);
      // Appended below what the reader is looking at: nothing on screen moves.
      const anchor = this.firstVisible();
      const before = anchor?.getBoundingClientRect().top;
      this.items.append(...fresh);
      this.relayout();
      if (anchor?.isConnected) this.scroller.scrollTop += anchor.getBoundingClientRect().top - before;
      this.changed();
      if (page.dataset.hasMore !== "true") {
        // The latest is here. One more look catches what arrived while this page was on
        // its way; then live messages are added as they come.
        if (!catchingUp) await this.loadNewer(true);
        this.latest = true;
        this.section.dataset.latest = "true";
        this.bottomObserver?.disconnect();
        this.bottom?.remove();
      }
    })().finally(() => {
      this.loadingNewer = null;
      if (!this.latest && this.bottomObserver) {
        this.bottomObserver.unobserve(this.bottom);
        this.bottomObserver.observe(this.bottom);
      }
    });
    return this.loadingNewer;
  }

  updateTop() {
    const link = this.top.querySelector("a.older");
    if (this.hasMore && link) {
      link.href = `/c/${this.id}?before=${this.before}`;
      link.dataset.before = this.before;
    } else if (!this.hasMore) {
      const p = document.createElement("p");
      p.className = "history-start";
      p.textContent = "This is the very beginning of the conversation.";
      this.top.replaceChildren(p);
    }
  }

  /** Scrolls to a message, loading older pages when it is not on screen yet. */
  async jumpTo(id, href) {
    let el = document.getElementById(`m-${id}`);
    for (let pages = 0; !el && this.hasMore && this.oldestId() > id && pages < MAX_JUMP_PAGES; pages++) {
      try {
        await this.loadOlder();
      } catch {
        break;
      }
      el = document.getElementById(`m-${id}`);
    }
    if (!el) {
      if (href) location.href = href;
      return false;
    }
    this.highlight(el);
    return true;
  }

  highlight(el) {
    el.scrollIntoView({ block: "center" });
    el.classList.remove("highlight");
    void el.offsetWidth; // restart the animation
    el.classList.add("highlight");
    el.tabIndex = -1;
    el.focus({ preventScroll: true });
  }
}

function daySeparator(ms) {
  const sep = document.createElement("div");
  sep.className = "day-sep";
  sep.setAttribute("role", "separator");
  sep.dataset.ms = String(ms);
  const label = document.createElement("span");
  label.textContent = dayLabel(ms);
  sep.append(label);
  return sep;
}
