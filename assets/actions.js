// What one can do to a message: reply, react (toggle, or pick from a small picker), edit
// in place, delete (after asking), and jump to the message a reply quotes.

const COMMON_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀", "🔥", "✅", "👏", "🤔"];

/**
 * Runs an op over the WebSocket; when it is not connected, through the JSON API, and then
 * reloads (no live event will bring the change in).
 */
export async function act(live, op, fields) {
  if (live.ready) return live.request(op, fields);
  const m = fields.message;
  const call = {
    edit: ["PATCH", `/api/v1/messages/${m}`, { body: fields.body }],
    delete: ["DELETE", `/api/v1/messages/${m}`],
    react: [fields.on ? "PUT" : "DELETE", `/api/v1/messages/${m}/reactions/${encodeURIComponent(fields.emoji || "")}`],
  }[op];
  const [method, url, body] = call;
  const res = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) {
    const err = await res.json().catch(() => ({}));
    throw Object.assign(new Error(err.error?.message || `failed (${res.status})`), { code: err.error?.code });
  }
  location.reload();
}

/** Inline editing of my own messages. */
export class Edits {
  constructor(view, live, composer) {
    this.view = view;
    this.live = live;
    this.composer = () => composer();
    view.onReplacedWhileEditing = (a, draft) => this.start(a, draft);
  }

  start(article, draft) {
    if (!article.classList.contains("mine") || article.hasAttribute("data-deleted")) return;
    const body = article.querySelector(".msg-body");
    if (!body || article.querySelector(".msg-edit")) return;
    const form = document.createElement("form");
    form.className = "msg-edit";
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = `edit-${article.dataset.id}`;
    label.textContent = "Edit message";
    const field = document.createElement("textarea");
    field.id = `edit-${article.dataset.id}`;
    field.rows = 2;
    field.value = draft ?? body.dataset.body ?? body.textContent;
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = "Enter to save · Shift+Enter for a new line · Esc to cancel";
    const save = button("Save", "small");
    save.type = "submit";
    const cancel = button("Cancel", "small quiet");
    form.append(label, field, hint, save, " ", cancel);
    body.hidden = true;
    body.after(form);
    field.focus();
    field.setSelectionRange(field.value.length, field.value.length);
    const close = () => {
      form.remove();
      body.hidden = false;
      this.composer()?.focus();
    };
    cancel.addEventListener("click", close);
    field.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        close();
      } else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const text = field.value;
      if (text.trim() === (body.dataset.body || "").trim()) return close();
      if (!text.trim()) {
        hint.textContent = "A message cannot be empty; delete it instead.";
        return;
      }
      save.disabled = true;
      try {
        await act(this.live, "edit", { message: Number(article.dataset.id), body: text });
        // The message.updated event replaces the whole article, editor included.
        if (form.isConnected) close();
        else this.composer()?.focus();
      } catch (err) {
        hint.textContent = err.message;
        hint.setAttribute("role", "alert");
        save.disabled = false;
      }
    });
  }
}

function button(text, className) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.textContent = text;
  return b;
}

/** A small grid of emoji next to the button that opened it. */
class Picker {
  constructor(onPick, signal) {
    this.onPick = onPick;
    this.el = null;
    document.addEventListener(
      "mousedown",
      (e) => {
        if (this.el && !this.el.contains(e.target)) this.close(false);
      },
      { signal },
    );
    signal?.addEventListener("abort", () => this.close(false));
  }

  open(anchor, article) {
    this.close(false);
    const el = document.createElement("div");
    el.className = "picker";
    el.setAttribute("role", "dialog");
    el.setAttribute("aria-label", "Pick a reaction");
    for (const emoji of COMMON_EMOJI) {
      const b = button(emoji, "");
      b.setAttribute("aria-label", `React with ${emoji}`);
      b.addEventListener("click", () => {
        this.close(true);
        this.onPick(article, emoji);
      });
      el.append(b);
    }
    el.addEventListener("keydown", (e) => {
      const buttons = [...el.querySelectorAll("button")];
      const i = buttons.indexOf(document.activeElement);
      const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 6, ArrowUp: -6 }[e.key];
      if (e.key === "Escape") {
        e.preventDefault();
        this.close(true);
      } else if (step) {
        e.preventDefault();
        buttons[(i + step + buttons.length) % buttons.length].focus();
      }
    });
    document.body.append(el);
    const r = anchor.getBoundingClientRect();
    const w = el.offsetWidth;
    const h = el.offsetHeight;
    el.style.left = `${Math.max(8, Math.min(r.right - w, innerWidth - w - 8))}px`;
    el.style.top = `${r.top - h - 6 > 8 ? r.top - h - 6 : r.bottom + 6}px`;
    el.style.position = "fixed";
    this.el = el;
    this.anchor = anchor;
    el.querySelector("button").focus();
  }

  close(refocus) {
    if (!this.el) return;
    this.el.remove();
    this.el = null;
    if (refocus && this.anchor?.isConnected) this.anchor.focus();
  }
}

/** One click handler for every message on screen; `signal` ends it with the conversation. */
export function initActions(view, live, composer, edits, signal) {
  const report = (err) => composer.say(err.message || "That did not work", true);
  const react = (article, emoji, on) =>
    act(live, "react", { message: Number(article.dataset.id), emoji, on }).catch(report);
  const picker = new Picker((article, emoji) => {
    const mine = article.querySelector(`.reaction.mine[data-emoji="${CSS.escape(emoji)}"]`);
    react(article, emoji, !mine);
  }, signal);
  view.items.addEventListener("click", (e) => {
    const jump = e.target.closest("a[data-jump]");
    if (jump) {
      e.preventDefault();
      view.jumpTo(Number(jump.dataset.jump), jump.href);
      return;
    }
    const article = e.target.closest("article.msg");
    if (!article?.dataset.id) return;
    const reaction = e.target.closest(".reaction");
    if (reaction) {
      react(article, reaction.dataset.emoji, !reaction.classList.contains("mine"));
      return;
    }
    const action = e.target.closest("[data-action]")?.dataset.action;
    if (action === "link") {
      e.preventDefault();
      copyLink(e.target.closest("a").href, composer);
      return;
    }
    if (action === "reply") composer.reply(article);
    else if (action === "react") picker.open(e.target.closest("button"), article);
    else if (action === "edit") edits.start(article);
    else if (action === "delete") {
      if (!confirm("Delete this message? Everyone will see “message deleted” instead.")) return;
      act(live, "delete", { message: Number(article.dataset.id) }).catch(report);
    }
  });
}

/** Puts a message's permanent link on the clipboard and says so. */
async function copyLink(href, composer) {
  try {
    await navigator.clipboard.writeText(href);
    composer.say("Link to the message copied.");
  } catch {
    composer.say(`Copy this link: ${href}`);
  }
}
