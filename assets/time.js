// Times in the reader's own time zone and language; the server writes UTC.

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });
const dayFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "long",
  day: "numeric",
  month: "long",
  year: "numeric",
});

/** A key that differs between local calendar days. */
export function dayKey(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** "Today", "Yesterday", or the full local date. */
export function dayLabel(ms) {
  const now = Date.now();
  if (dayKey(ms) === dayKey(now)) return "Today";
  if (dayKey(ms) === dayKey(now - 86_400_000)) return "Yesterday";
  return dayFormat.format(new Date(ms));
}

/** Rewrites every `time[data-ms]` under `root` in local time, with the full date on hover. */
export function localizeTimes(root = document) {
  for (const t of root.querySelectorAll("time[data-ms]")) {
    const d = new Date(Number(t.dataset.ms));
    if (Number.isNaN(d.getTime())) continue;
    t.textContent = clock.format(d);
    t.title = full.format(d);
  }
}
