/**
 * Every code a client can rely on: error codes carried in error frames and
 * WebSocket close codes.
 *
 * Close codes are split into two ranges so that clients need no table of
 * their own: 4000–4499 means "reconnect with backoff", 4500–4999 means "do
 * not reconnect, something must change first".
 *
 * @module
 */

/** Stable snake_case codes carried by `{"type":"error"}` frames. */
export const ErrorCode = {
  invalidJson: "invalid_json",
  invalidMessage: "invalid_message",
  unknownType: "unknown_type",
  uidMismatch: "uid_mismatch",
  wrongState: "wrong_state",
  invalidName: "invalid_name",
  payloadTooLarge: "payload_too_large",
  binaryNotSupported: "binary_not_supported",
  tooManySubscriptions: "too_many_subscriptions",
  tooManyErrors: "too_many_errors",
  handshakeTimeout: "handshake_timeout",
} as const;

/** One of the values of {@linkcode ErrorCode}. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/** Application close codes sent by the relay. */
export const CloseCode = {
  /** The relay is shutting down or restarting. Reconnect. */
  shuttingDown: 4000,
  /** The client did not identify itself in time. Reconnect. */
  handshakeTimeout: 4001,
  /** The relay could not serve this socket because of its own fault. */
  internalError: 4006,
  /** The client broke the protocol (repeatedly or fatally). Give up. */
  protocolError: 4500,
  /** The handshake was refused. Give up. */
  authFailed: 4501,
  /** A frame was larger than the relay accepts. Give up. */
  frameTooLarge: 4504,
} as const;

/** One of the values of {@linkcode CloseCode}. */
export type CloseCode = typeof CloseCode[keyof typeof CloseCode];

/** First code of the "do not reconnect" range. */
export const GIVE_UP_FROM = 4500;

/** Whether a client that saw `code` on close should try again later. */
export function shouldReconnect(code: number): boolean {
  return code < GIVE_UP_FROM || code > 4999;
}
