// Search forms: dates in the searcher's own time zone (the `tz` field), result times shown
// in local date and time. The forms and results work without this.

const locales = navigator.languages?.length ? [...navigator.languages] : undefined;

function dateTime() {
  try {
    return new Intl.DateTimeFormat(locales, { dateStyle: "medium", timeStyle: "short" });
  } catch {
    return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  }
}

/** Fills every search form's time zone and gives the header's form one when it has none. */
export function initSearch(root = document) {
  const tz = String(-new Date().getTimezoneOffset());
  for (const form of root.querySelectorAll("form[role=search]")) {
    let field = form.querySelector("input[name=tz]");
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "tz";
      form.append(field);
    }
    field.value = tz;
  }
  const format = dateTime();
  for (const t of root.querySelectorAll("time[data-full][data-ms]")) {
    const d = new Date(Number(t.dataset.ms));
    if (!Number.isNaN(d.getTime())) t.textContent = format.format(d);
  }
}
