// Read state on screen: marking read when the newest messages are seen in a focused tab,
// the "new messages" divider and the jumps to it, "seen by", and the typing line.

const TYPING_SHOWN_MS = 5000;

export class Reads {
  /** `signal` ends what it listens to outside the conversation (the window, the socket). */
  constructor(view, live, setCounts, signal) {
    this.view = view;
    this.live = live;
    this.setCounts = setCounts;
    this.section = view.section;
    /** The newest message I have read, as the server has it: my receipt. */
    this.marked = Number(this.section.dataset.lastRead) || 0;
    /** Where unread began when the page opened (a channel's history before I joined is not unread). */
    this.firstLastRead = Math.max(this.marked, Number(this.section.dataset.readPosition) || 0);
    this.bar = this.section.querySelector(".unread-bar");
    this.typers = new Map();
    this.typingLine = this.section.querySelector("#typing");
    this.pill = null;

    let queued = false;
    const soon = () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        this.markRead();
        if (this.view.latest && this.view.atBottom()) this.hidePill();
      });
    };
    view.scroller.addEventListener("scroll", soon, { passive: true });
    addEventListener("focus", soon, { signal });
    document.addEventListener("visibilitychange", soon, { signal });
    live.on("ready", soon, { signal });
    signal?.addEventListener("abort", () => this.stop());
    view.onChange(() => {
      this.placeDivider();
      this.renderSeen();
      soon();
    });
    this.watchDivider();
    this.bar?.querySelector(".jump-unread")?.addEventListener("click", (e) => {
      e.preventDefault();
      this.jumpToUnread(e.currentTarget.href);
    });
    this.placeDivider();
    this.renderSeen();
    soon();
  }

  /** Whether the person is looking at the newest messages right now. */
  reading() {
    return (
      this.view.latest && document.visibilityState === "visible" && document.hasFocus() && this.view.atBottom(80)
    );
  }

  markRead() {
    if (!this.reading()) return;
    const newest = this.view.newest();
    if (!newest) return;
    const id = Number(newest.dataset.id);
    this.setCounts(this.view.id, 0, 0);
    if (id <= this.marked) return;
    const before = this.marked;
    this.marked = id;
    const conversation = Number(this.view.id);
    const done = this.live.ready
      ? this.live.request("read", { conversation, message_id: id })
      : fetch(`/api/v1/conversations/${conversation}/read`, {
          method: "POST",
          credentials: "same-origin",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ message_id: id }),
        }).then((r) => {
          if (!r.ok) throw new Error(`read: ${r.status}`);
        });
    done.catch(() => {
      if (this.marked === id) this.marked = before; // try again on the next chance
    });
  }

  /** Esc: everything here is read, whatever is on screen (the server takes its newest). */
  markAllRead() {
    this.setCounts(this.view.id, 0, 0);
    if (this.bar) this.bar.hidden = true;
    const newest = Number(this.view.newest()?.dataset.id || 0);
    this.marked = Math.max(this.marked, newest);
    const conversation = Number(this.view.id);
    const done = this.live.ready
      ? this.live.request("read", { conversation })
      : fetch(`/api/v1/conversations/${conversation}/read`, { method: "POST", credentials: "same-origin" });
    return Promise.resolve(done).catch(() => {});
  }

  /** Off screen: no more timers or observers. */
  stop() {
    for (const t of this.typers.values()) clearTimeout(t.timer);
    this.typers.clear();
    this.dividerObserver?.disconnect();
  }

  /**
   * Puts the divider before the first message unread when the page opened, once the
   * page holds it (older pages may bring it in).
   */
  placeDivider() {
    if (document.getElementById("unread") || !this.bar) return;
    const all = [...this.view.articles()].filter((a) => a.dataset.id);
    const i = all.findIndex((a) => Number(a.dataset.id) > this.firstLastRead && a.dataset.sender !== this.view.me);
    if (i < 0) return;
    if (i === 0 && this.view.hasMore) return; // the first unread may be older still
    all[i].before(divider());
    this.view.relayout();
    this.watchDivider();
  }

  /** A new message came while the person looked away: mark where they left off. */
  noteArrival(article) {
    if (!article || this.reading() || article.dataset.sender === this.view.me) return;
    if (document.getElementById("unread")) return;
    article.before(divider());
    this.view.relayout();
  }

  async jumpToUnread(href) {
    for (let pages = 0; !document.getElementById("unread") && this.view.hasMore && pages < 20; pages++) {
      try {
        await this.view.loadOlder();
      } catch {
        break;
      }
      this.placeDivider();
    }
    const d = document.getElementById("unread");
    if (!d) {
      if (href) location.href = href;
      return;
    }
    d.scrollIntoView({ block: "start" });
    // Focus goes to the first unread message: the divider is a plain separator, not a stop.
    let first = d.nextElementSibling;
    while (first && !first.matches("article.msg")) first = first.nextElementSibling;
    if (first) {
      first.tabIndex = -1;
      first.focus({ preventScroll: true });
    }
  }

  /** The bar with "jump to first unread" goes once the divider has been on screen. */
  watchDivider() {
    const d = document.getElementById("unread");
    if (!d || !this.bar || !("IntersectionObserver" in window)) return;
    this.dividerObserver?.disconnect();
    const seen = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && document.visibilityState === "visible") {
          this.bar.hidden = true;
          seen.disconnect();
        }
      },
      { root: this.view.scroller },
    );
    seen.observe(d);
    this.dividerObserver = seen;
  }

  /** "Seen by A, B" under the newest message, from members' read marks, by name as the server lists them. */
  renderSeen() {
    const seen = this.section.querySelector("#seen");
    if (!seen) return;
    const newest = this.view.newest();
    const id = Number(newest?.dataset.id || 0);
    const key = (name) => name.toLowerCase();
    const names = [...this.view.members.values()]
      .filter((m) => m.id !== this.view.me && m.id !== newest?.dataset.sender && m.lastRead >= id && id > 0)
      .map((m) => m.name)
      .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    const text = names.length ? `Seen by ${names.join(", ")}` : "";
    if (seen.textContent !== text) seen.textContent = text;
  }

  /** A read.updated event: someone (maybe me, in another tab) read up to a message. */
  onRead(data) {
    const id = String(data.user?.id);
    const m = this.view.members.get(id);
    if (m) m.lastRead = Math.max(m.lastRead, Number(data.message_id));
    if (id === this.view.me) this.marked = Math.max(this.marked, Number(data.message_id));
    this.renderSeen();
  }

  /** New messages below while the person reads older ones: offer a way down. */
  offerNewBelow() {
    if (this.pill || (this.view.latest && this.view.atBottom())) return;
    const pill = document.createElement("button");
    pill.type = "button";
    pill.className = "jump-pill";
    pill.textContent = "↓ New messages";
    pill.addEventListener("click", () => {
      // An older window of history does not hold them: open the latest page.
      if (!this.view.latest) location.href = `/c/${this.view.id}`;
      this.view.toBottom();
      this.hidePill();
    });
    this.section.append(pill);
    this.pill = pill;
  }

  hidePill() {
    this.pill?.remove();
    this.pill = null;
  }

  typing(user) {
    const id = String(user.id);
    if (id === this.view.me) return;
    clearTimeout(this.typers.get(id)?.timer);
    const timer = setTimeout(() => this.stopTyping(id), TYPING_SHOWN_MS);
    this.typers.set(id, { name: user.display_name || user.username, timer });
    this.renderTyping();
  }

  stopTyping(id) {
    const t = this.typers.get(String(id));
    if (!t) return;
    clearTimeout(t.timer);
    this.typers.delete(String(id));
    this.renderTyping();
  }

  renderTyping() {
    if (!this.typingLine) return;
    const names = [...this.typers.values()].map((t) => t.name);
    this.typingLine.textContent =
      names.length === 0
        ? ""
        : names.length === 1
          ? `${names[0]} is typing…`
          : names.length === 2
            ? `${names[0]} and ${names[1]} are typing…`
            : "Several people are typing…";
  }
}

function divider() {
  const d = document.createElement("div");
  d.id = "unread";
  d.className = "unread-divider";
  d.setAttribute("role", "separator");
  d.setAttribute("aria-label", "New messages");
  const label = document.createElement("span");
  label.textContent = "New messages";
  d.append(label);
  return d;
}
