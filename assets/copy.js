// Copy buttons beside read-only fields: shown only when the script runs (without it, the
// field's text can still be selected and copied by hand).

/** Shows each `[data-copy]` button and copies its field's value when pressed. */
export function initCopy(root = document) {
  for (const button of root.querySelectorAll("button[data-copy]")) {
    const field = document.getElementById(button.dataset.copy);
    if (!(field instanceof HTMLInputElement)) continue;
    const status = root.querySelector(`[data-copied-for="${button.dataset.copy}"]`);
    button.hidden = false;
    button.addEventListener("click", async () => {
      field.select();
      let done = false;
      try {
        await navigator.clipboard.writeText(field.value);
        done = true;
      } catch {
        done = document.execCommand?.("copy") ?? false;
      }
      if (status) status.textContent = done ? "Copied." : "Select the link and copy it.";
    });
  }
}
