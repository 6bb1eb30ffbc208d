// Notifications on this device: the pop-up for a message the server says notifies me (shown
// through the service worker, which keeps it to one across tabs), an optional sound, the app
// badge, and the controls of the notifications settings page.

const SOUND_KEY = "hearth.notify.sound";

/** The conversation on screen, when the person is looking at it. */
function lookingAt() {
  if (document.visibilityState !== "visible" || !document.hasFocus()) return null;
  return document.body.dataset.conversation || null;
}

async function worker() {
  if (!("serviceWorker" in navigator)) return null;
  try {
    const reg = await navigator.serviceWorker.getRegistration("/");
    return reg?.active || (await Promise.race([
      navigator.serviceWorker.ready.then((r) => r.active),
      new Promise((resolve) => setTimeout(() => resolve(null), 2000)),
    ]));
  } catch {
    return null;
  }
}

/** Shows one notice: by the worker (one across tabs), or by the page when there is none. */
async function show(n) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const message = {
    type: "notify",
    id: n.message_id,
    conversation: n.conversation,
    title: n.title,
    body: n.body,
    url: n.url,
    tag: n.tag,
  };
  const active = await worker();
  if (active) {
    active.postMessage(message);
    return;
  }
  // Without a worker, the first tab to claim the message shows it.
  const key = `hearth.notified.${n.message_id}`;
  if (localStorage.getItem(key)) return;
  localStorage.setItem(key, "1");
  setTimeout(() => localStorage.removeItem(key), 60_000);
  const shown = new Notification(n.title, { body: n.body, tag: n.tag });
  shown.onclick = () => {
    window.focus();
    location.assign(n.url);
  };
}

/** A short two-note chime, made here (no file to fetch), once across tabs. */
async function chime(id) {
  if (localStorage.getItem(SOUND_KEY) !== "on") return;
  const play = () => {
    try {
      const ctx = new AudioContext();
      const now = ctx.currentTime;
      for (const [i, freq] of [880, 1320].entries()) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, now + i * 0.12);
        gain.gain.exponentialRampToValueAtTime(0.2, now + i * 0.12 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.12 + 0.3);
        osc.connect(gain).connect(ctx.destination);
        osc.start(now + i * 0.12);
        osc.stop(now + i * 0.12 + 0.32);
      }
      setTimeout(() => ctx.close(), 800);
    } catch {
      /* no audio here */
    }
  };
  if (navigator.locks) {
    // The first tab to take the message's lock plays; it holds it long enough for the others.
    await navigator.locks.request(`hearth-chime-${id}`, { ifAvailable: true }, async (lock) => {
      if (!lock) return;
      play();
      await new Promise((r) => setTimeout(r, 3000));
    });
  } else {
    play();
  }
}

/** The app badge (an installed app's icon): unread mentions and unread directs. */
export function setAppBadge(n) {
  if (!("setAppBadge" in navigator)) return;
  (n > 0 ? navigator.setAppBadge(n) : navigator.clearAppBadge()).catch(() => {});
}

/** Listens for the server's notices on the live connection. */
export function initNotify(live) {
  live.on("notify", (f) => {
    const n = f.notice;
    if (!n || lookingAt() === String(n.conversation)) return;
    show(n);
    if (n.mention || document.querySelector(`#sidebar a.conv[data-conversation-id="${n.conversation}"][data-kind="direct"]`)) {
      chime(n.message_id);
    }
  });
  // The browser replaced this device's push subscription: the server learns the new one.
  navigator.serviceWorker?.addEventListener("message", (e) => {
    if (e.data?.type === "resubscribe" && Notification.permission === "granted") subscribePush().catch(() => {});
  });
  initSettings();
}

function urlBase64ToBytes(b64) {
  const pad = "=".repeat((4 - (b64.length % 4)) % 4);
  const raw = atob((b64 + pad).replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** Subscribes this browser to Web Push and tells the server (once permission is granted). */
async function subscribePush() {
  if (!("PushManager" in window)) return "This browser cannot receive pushes while closed.";
  const res = await fetch("/api/v1/push/key", { credentials: "same-origin" });
  if (!res.ok) return "This server does not send pushes.";
  const { public_key } = await res.json();
  const reg = await navigator.serviceWorker.ready;
  let sub = await reg.pushManager.getSubscription();
  if (!sub) {
    sub = await reg.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: urlBase64ToBytes(public_key),
    });
  }
  const body = { ...sub.toJSON(), label: deviceLabel() };
  const saved = await fetch("/api/v1/me/devices", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ endpoint: body.endpoint, keys: body.keys, label: body.label }),
  });
  if (!saved.ok) {
    const err = await saved.json().catch(() => ({}));
    return err.error?.message || "The server refused this device.";
  }
  return null;
}

/** "Chrome on Linux", from what the browser says of itself. */
function deviceLabel() {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua) ? "Firefox" : /Edg\//.test(ua) ? "Edge" : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "A browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}

/** The "On this device" part of the settings page. */
function initSettings() {
  const card = document.getElementById("this-device");
  if (!card) return;
  const state = document.getElementById("device-state");
  const enable = document.getElementById("notify-enable");
  const test = document.getElementById("notify-test");
  const sound = document.getElementById("notify-sound");
  const push = card.dataset.push === "on";
  sound.disabled = false;
  sound.checked = localStorage.getItem(SOUND_KEY) === "on";
  sound.addEventListener("change", () => localStorage.setItem(SOUND_KEY, sound.checked ? "on" : "off"));
  const render = (extra) => {
    if (!("Notification" in window)) {
      state.textContent = "This browser cannot show notifications.";
      return;
    }
    const p = Notification.permission;
    enable.hidden = p !== "default";
    test.hidden = p !== "granted";
    state.textContent =
      p === "granted"
        ? "Notifications are on for this device" + (push ? ", also while Hearth is closed." : " while Hearth is open.")
        : p === "denied"
          ? "This browser blocks notifications from Hearth. Allow them in the site settings (the icon beside the address), then reload."
          : "Notifications are off for this device.";
    if (extra) state.textContent += ` ${extra}`;
  };
  render();
  enable.addEventListener("click", async () => {
    const answer = await Notification.requestPermission();
    let problem = null;
    if (answer === "granted" && push) problem = await subscribePush().catch((e) => String(e.message || e));
    render(problem);
  });
  test.addEventListener("click", () =>
    show({ message_id: `test-${Date.now()}`, conversation: 0, title: "Hearth", body: "Notifications work on this device.", url: "/account/notifications", tag: "test" }),
  );
  // A device granted before keeps its subscription current with this server.
  if ("Notification" in window && Notification.permission === "granted" && push) subscribePush().catch(() => {});
}
