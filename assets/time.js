// Times in the reader's own time zone and locale; the server writes UTC (in `data-ms`).

// The languages the reader asks pages for: the browser's own default may differ (its
// interface language), and a German reader should not get an American clock.
const locales = navigator.languages?.length ? [...navigator.languages] : undefined;

function format(options) {
  try {
    return new Intl.DateTimeFormat(locales, options);
  } catch {
    return new Intl.DateTimeFormat(undefined, options); // a language tag Intl does not take
  }
}

// "numeric": no leading zero where the locale does not write one ("4:14 AM", "4:14").
const clock = format({ hour: "numeric", minute: "2-digit" });
const full = format({ dateStyle: "full", timeStyle: "short" });
const dayFormat = format({ weekday: "long", day: "numeric", month: "long", year: "numeric" });

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
