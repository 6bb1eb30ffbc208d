// Files in the conversation: the composer's attach button, drops onto the conversation and
// pastes into the composer; one upload per file with a progress bar and a cancel button; the
// lightbox that opens images large (← → through the conversation's images, Esc closes);
// taking a link card away.

const CSRF_FREE_UPLOAD = "/api/v1/uploads";

/** The files waiting beside the composer: each uploads at once and can be cancelled. */
export class Attachments {
  constructor(form, say) {
    this.form = form;
    this.say = say;
    this.items = [];
    this.list = form.querySelector("#uploads");
    this.input = form.querySelector("#attach-input");
    this.input?.addEventListener("change", () => {
      this.add([...this.input.files]);
      this.input.value = "";
    });
    form.querySelector("textarea[name=body]")?.addEventListener("paste", (e) => {
      const files = [...(e.clipboardData?.files || [])];
      if (!files.length) return;
      e.preventDefault();
      this.add(files.map((f) => named(f)));
    });
    const section = form.closest("section.conversation");
    if (section) dropTarget(section, (files) => this.add(files));
  }

  /** Starts uploading each file. */
  add(files) {
    for (const file of files) {
      if (this.items.length >= 10) {
        this.say("A message carries at most 10 files.", true);
        break;
      }
      this.items.push(this.upload(file));
    }
    this.list.hidden = this.items.length === 0;
  }

  upload(file) {
    const li = document.createElement("li");
    li.className = "upload";
    const name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", `Uploading ${file.name}`);
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "icon";
    cancel.textContent = "×";
    cancel.setAttribute("aria-label", `Remove ${file.name}`);
    cancel.title = "Remove";
    li.append(name, bar, cancel);
    this.list.append(li);

    const item = { li, id: null, done: null };
    const xhr = new XMLHttpRequest();
    item.done = new Promise((resolve) => {
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.addEventListener("load", () => {
        let answer = null;
        try {
          answer = JSON.parse(xhr.responseText);
        } catch {
          /* not JSON: told below */
        }
        if (xhr.status === 201 && answer?.id) {
          item.id = answer.id;
          bar.value = 100;
          li.classList.add("uploaded");
          bar.setAttribute("aria-label", `${file.name} uploaded`);
        } else {
          this.failed(item, answer?.error?.message || `upload failed (${xhr.status})`);
        }
        resolve();
      });
      xhr.addEventListener("error", () => {
        this.failed(item, "the upload broke off; check your connection");
        resolve();
      });
      xhr.addEventListener("abort", () => resolve());
    });
    cancel.addEventListener("click", () => {
      xhr.abort();
      this.drop(item);
    });
    xhr.open("POST", `${CSRF_FREE_UPLOAD}?name=${encodeURIComponent(file.name)}`);
    xhr.send(file);
    return item;
  }

  failed(item, why) {
    item.li.classList.add("failed");
    item.li.querySelector("progress")?.remove();
    const reason = document.createElement("span");
    reason.className = "upload-error";
    reason.textContent = why;
    item.li.insertBefore(reason, item.li.lastChild);
    this.say(`${item.li.querySelector(".upload-name").textContent}: ${why}`, true);
  }

  drop(item) {
    item.li.remove();
    this.items = this.items.filter((i) => i !== item);
    this.list.hidden = this.items.length === 0;
  }

  get pending() {
    return this.items.length > 0;
  }

  /** The ids of every finished upload, once all have finished (failed ones left out). */
  async ready() {
    await Promise.all(this.items.map((i) => i.done));
    return this.items.filter((i) => i.id).map((i) => i.id);
  }

  /** Empties the list after a send. */
  clear() {
    for (const item of this.items) item.li.remove();
    this.items = [];
    this.list.hidden = true;
  }
}

/** A pasted screenshot arrives as "image.png": give it a name worth keeping. */
function named(file) {
  if (file.name && file.name !== "image.png") return file;
  const stamp = new Date().toISOString().slice(0, 19).replace(/[T:]/g, "-");
  const ext = (file.type.split("/")[1] || "png").replace("jpeg", "jpg");
  return new File([file], `screenshot-${stamp}.${ext}`, { type: file.type });
}

/** Files dropped anywhere on the conversation go to `take`; the area shows it accepts them. */
function dropTarget(area, take) {
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
  area.addEventListener("dragenter", (e) => {
    if (!hasFiles(e)) return;
    depth += 1;
    area.classList.add("dropping");
  });
  area.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) area.classList.remove("dropping");
  });
  area.addEventListener("dragover", (e) => {
    if (hasFiles(e)) e.preventDefault();
  });
  area.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    area.classList.remove("dropping");
    take([...e.dataTransfer.files]);
  });
}

/** The lightbox: a modal dialog with the image at full size, its name and a download link. */
export function initLightbox() {
  const dialog = document.getElementById("lightbox");
  if (!dialog) return;
  const img = document.createElement("img");
  img.decoding = "async";
  dialog.querySelector(".lightbox-figure")?.append(img);
  const caption = dialog.querySelector(".lightbox-name");
  const download = dialog.querySelector(".lightbox-download");
  const count = dialog.querySelector(".lightbox-count");
  let current = null;

  const all = () => [...document.querySelectorAll("main [data-lightbox]")];
  const show = (link) => {
    current = link;
    img.src = link.dataset.full || link.href;
    img.alt = link.dataset.name || "";
    if (link.dataset.w && link.dataset.h) {
      img.width = Number(link.dataset.w);
      img.height = Number(link.dataset.h);
    } else {
      img.removeAttribute("width");
      img.removeAttribute("height");
    }
    caption.textContent = link.dataset.name || "";
    download.href = link.dataset.full || link.href;
    download.setAttribute("download", link.dataset.name || "");
    const list = all();
    count.textContent = list.length > 1 ? `${list.indexOf(link) + 1} of ${list.length}` : "";
  };
  const step = (by) => {
    const list = all();
    if (!current || list.length < 2) return;
    const at = list.indexOf(current);
    show(list[(at + by + list.length) % list.length]);
  };

  document.addEventListener("click", (e) => {
    const link = e.target.closest?.("[data-lightbox]");
    if (!link || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    show(link);
    dialog.showModal();
  });
  dialog.addEventListener("keydown", (e) => {
    if (e.key === "ArrowRight") {
      e.preventDefault();
      step(1);
    } else if (e.key === "ArrowLeft") {
      e.preventDefault();
      step(-1);
    }
  });
  dialog.querySelector("[data-action=prev]")?.addEventListener("click", () => step(-1));
  dialog.querySelector("[data-action=next]")?.addEventListener("click", () => step(1));
  dialog.querySelector("[data-action=close]")?.addEventListener("click", () => dialog.close());
  // A click on the backdrop (the dialog itself, outside its content) closes it.
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => {
    img.removeAttribute("src");
    current?.focus();
    current = null;
  });
}

/** The author's × on a link card takes the card away. */
export function initCards(say) {
  document.addEventListener("click", async (e) => {
    const button = e.target.closest?.("[data-action=remove-preview]");
    if (!button) return;
    const article = button.closest("article.msg");
    if (!article?.dataset.id) return;
    button.disabled = true;
    const res = await fetch(`/api/v1/messages/${article.dataset.id}/preview`, {
      method: "DELETE",
      credentials: "same-origin",
    }).catch(() => null);
    if (res?.ok) {
      button.closest(".link-card")?.remove();
    } else {
      button.disabled = false;
      say("The preview could not be removed; try again.", true);
    }
  });
}
