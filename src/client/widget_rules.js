/**
 * The rules of the widget library that involve no socket: reconnection
 * delays, close-code classes, relay URLs and defaults. `widget.js` imports
 * and re-exports them; the relay serves this file at `/widget_rules.js`.
 *
 * @module
 */

/** App names the relay accepts. */
export const APP_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Defaults of every option of `connect`. */
export const DEFAULTS = Object.freeze({
  minDelayMs: 500,
  maxDelayMs: 30_000,
  maxAttempts: Infinity,
  pingIntervalMs: 25_000,
  pongTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
});

/**
 * Error codes about the whole connection. Every other error code answers
 * one frame the client sent (a `subscribe` or an `unsubscribe`).
 */
export const CONNECTION_CODES = new Set([
  "too_many_errors",
  "payload_too_large",
  "handshake_timeout",
  "backlog_full",
  "internal_error",
]);

/** Close code the library reports when it gives up on a silent socket. */
export const ABNORMAL_CLOSURE = 1006;

/**
 * The delay before reconnection attempt `attempt` (1 for the first): the
 * ceiling `min(maxDelayMs, minDelayMs · 2^(attempt-1))`, of which a random
 * half is kept, so the delay lies in `[ceiling/2, ceiling]`. Clients cut off
 * together therefore spread out, and none retries in a tight loop.
 */
export function reconnectDelay(attempt, options = {}, random = Math.random) {
  const min = options.minDelayMs ?? DEFAULTS.minDelayMs;
  const max = options.maxDelayMs ?? DEFAULTS.maxDelayMs;
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(max, min * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * ceiling / 2);
}

/**
 * What a client does after a close with `code`: `"stop"` for the relay's
 * "do not reconnect" range 4500–4999 (something must change first), else
 * `"reconnect"` (4000–4499, and every standard code such as 1001 or 1006).
 */
export function closeAction(code) {
  return code >= 4500 && code <= 4999 ? "stop" : "reconnect";
}

/**
 * The WebSocket URL for `url`, which may be relative to the page and may
 * use http: or https: (mapped to ws: and wss:). Defaults to the serving
 * origin's `/ws`.
 */
export function relayUrl(url) {
  const base = globalThis.location?.href;
  if (url === undefined && base === undefined) {
    throw new TypeError("connect() needs a URL outside a web page");
  }
  const resolved = new URL(url ?? "/ws", base);
  if (resolved.protocol === "http:") resolved.protocol = "ws:";
  if (resolved.protocol === "https:") resolved.protocol = "wss:";
  if (resolved.protocol !== "ws:" && resolved.protocol !== "wss:") {
    throw new TypeError(`Cannot connect to ${resolved.href}: not ws or http`);
  }
  return resolved.href;
}
