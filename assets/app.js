// Hearth's page script: small progressive enhancements; every page works without it.

/** Focuses the first field that asks for input, so keyboard users can type at once. */
function focusFirstField() {
  const field = document.querySelector("[data-autofocus]");
  if (field instanceof HTMLElement) field.focus();
}

/** Refuses to submit a form twice while the first submission is on its way. */
function guardDoubleSubmit() {
  for (const form of document.querySelectorAll("form")) {
    form.addEventListener("submit", () => {
      for (const b of form.querySelectorAll("button[type=submit]")) b.disabled = true;
    });
  }
}

focusFirstField();
guardDoubleSubmit();
