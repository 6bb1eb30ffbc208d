// Keyboard shortcuts of the signed-in app: Ctrl+K / ⌘K the quick switcher, Alt+↑/↓ the
// previous / next conversation of the list, Alt+Shift+↑/↓ the previous / next one with
// unread messages, / searches, Esc marks the conversation read, and ? lists them all in a
// dialog.
// Keys that a field, a list or a dialog already uses are left to it.

import { conversationLinks } from "./sidebar.js";
import { Switcher } from "./switcher.js";

const MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
const MOD = MAC ? "⌘" : "Ctrl";

/** What the shortcuts dialog lists: [heading, [[keys, what they do]]]. */
const SHORTCUTS = [
  [
    "Moving around",
    [
      [[MOD, "K"], "Jump to a conversation or a person"],
      [["/"], "Search messages"],
      [["Alt", "↑"], "Previous conversation"],
      [["Alt", "↓"], "Next conversation"],
      [["Alt", "Shift", "↑"], "Previous conversation with unread messages"],
      [["Alt", "Shift", "↓"], "Next conversation with unread messages"],
      [["Esc"], "Mark the conversation as read"],
      [["?"], "Show these shortcuts"],
    ],
  ],
  [
    "Writing",
    [
      [["Enter"], "Send"],
      [["Shift", "Enter"], "New line"],
      [["↑"], "Edit your last message (in an empty composer)"],
      [["Esc"], "Cancel a reply or an edit"],
      [["@"], "Mention someone"],
    ],
  ],
];

/** Whether `el` takes typing (then `?` is a character, not a shortcut). */
function isField(el) {
  return el instanceof HTMLElement && (el.isContentEditable || el.matches("input, textarea, select"));
}

function hasContent(el) {
  return isField(el) && (el.isContentEditable ? el.textContent : el.value || "").trim() !== "";
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The dialog listing the shortcuts, built the first time it opens. */
class Help {
  open() {
    if (!this.dialog) this.dialog = this.build();
    this.dialog.showModal();
    this.dialog.querySelector("button").focus();
  }

  build() {
    const d = el("dialog", "keys-dialog");
    d.setAttribute("aria-labelledby", "keys-title");
    const head = el("div", "dialog-head");
    const title = el("h2", "", "Keyboard shortcuts");
    title.id = "keys-title";
    const close = el("button", "icon quiet", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Close (Esc)");
    close.title = "Close (Esc)";
    close.addEventListener("click", () => d.close());
    head.append(title, close);
    d.append(head);
    for (const [heading, rows] of SHORTCUTS) {
      d.append(el("h3", "", heading));
      const list = el("dl", "keys-list");
      for (const [keys, what] of rows) {
        const dt = el("dt");
        keys.forEach((k, i) => {
          if (i) dt.append(el("span", "keys-plus", "+"));
          dt.append(el("kbd", "", k));
        });
        list.append(dt, el("dd", "", what));
      }
      d.append(list);
    }
    d.addEventListener("click", (e) => {
      if (e.target === d) d.close(); // a click on the backdrop
    });
    document.body.append(d);
    return d;
  }
}

/**
 * The previous (`dir` -1) or next (+1) conversation of the list from the one on screen
 * (or on its way); with `unread`, the nearest one with unread messages, round the list.
 */
function neighbour(currentId, dir, unread) {
  const links = conversationLinks();
  const i = links.findIndex((a) => a.dataset.conversationId === String(currentId));
  if (!unread) {
    const j = i < 0 ? (dir > 0 ? 0 : links.length - 1) : i + dir;
    return links[j] ?? null;
  }
  for (let n = 1; n <= links.length; n++) {
    const j = (((i < 0 ? (dir > 0 ? -1 : 0) : i) + dir * n) % links.length + links.length) % links.length;
    if (j !== i && links[j].classList.contains("unread")) return links[j];
  }
  return null;
}

/** `nav` moves in place; `current()` is the conversation on screen (or null). */
export function initKeys({ nav, current }) {
  if (!document.getElementById("sidebar")) return; // the app's pages only
  const switcher = new Switcher(nav);
  const help = new Help();
  document.addEventListener("keydown", (e) => {
    if (e.isComposing) return;
    const plain = !e.ctrlKey && !e.metaKey && !e.altKey;
    const dialog = document.querySelector("dialog[open]");
    if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && (e.key === "k" || e.key === "K" || e.code === "KeyK")) {
      e.preventDefault();
      if (!dialog || switcher.isOpen) switcher.toggle();
      return;
    }
    if (dialog || e.defaultPrevented) return; // a dialog, a list or a field had it
    if (e.altKey && !e.ctrlKey && !e.metaKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      e.preventDefault();
      const to = neighbour(nav.currentId(), e.key === "ArrowDown" ? 1 : -1, e.shiftKey);
      if (to) nav.go(to.href);
    } else if (e.key === "Escape" && plain && !e.shiftKey) {
      if (hasContent(e.target)) return; // Esc in a field being filled in is the field's
      current()?.reads.markAllRead();
    } else if (e.key === "/" && plain && !isField(e.target)) {
      const box = document.getElementById("top-search");
      if (box) {
        e.preventDefault();
        box.focus();
        box.select();
      }
    } else if (e.key === "?" && !e.ctrlKey && !e.metaKey && !e.altKey && !isField(e.target)) {
      e.preventDefault();
      help.open();
    }
  });
}
