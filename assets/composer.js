// The composer: sends over the WebSocket (the form posts as usual until it has connected),
// Enter sends, Shift+Enter breaks the line, ↑ edits my last message, Esc cancels a reply,
// typing notices at most every 2 s, the "replying to …" chip, and the unsent draft kept
// per conversation. Written while the connection is down, a message waits on this device
// (offline.js) and is sent once the server answers again.

import { clearDraft, loadDraft, saveDraft } from "./drafts.js";
import { Attachments } from "./files.js";
import { Mentions } from "./mentions.js";
import { attachOutbox, holdWhileOffline, keepIfOffline } from "./offline.js";
import { randomId } from "./ws.js";

const TYPING_EVERY_MS = 2000;

export class Composer {
  constructor(form, view, live, edits) {
    this.form = form;
    this.view = view;
    this.live = live;
    this.edits = edits;
    this.field = form.querySelector("textarea[name=body]");
    this.replyTo = form.querySelector("input[name=reply_to]");
    this.clientId = form.querySelector("input[name=client_id]");
    this.chip = form.querySelector("#reply-chip");
    this.hint = form.querySelector("#composer-hint");
    this.lastTyping = 0;
    this.mentions = new Mentions(this.field, form.querySelector("#mention-list"), view);
    this.files = new Attachments(form, (text, error) => this.say(text, error));
    // This script refuses an empty message itself, and files may go without a caption.
    this.field.required = false;
    // What the server put there (a link that starts a conversation) wins over a kept draft.
    if (!this.field.value) this.field.value = loadDraft(view.me, view.id);

    form.addEventListener("submit", (e) => this.submit(e));
    this.field.addEventListener("keydown", (e) => this.keydown(e));
    this.field.addEventListener("input", () => {
      this.autosize();
      this.typing();
      this.keepDraft();
    });
    this.chip?.querySelector("[data-action=cancel-reply]")?.addEventListener("click", () => this.cancelReply());
    this.autosize();
    attachOutbox(this);
  }

  keydown(e) {
    if (this.mentions.keydown(e)) return;
    if (e.isComposing) return;
    if (e.key === "Enter" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      this.form.requestSubmit();
    } else if (e.key === "ArrowUp" && !e.altKey && !e.ctrlKey && !e.metaKey && this.field.value === "") {
      const mine = [...this.view.articles()].filter(
        (a) => a.classList.contains("mine") && a.dataset.id && !a.hasAttribute("data-deleted"),
      );
      const last = mine[mine.length - 1];
      if (last) {
        e.preventDefault();
        this.edits.start(last);
      }
    } else if (e.key === "Escape" && this.replyTo.value) {
      e.preventDefault();
      this.cancelReply();
    }
  }

  async submit(e) {
    const body = this.field.value;
    if (this.files.pending) {
      e.preventDefault();
      if (this.sendingFiles) return;
      this.sendingFiles = true;
      this.say("Finishing the uploads…");
      const ids = await this.files.ready();
      this.sendingFiles = false;
      if (!ids.length) return; // every upload failed or was removed: the errors are shown
      this.files.clear();
      this.send(body, ids);
      return;
    }
    if (holdWhileOffline(this)) {
      e.preventDefault();
      if (body.trim()) this.send(body, []);
      return;
    }
    if (!this.live.everReady) {
      // Not connected yet (or no WebSocket at all): let the form post, with a fresh id.
      if (!body.trim()) e.preventDefault();
      else clearDraft(this.view.me, this.view.id);
      return;
    }
    e.preventDefault();
    if (!body.trim()) return;
    this.send(body, []);
  }

  /** Sends a message (with the ids of uploaded files) over the live connection. */
  send(body, attachments) {
    const clientId = randomId();
    const fields = { conversation: Number(this.view.id), body, client_id: clientId };
    if (this.replyTo.value) fields.reply_to = Number(this.replyTo.value);
    if (attachments.length) fields.attachments = attachments;
    this.view.addPending(clientId, body || (attachments.length === 1 ? "1 file" : `${attachments.length} files`));
    this.field.value = "";
    clearDraft(this.view.me, this.view.id);
    this.autosize();
    this.cancelReply();
    this.say("");
    if (!attachments.length && keepIfOffline(this, fields)) return;
    this.live.request("send", fields, { retry: true }).then(
      (message) => {
        // The event may already have brought it in; if not, it is on its way.
        if (message && document.getElementById(`m-${message.id}`)) this.view.settle(clientId);
      },
      (err) => {
        this.view.fail(clientId, "not sent");
        if (!this.field.value) this.field.value = body;
        this.keepDraft();
        this.autosize();
        this.say(err.code === "rate_limited" ? "You are sending too fast; wait a moment." : err.message, true);
      },
    );
  }

  /** A line under the composer; errors are announced. */
  say(text, error = false) {
    let line = this.form.querySelector(".composer-error");
    if (!text) {
      line?.remove();
      return;
    }
    if (!line) {
      line = document.createElement("p");
      line.className = "hint composer-error";
      line.setAttribute("role", "alert");
      this.form.append(line);
    }
    line.classList.toggle("error", error);
    line.textContent = text;
  }

  typing() {
    const now = Date.now();
    if (!this.field.value.trim() || now - this.lastTyping < TYPING_EVERY_MS) return;
    this.lastTyping = now;
    this.live.fire("typing", { conversation: Number(this.view.id) });
  }

  keepDraft() {
    saveDraft(this.view.me, this.view.id, this.field.value);
  }

  autosize() {
    this.field.style.height = "auto";
    this.field.style.height = `${Math.min(this.field.scrollHeight + 2, innerHeight * 0.4)}px`;
  }

  reply(article) {
    if (!this.chip || !article?.dataset.id) return;
    this.replyTo.value = article.dataset.id;
    this.chip.querySelector(".reply-name").textContent =
      article.querySelector(".msg-author")?.textContent || "a message";
    const excerpt = article.querySelector(".msg-body")?.textContent.trim() || "";
    this.chip.querySelector(".reply-excerpt").textContent = excerpt.length > 80 ? `${excerpt.slice(0, 80)}…` : excerpt;
    this.chip.hidden = false;
    this.field.focus();
  }

  cancelReply() {
    if (!this.chip) return;
    this.replyTo.value = "";
    this.chip.hidden = true;
  }

  focus() {
    this.field.focus();
  }
}
