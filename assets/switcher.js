// The quick switcher (Ctrl+K / ⌘K): a dialog with a field and a list of the person's
// conversations (most recent activity first) and of the people they have no direct with yet,
// matched loosely as they type; ↑ ↓ choose, Enter opens (a person: their direct conversation,
// created on first use), Esc closes.

import { conversationLinks } from "./sidebar.js";

const MAX_SHOWN = 30;
const KINDS = {
  channel: ["#", "Channel"],
  group: ["🔒", "Group"],
  direct: ["@", "Direct"],
  support: ["?", "Support"],
  person: ["+", "New direct"],
};

/** Lower case without accents: "Émile" is found by "emi". */
function fold(s) {
  return s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/**
 * How well `query` matches `text` (both folded): a prefix beats a word start, which beats
 * a substring, which beats letters in order with gaps; -1 when the letters are not all there.
 */
export function score(query, text) {
  if (!query) return 1;
  const i = text.indexOf(query);
  if (i === 0) return 1000 - text.length;
  if (i > 0) return (/[\s#@._-]/.test(text[i - 1]) ? 800 : 600) - i;
  let from = 0;
  let last = -1;
  let gaps = 0;
  for (const ch of query) {
    const j = text.indexOf(ch, from);
    if (j < 0) return -1;
    if (last >= 0) gaps += j - last - 1;
    last = j;
    from = j + 1;
  }
  return Math.max(1, 300 - gaps);
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

async function getJson(url) {
  const res = await fetch(url, { credentials: "same-origin" });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.json();
}

/** The conversations as the sidebar lists them: what is there without asking the server. */
function fromSidebar() {
  return conversationLinks().map((a) => ({
    kind: a.dataset.kind || "channel",
    id: a.dataset.conversationId,
    name: a.querySelector(".conv-name")?.textContent.trim() || "",
    handle: "",
    href: a.getAttribute("href"),
    unread: Number(a.querySelector(".unread-badge")?.dataset.unread || 0),
  }));
}

export class Switcher {
  constructor(nav) {
    this.nav = nav;
    this.dialog = null;
    this.items = [];
    this.shown = [];
    this.active = 0;
  }

  get isOpen() {
    return !!this.dialog?.open;
  }

  toggle() {
    if (this.isOpen) this.dialog.close();
    else this.open();
  }

  build() {
    const d = el("dialog", "switcher");
    d.setAttribute("aria-labelledby", "switcher-title");
    const head = el("div", "dialog-head");
    const title = el("h2", "", "Jump to");
    title.id = "switcher-title";
    const close = el("button", "icon quiet", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Close (Esc)");
    close.title = "Close (Esc)";
    close.addEventListener("click", () => d.close());
    head.append(title, close);
    const label = el("label", "visually-hidden", "Conversation or person");
    label.htmlFor = "switcher-input";
    const input = el("input", "switcher-input");
    Object.assign(input, { id: "switcher-input", type: "text", autocomplete: "off", spellcheck: false });
    input.placeholder = "Conversation or person…";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-expanded", "true");
    input.setAttribute("aria-controls", "switcher-list");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-describedby", "switcher-hint");
    const list = el("ul", "switcher-list");
    list.id = "switcher-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Conversations and people");
    const empty = el("p", "hint switcher-empty");
    empty.hidden = true;
    const status = el("p", "visually-hidden");
    status.setAttribute("role", "status");
    const hint = el("p", "hint switcher-hint", "↑ ↓ to choose · Enter to open · Esc to close");
    hint.id = "switcher-hint";
    d.append(head, label, input, list, empty, status, hint);
    document.body.append(d);

    input.addEventListener("input", () => {
      this.active = 0;
      this.render();
    });
    input.addEventListener("keydown", (e) => this.keydown(e));
    list.addEventListener("mousedown", (e) => e.preventDefault()); // the field keeps focus
    list.addEventListener("click", (e) => {
      const li = e.target.closest("li[data-index]");
      if (li) this.choose(Number(li.dataset.index));
    });
    d.addEventListener("click", (e) => {
      if (e.target === d) d.close(); // a click on the backdrop
    });
    d.addEventListener("close", () => {
      if (!this.chosen && this.returnTo?.isConnected) this.returnTo.focus({ preventScroll: true });
    });
    Object.assign(this, { dialog: d, input, list, empty, status });
  }

  open() {
    if (!this.dialog) this.build();
    this.chosen = false;
    this.returnTo = document.activeElement;
    this.items = this.recentFirst(fromSidebar());
    this.input.value = "";
    this.input.disabled = false;
    this.active = 0;
    this.render();
    this.dialog.showModal();
    this.input.focus();
    this.load();
  }

  /** The one on screen goes last: it is the one least likely wanted. */
  recentFirst(items) {
    const here = String(this.nav.currentId());
    return [...items.filter((i) => i.id !== here), ...items.filter((i) => i.id === here)];
  }

  /** The server's order (newest activity first) and the people without a direct yet. */
  async load() {
    try {
      const [mine, people] = await Promise.all([getJson("/api/v1/conversations"), getJson("/api/v1/users")]);
      const listed = new Map(fromSidebar().map((i) => [i.id, i]));
      const items = [];
      const partners = new Set([document.body.dataset.me]);
      for (const c of mine.conversations || []) {
        if (c.other) partners.add(String(c.other.id));
        const item = listed.get(String(c.id));
        if (!item) continue; // support conversations of others: reached through the inbox
        listed.delete(String(c.id));
        items.push({ ...item, handle: c.other ? `@${c.other.username}` : "" });
      }
      items.push(...listed.values());
      for (const u of people.users || []) {
        if (partners.has(String(u.id))) continue;
        items.push({ kind: "person", id: `u${u.id}`, userId: u.id, name: u.display_name, handle: `@${u.username}` });
      }
      if (!this.isOpen) return;
      this.items = this.recentFirst(items);
      this.render();
    } catch {
      /* the sidebar's conversations are there already */
    }
  }

  render() {
    const q = fold(this.input.value.trim()).replace(/^[#@]/, "");
    const ranked = this.items
      .map((item, order) => ({
        item,
        order,
        score: Math.max(score(q, fold(item.name)), item.handle ? score(q, fold(item.handle.slice(1))) : -1),
      }))
      .filter((r) => r.score >= 0)
      .sort((a, b) => (q ? b.score - a.score : 0) || a.order - b.order)
      .slice(0, MAX_SHOWN);
    this.shown = ranked.map((r) => r.item);
    this.active = Math.min(this.active, Math.max(0, this.shown.length - 1));
    this.list.replaceChildren(...this.shown.map((item, i) => this.option(item, i)));
    this.list.hidden = this.shown.length === 0;
    this.empty.hidden = this.shown.length > 0;
    this.empty.textContent = `Nothing matches “${this.input.value.trim()}”.`;
    if (this.shown.length) this.input.setAttribute("aria-activedescendant", `switcher-opt-${this.active}`);
    else this.input.removeAttribute("aria-activedescendant");
    this.input.setAttribute("aria-expanded", String(this.shown.length > 0));
    const n = this.shown.length;
    const words = n === 0 ? "No matches." : `${n} ${n === 1 ? "match" : "matches"}.`;
    if (this.status.textContent !== words) this.status.textContent = words;
    this.list.querySelector("[aria-selected=true]")?.scrollIntoView({ block: "nearest" });
  }

  option(item, i) {
    const [icon, kind] = KINDS[item.kind] || KINDS.channel;
    const li = el("li", `switcher-option kind-${item.kind}`);
    li.id = `switcher-opt-${i}`;
    li.dataset.index = String(i);
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(i === this.active));
    const mark = el("span", "switcher-icon", icon);
    mark.setAttribute("aria-hidden", "true");
    const text = el("span", "switcher-text");
    text.append(el("span", "switcher-name", item.name));
    if (item.handle && item.handle !== `@${item.name}`) text.append(" ", el("span", "switcher-handle", item.handle));
    li.append(mark, text, el("span", "switcher-kind", kind));
    if (item.unread > 0) {
      const badge = el("span", "badge", String(item.unread));
      badge.append(el("span", "visually-hidden", " unread"));
      li.append(badge);
    }
    return li;
  }

  keydown(e) {
    const n = this.shown.length;
    if ((e.key === "ArrowDown" || e.key === "ArrowUp") && n) {
      e.preventDefault();
      this.active = (this.active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      this.render();
    } else if (e.key === "Enter" && !e.isComposing) {
      e.preventDefault();
      this.choose(this.active);
    }
  }

  async choose(i) {
    const item = this.shown[i];
    if (!item || this.input.disabled) return;
    let href = item.href;
    if (item.kind === "person") {
      this.input.disabled = true;
      this.status.textContent = `Opening your conversation with ${item.name}…`;
      try {
        const res = await fetch("/api/v1/directs", {
          method: "POST",
          credentials: "same-origin",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ user_id: item.userId }),
        });
        if (!res.ok) throw new Error(String(res.status));
        href = `/c/${(await res.json()).id}`;
      } catch {
        // The page that opens a direct does it without this script's help.
        href = `/new?to=${encodeURIComponent(item.handle.slice(1))}`;
      }
    }
    this.chosen = true;
    this.dialog.close();
    this.nav.go(href);
  }
}
