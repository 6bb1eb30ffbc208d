// @mention autocomplete in the composer: a listbox of members matching what follows "@".

const MAX_SHOWN = 8;
const PARTIAL = /(^|[\s(])@([\p{L}\p{N}_.-]*)$/u;

export class Mentions {
  constructor(field, list, view) {
    this.field = field;
    this.list = list;
    this.view = view;
    this.matches = [];
    this.active = 0;
    this.start = -1;
    if (!list) return;
    field.addEventListener("input", () => this.update());
    field.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    field.addEventListener("click", () => this.update());
    list.addEventListener("mousedown", (e) => e.preventDefault()); // keep focus in the field
    list.addEventListener("click", (e) => {
      const li = e.target.closest("li[data-index]");
      if (li) this.choose(Number(li.dataset.index));
    });
  }

  update() {
    const caret = this.field.selectionStart;
    const m = PARTIAL.exec(this.field.value.slice(0, caret));
    if (!m) return this.close();
    const typed = m[2].toLowerCase();
    this.start = caret - m[2].length - 1;
    this.matches = [...this.view.members.values()]
      .filter((p) => p.id !== this.view.me)
      .filter((p) => p.username.toLowerCase().startsWith(typed) || p.name.toLowerCase().includes(typed))
      .sort((a, b) => a.username.localeCompare(b.username))
      .slice(0, MAX_SHOWN);
    if (!this.matches.length) return this.close();
    this.active = Math.min(this.active, this.matches.length - 1);
    this.render();
  }

  render() {
    this.list.replaceChildren(
      ...this.matches.map((p, i) => {
        const li = document.createElement("li");
        li.id = `mention-opt-${i}`;
        li.dataset.index = String(i);
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", String(i === this.active));
        const name = document.createElement("strong");
        name.textContent = p.name;
        const handle = document.createElement("span");
        handle.className = "hint";
        handle.textContent = `@${p.username}`;
        li.append(name, handle);
        return li;
      }),
    );
    this.list.hidden = false;
    this.field.setAttribute("aria-activedescendant", `mention-opt-${this.active}`);
    const n = this.matches.length;
    this.status(`${n} ${n === 1 ? "person" : "people"} to mention: ↑ and ↓ to choose, Enter to pick.`);
  }

  /** Tells screen readers what the list shows (a textarea cannot say it is expanded). */
  status(text) {
    const line = document.getElementById("mention-status");
    if (line && line.textContent !== text) line.textContent = text;
  }

  close() {
    if (!this.list || this.list.hidden) return;
    this.list.hidden = true;
    this.matches = [];
    this.active = 0;
    this.field.removeAttribute("aria-activedescendant");
    this.status("");
  }

  /** Handles a key while the list is open; true when it was for the list. */
  keydown(e) {
    if (!this.list || this.list.hidden || !this.matches.length) return false;
    const n = this.matches.length;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      this.active = (this.active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      this.render();
    } else if (e.key === "Enter" || e.key === "Tab") {
      this.choose(this.active);
    } else if (e.key === "Escape") {
      this.close();
    } else {
      return false;
    }
    e.preventDefault();
    return true;
  }

  choose(i) {
    const p = this.matches[i];
    if (!p) return;
    const caret = this.field.selectionStart;
    const before = this.field.value.slice(0, this.start);
    const after = this.field.value.slice(caret);
    const insert = `@${p.username} `;
    this.field.value = before + insert + after;
    const at = before.length + insert.length;
    this.field.setSelectionRange(at, at);
    this.close();
    this.field.focus();
    this.field.dispatchEvent(new Event("input"));
  }
}
