// The live connection: hello and resume by seq, reconnects with backoff and jitter,
// requests answered by ack/error frames, and sends retried with the same client_id.

const MAX_DELAY = 30_000;
const PING_EVERY = 25_000;
const PONG_WITHIN = 10_000;
const ANSWER_WITHIN = 15_000;

export class Live extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    /** The last event seq seen; sent as `since` on reconnect. */
    this.seq = null;
    this.ready = false;
    this.everReady = false;
    this.attempt = 0;
    this.nextReq = 1;
    /** req -> {frame, resolve, reject, retry, timer} */
    this.pending = new Map();
    this.timers = {};
    this.stopped = false;
    addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.reconnectNow();
      this.presence();
    });
  }

  on(type, fn) {
    this.addEventListener(type, (e) => fn(e.detail));
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
        const resumed = this.seq !== null;
        if (!resumed) this.seq = f.seq;
        this.ready = true;
        this.everReady = true;
        this.attempt = 0;
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
    if (this.everReady || this.attempt > 1) this.banner(true);
    if (code === 4008) {
      this.attempt = 0;
      this.connect();
      return;
    }
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    const base = Math.min(MAX_DELAY, 500 * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt += 1;
    clearTimeout(this.timers.retry);
    this.timers.retry = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.ws || this.stopped) return;
    this.attempt = 0;
    this.connect();
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
