// The live connection: hello and resume by seq, reconnects soon (backoff with jitter, at once
// when the tab or the network comes back or the person asks), requests answered by ack/error
// frames, and sends retried with the same client_id.

/** The first retry waits about half a second; each failed one doubles the wait, up to this. */
const FIRST_DELAY = 500;
const MAX_DELAY = 3000;
/** ±20%, so the open tabs of a community do not all knock at the same instant. */
const JITTER = 0.2;
/** A server that said it is stopping (1001) is most likely restarting: retry at the first pace this long. */
const RESTART_WINDOW = 30_000;
/** An attempt that has not said `ready` by then is given up (a dead network may never answer). */
const CONNECT_WITHIN = 10_000;
/** "Reconnect now" leaves alone an attempt younger than this. */
const FRESH_ATTEMPT = 1000;
const PING_EVERY = 25_000;
const PONG_WITHIN = 10_000;
const ANSWER_WITHIN = 15_000;

/** How long to wait before retry number `attempt` (0 is the first), `random` in [0, 1]. */
export function retryDelay(attempt, random = Math.random()) {
  const base = Math.min(MAX_DELAY, FIRST_DELAY * 2 ** attempt);
  return Math.round(base * (1 - JITTER + 2 * JITTER * random));
}

export class Live extends EventTarget {
  /** `since`: the seq the page's content is current to, if it says (resumed from on connect). */
  constructor(url, since = null) {
    super();
    this.url = url;
    this.ws = null;
    /** The last event seq seen (or the page's own); sent as `since` on every hello. */
    this.seq = Number.isInteger(since) ? since : null;
    this.ready = false;
    this.everReady = false;
    this.attempt = 0;
    /** When the current attempt started. */
    this.startedAt = 0;
    /** Until then, the server is taken to be restarting (it closed with 1001). */
    this.restartingUntil = 0;
    this.nextReq = 1;
    /** req -> {frame, resolve, reject, retry, timer} */
    this.pending = new Map();
    this.timers = {};
    this.stopped = false;
    addEventListener("online", () => this.reconnectNow());
    // Offline, a retry cannot succeed: wait for "online" instead.
    addEventListener("offline", () => clearTimeout(this.timers.retry));
    this.button = document.querySelector("#banner [data-action=reconnect]");
    this.button?.addEventListener("click", () => {
      this.reconnectNow(true);
      // Until this attempt ends one way or the other.
      if (this.ws && !this.ready) this.button.disabled = true;
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.reconnectNow();
      this.presence();
    });
  }

  /**
   * Calls `fn(detail)` for every `type` frame until the returned function is called or
   * `signal` aborts (a conversation taken off screen stops hearing about it).
   */
  on(type, fn, { signal } = {}) {
    const listener = (e) => fn(e.detail);
    this.addEventListener(type, listener, { signal });
    return () => this.removeEventListener(type, listener);
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  connect() {
    clearTimeout(this.timers.retry);
    if (this.ws || this.stopped) return;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.startedAt = Date.now();
    clearTimeout(this.timers.connect);
    this.timers.connect = setTimeout(() => {
      if (this.ws === ws && !this.ready) this.drop();
    }, CONNECT_WITHIN);
    ws.onopen = () => {
      const hello = { op: "hello" };
      if (this.seq !== null) hello.since = this.seq;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (e) => {
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      this.onFrame(frame);
    };
    ws.onclose = (e) => this.onClose(ws, e.code);
  }

  onFrame(f) {
    switch (f.type) {
      case "ready": {
        const resumed = this.everReady;
        if (this.seq === null) this.seq = f.seq;
        this.ready = true;
        this.everReady = true;
        this.attempt = 0;
        this.restartingUntil = 0;
        clearTimeout(this.timers.connect);
        this.banner(false);
        this.presence();
        this.keepAlive();
        for (const [req, p] of this.pending) {
          if (p.retry) this.transmit(req, p);
        }
        this.emit("ready", { resumed, user: f.user });
        break;
      }
      case "event":
        if (typeof f.seq === "number") {
          if (this.seq !== null && f.seq <= this.seq) return; // already seen
          this.seq = f.seq;
        }
        this.emit("event", f);
        break;
      case "ack":
      case "pong":
      case "error":
        this.answer(f);
        break;
      case "resync":
        location.reload();
        break;
      default:
        this.emit(f.type, f);
    }
  }

  answer(f) {
    const p = this.pending.get(f.req);
    if (!p) return;
    this.pending.delete(f.req);
    clearTimeout(p.timer);
    if (f.type === "error") {
      const err = new Error(f.message || f.code);
      err.code = f.code;
      p.reject(err);
    } else {
      p.resolve(f.data);
    }
  }

  onClose(ws, code) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.ready = false;
    clearInterval(this.timers.ping);
    clearTimeout(this.timers.pong);
    clearTimeout(this.timers.connect);
    for (const [req, p] of this.pending) {
      if (p.retry) continue;
      this.pending.delete(req);
      clearTimeout(p.timer);
      p.reject(Object.assign(new Error("the connection dropped"), { code: "offline" }));
    }
    if (code === 4001) {
      this.stopped = true;
      location.href = "/login";
      return;
    }
    if (code === 1001) this.restartingUntil = Date.now() + RESTART_WINDOW;
    if (this.everReady || this.attempt > 1) this.banner(true);
    if (this.button) this.button.disabled = false;
    if (code === 4008) {
      this.attempt = 0;
      this.connect();
      return;
    }
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    clearTimeout(this.timers.retry);
    if (navigator.onLine === false) return; // "online" tries again
    const restarting = Date.now() < this.restartingUntil;
    const delay = retryDelay(restarting ? 0 : this.attempt);
    this.attempt += 1;
    this.timers.retry = setTimeout(() => this.connect(), delay);
  }

  /**
   * Tries at once: the tab came back, the network came back, or the person asked (`asked`:
   * even when the browser believes it is offline). An attempt under way is left alone while
   * young, and replaced when it has hung for a while.
   */
  reconnectNow(asked = false) {
    if (this.stopped || this.ready) return;
    if (!asked && navigator.onLine === false) return;
    if (this.ws) {
      if (Date.now() - this.startedAt < FRESH_ATTEMPT) return;
      this.drop();
    }
    this.attempt = 0;
    this.connect();
  }

  /**
   * Leaves for good (the person signs out): closes the socket, retries nothing, and tells
   * whoever listens for "stop" to drop what they had scheduled.
   */
  stop() {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of Object.values(this.timers)) {
      clearTimeout(t);
      clearInterval(t);
    }
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      try {
        ws.close();
      } catch {
        /* already closing */
      }
    }
    this.emit("stop");
  }

  /** Drops a connection that stopped answering, without waiting for TCP to notice. */
  drop() {
    const ws = this.ws;
    if (!ws) return;
    ws.onclose = null;
    ws.onmessage = null;
    try {
      ws.close();
    } catch {
      /* already closing */
    }
    this.onClose(ws, 1006);
  }

  keepAlive() {
    clearInterval(this.timers.ping);
    this.timers.ping = setInterval(() => {
      if (!this.ready) return;
      clearTimeout(this.timers.pong);
      this.timers.pong = setTimeout(() => this.drop(), PONG_WITHIN);
      this.request("ping", {}).then(
        () => clearTimeout(this.timers.pong),
        () => {},
      );
    }, PING_EVERY);
  }

  banner(show) {
    const el = document.getElementById("banner");
    if (el) el.hidden = !show;
    document.body.classList.toggle("offline", show);
  }

  presence() {
    if (!this.ready) return;
    const status = document.visibilityState === "visible" ? "online" : "away";
    this.fire("presence", { status });
  }

  /** A frame that needs no answer (typing, presence); dropped while offline. */
  fire(op, fields) {
    if (!this.ready) return;
    this.ws.send(JSON.stringify({ op, ...fields }));
  }

  /**
   * A request answered by ack (resolves with its data) or error (rejects with .code).
   * With `retry`, it waits through disconnects and is sent again after each reconnect
   * (sends carry a client_id, so the server answers a repeat with the first message).
   */
  request(op, fields, { retry = false } = {}) {
    return new Promise((resolve, reject) => {
      const req = `r${this.nextReq++}`;
      const p = { frame: { op, req, ...fields }, resolve, reject, retry };
      if (!this.ready && !retry) {
        reject(Object.assign(new Error("not connected"), { code: "offline" }));
        return;
      }
      this.pending.set(req, p);
      if (this.ready) this.transmit(req, p);
    });
  }

  transmit(req, p) {
    clearTimeout(p.timer);
    if (!p.retry) {
      p.timer = setTimeout(() => {
        this.pending.delete(req);
        p.reject(Object.assign(new Error("no answer from the server"), { code: "timeout" }));
      }, ANSWER_WITHIN);
    }
    this.ws.send(JSON.stringify(p.frame));
  }
}

/** A random id for idempotent sends. */
export function randomId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
