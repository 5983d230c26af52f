// @ts-self-types="./widget.d.ts"
/**
 * cupd widget client: a dependency-free browser ES module, served by the
 * relay at `/widget.js`.
 *
 * ```js
 * import { connect } from "/widget.js";
 * const relay = connect();
 * relay.subscribe("weather", (value) => render(value));
 * ```
 *
 * One WebSocket carries every subscription of a relay object. It reconnects
 * with jittered exponential backoff, subscribes every app again (with its
 * token) after a reconnect, pings so that a dead connection is noticed, and
 * stops for good on a close code of the "do not reconnect" range
 * (4500–4999). A connection left with no subscription waits, without a
 * socket, for the next one. Types are in `widget.d.ts` beside this file;
 * the socket-free rules in `widget_rules.js`.
 *
 * @module
 */

import {
  ABNORMAL_CLOSURE,
  closeAction,
  CONNECTION_CODES,
  DEFAULTS,
  reconnectDelay,
  relayUrl,
} from "./widget_rules.js";

export {
  APP_NAME,
  closeAction,
  DEFAULTS,
  reconnectDelay,
  relayUrl,
} from "./widget_rules.js";

/**
 * Open a connection to a cupd relay and keep it open until `close()`.
 * Returns at once; subscriptions made before the socket opens are sent when
 * it does.
 */
export function connect(url, options = {}) {
  return new RelayConnection(relayUrl(url), options);
}

/** Call `fn` without letting its exception break the library's state. */
function guarded(fn, ...args) {
  try {
    fn(...args);
  } catch (error) {
    if (typeof globalThis.reportError === "function") {
      globalThis.reportError(error);
    } else {
      // deno-lint-ignore no-console
      console.error(error);
    }
  }
}

/**
 * The relay object `connect` returns: one socket at a time, replaced on
 * loss; the subscriptions live here, not on the socket, so they outlive it.
 * States: connecting → open → closed → reconnecting | idle | stopped.
 */
class RelayConnection {
  #url;
  #options;
  /** @type {WebSocket | null} */
  #ws = null;
  #state = "connecting";
  /** Failed attempts since the relay last greeted us. */
  #attempt = 0;
  /** name → { token, subs: Set<{ callback, onError }>, last } */
  #apps = new Map();
  /** Frames awaiting an answer on this socket, in order. */
  #pending = [];
  /** The app the last error frame was about, if it was about one. */
  #blamed = null;
  #listeners = new Set();
  #timers = { connect: 0, ping: 0, pong: 0, retry: 0 };

  constructor(url, options) {
    this.#url = url;
    this.#options = { ...DEFAULTS, ...options };
    if (options.onState) this.#listeners.add(options.onState);
    globalThis.addEventListener?.("online", this.#online);
    this.#open();
  }

  /**
   * The browser is back on a network: retry now rather than after a delay
   * that may have grown to `maxDelayMs` while it was offline.
   */
  #online = () => {
    if (this.#state !== "reconnecting") return;
    clearTimeout(this.#timers.retry);
    this.#timers.retry = 0;
    this.#open();
  };

  get url() {
    return this.#url;
  }

  get state() {
    return this.#state;
  }

  onState(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  subscribe(name, callback, options = {}) {
    if (typeof name !== "string") throw new TypeError("name must be a string");
    if (typeof callback !== "function") {
      throw new TypeError("callback must be a function");
    }
    if (this.#state === "stopped") {
      throw new Error(`Cannot subscribe to "${name}": the relay is stopped`);
    }
    const token = options.token;
    if (!["undefined", "string", "function"].includes(typeof token)) {
      throw new TypeError("token must be a string or a function");
    }

    const sub = { callback, onError: options.onError };
    let app = this.#apps.get(name);
    if (app) {
      if (token !== undefined) app.token = token;
      if (app.last) queueMicrotask(() => this.#replay(app, sub, name));
    } else {
      app = { token, subs: new Set(), last: null };
      this.#apps.set(name, app);
      this.#sendSubscribe(name, app);
    }
    app.subs.add(sub);
    if (this.#state === "idle") this.#open();
    return () => this.#unsubscribe(name, app, sub);
  }

  close() {
    if (this.#state === "stopped") return;
    const ws = this.#ws;
    this.#detach();
    this.#apps.clear();
    if (ws) {
      ws.close(1000, "client_closed");
      this.#emit({ state: "closed", code: 1000, reason: "client_closed" });
    }
    this.#stop(1000, "client_closed");
  }

  #open() {
    // A listener may close the relay from inside any state event; each
    // step re-checks afterwards, so a closed relay never opens a socket or
    // starts a timer again.
    this.#emit({ state: "connecting", attempt: this.#attempt });
    if (this.#state === "stopped") return;
    let ws;
    try {
      ws = new WebSocket(this.#url);
    } catch (error) {
      // Only a URL the browser refuses outright gets here; retrying cannot
      // make it valid.
      this.#reportError({ code: "invalid_url", message: String(error) });
      this.#stop(ABNORMAL_CLOSURE, "invalid_url");
      return;
    }

    this.#ws = ws;
    this.#pending = [];
    this.#blamed = null;
    this.#timers.connect = setTimeout(
      () => this.#lost(ABNORMAL_CLOSURE, "connect_timeout"),
      this.#options.connectTimeoutMs,
    );
    ws.onopen = () => this.#opened();
    ws.onmessage = (event) => this.#receive(event.data);
    ws.onclose = (event) => this.#lost(event.code, event.reason);
  }

  #opened() {
    const ws = this.#ws;
    clearTimeout(this.#timers.connect);
    this.#emit({ state: "open" });
    if (this.#ws !== ws) return;
    for (const [name, app] of this.#apps) this.#sendSubscribe(name, app);
    this.#timers.ping = setInterval(
      () => this.#ping(),
      this.#options.pingIntervalMs,
    );
  }

  #ping() {
    this.#send({ type: "ping" });
    if (this.#timers.pong) return;
    this.#timers.pong = setTimeout(
      () => this.#lost(ABNORMAL_CLOSURE, "ping_timeout"),
      this.#options.pongTimeoutMs,
    );
  }

  #receive(text) {
    // Any frame proves the connection alive, not only a pong.
    clearTimeout(this.#timers.pong);
    this.#timers.pong = 0;
    this.#blamed = null;

    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame === null || typeof frame !== "object") return;

    switch (frame.type) {
      case "welcome":
        this.#attempt = 0;
        return;
      case "subscribed":
      case "unsubscribed":
        this.#answered(frame.name);
        return;
      case "data":
        this.#deliver(frame);
        return;
      case "error":
        this.#failed(frame);
        return;
    }
  }

  #deliver(frame) {
    const app = this.#apps.get(frame.name);
    if (!app || !("data" in frame)) return;

    app.last = { data: frame.data };
    const info = { name: frame.name, retained: frame.retained === true };
    for (const sub of [...app.subs]) {
      if (app.subs.has(sub)) guarded(sub.callback, frame.data, info);
    }
  }

  /** Late subscribers of an app already watched get its last value. */
  #replay(app, sub, name) {
    if (!app.subs.has(sub) || !app.last) return;
    guarded(sub.callback, app.last.data, { name, retained: true });
  }

  #answered(name) {
    const index = this.#pending.findIndex((entry) => entry.name === name);
    if (index >= 0) this.#pending.splice(index, 1);
  }

  /**
   * An error frame answers the oldest pending frame unless its code is
   * about the whole connection: the relay handles a socket's frames in
   * order, so answers come back in the order the frames went out. A failed
   * `subscribe` drops that app and is reported to its subscribers; the other
   * apps are not affected.
   */
  #failed(frame) {
    const error = {
      code: String(frame.code),
      message: String(frame.message ?? ""),
    };
    const head = CONNECTION_CODES.has(error.code)
      ? undefined
      : this.#pending.shift();
    if (!head) {
      this.#reportError(error);
      return;
    }
    // The app was dropped locally already; nothing is left to report.
    if (head.type === "unsubscribe") return;

    this.#blamed = head.name;
    const app = this.#apps.get(head.name);
    if (app) this.#refuse(head.name, app, error);
  }

  /** Drop one app and tell its subscribers and the connection why. */
  #refuse(name, app, error) {
    this.#apps.delete(name);
    const appError = { ...error, name };
    for (const sub of app.subs) {
      if (sub.onError) guarded(sub.onError, appError);
    }
    this.#reportError(appError);
  }

  #reportError(error) {
    if (this.#options.onError) guarded(this.#options.onError, error);
  }

  #sendSubscribe(name, app) {
    const ws = this.#ws;
    if (ws?.readyState !== WebSocket.OPEN) return;
    if (typeof app.token !== "function") {
      this.#subscribeWith(name, app.token);
      return;
    }

    // A token function is asked again for every socket, so a page can
    // hand out a fresh short-lived token on each reconnect.
    const current = () => this.#ws === ws && this.#apps.get(name) === app;
    Promise.resolve().then(app.token).then(
      (token) => current() && this.#subscribeWith(name, token),
      (error) =>
        current() && this.#refuse(name, app, {
          code: "token_unavailable",
          message: `The token function failed: ${error?.message ?? error}`,
        }),
    );
  }

  #subscribeWith(name, token) {
    const frame = { type: "subscribe", name };
    if (token !== undefined) frame.token = token;
    this.#send(frame);
    this.#pending.push({ type: "subscribe", name });
  }

  #unsubscribe(name, app, sub) {
    if (!app.subs.delete(sub) || app.subs.size > 0) return;
    if (this.#apps.get(name) !== app) return;

    this.#apps.delete(name);
    if (this.#ws?.readyState !== WebSocket.OPEN) return;
    this.#send({ type: "unsubscribe", name });
    this.#pending.push({ type: "unsubscribe", name });
  }

  #send(frame) {
    if (this.#ws?.readyState !== WebSocket.OPEN) return;
    this.#ws.send(JSON.stringify(frame));
  }

  /** The socket closed, or is given up for silent: reconnect or stop. */
  #lost(code, reason) {
    const ws = this.#ws;
    if (!ws) return;
    this.#detach();
    if (ws.readyState < WebSocket.CLOSING) ws.close(1000, reason);
    this.#emit({ state: "closed", code, reason });
    if (this.#state === "stopped") return;

    // A refusal aimed at one app (a bad token, an unknown app) closes the
    // socket with a "do not reconnect" code, but that app has been dropped
    // above, so the others may come back.
    const blamed = this.#blamed !== null;
    if (closeAction(code) === "stop" && !blamed) {
      this.#stop(code, reason);
      return;
    }
    // Nothing to watch: a socket would only be closed by the relay's
    // handshake timeout, again and again. The next subscribe reconnects.
    if (this.#apps.size === 0) {
      this.#emit({ state: "idle" });
      return;
    }
    if (this.#attempt >= this.#options.maxAttempts) {
      this.#stop(code, reason);
      return;
    }

    this.#attempt++;
    const delay = reconnectDelay(this.#attempt, this.#options);
    this.#emit({ state: "reconnecting", attempt: this.#attempt, delay });
    if (this.#state === "stopped") return;
    this.#timers.retry = setTimeout(() => {
      this.#timers.retry = 0;
      this.#open();
    }, delay);
  }

  /** Forget the current socket and stop every timer. */
  #detach() {
    const ws = this.#ws;
    if (ws) ws.onopen = ws.onmessage = ws.onclose = null;
    this.#ws = null;
    this.#pending = [];
    clearTimeout(this.#timers.connect);
    clearInterval(this.#timers.ping);
    clearTimeout(this.#timers.pong);
    clearTimeout(this.#timers.retry);
    this.#timers = { connect: 0, ping: 0, pong: 0, retry: 0 };
  }

  #stop(code, reason) {
    this.#detach();
    globalThis.removeEventListener?.("online", this.#online);
    this.#emit({ state: "stopped", code, reason });
  }

  #emit(event) {
    this.#state = event.state;
    for (const listener of [...this.#listeners]) guarded(listener, event);
  }
}
