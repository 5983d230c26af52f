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
  /** Too much was sent while the relay was still checking a key or token. */
  backlogFull: "backlog_full",
  /** Strict mode: the app name is not in the registry. */
  unknownApp: "unknown_app",
  /** A registered app's provider sent `auth` without `signature`. */
  signatureRequired: "signature_required",
  /** `signature` is not base64url (no padding) of 64 bytes. */
  signatureMalformed: "signature_malformed",
  /**
   * The signature does not verify with the app's key over this socket's
   * uid and this name: replayed, made for another name, or by another key.
   */
  badSignature: "bad_signature",
  /** A private app was asked for without a token. */
  tokenRequired: "token_required",
  /** The token is not a compact JWT. */
  tokenMalformed: "token_malformed",
  /** The token is unsecured (`alg: none`). */
  tokenUnsigned: "token_unsigned",
  /** The token is signed with an algorithm other than EdDSA. */
  tokenAlgorithm: "token_algorithm",
  /** The token's signature or claims do not hold with the app's key. */
  tokenInvalid: "token_invalid",
  /** The token's `exp` has passed. */
  tokenExpired: "token_expired",
  /** The token is genuine but names another app. */
  forbidden: "forbidden",
  /** The token is genuine but its `scope` does not allow this. */
  tokenScope: "token_scope",
  /**
   * A provider's data frame went over its connection's or its app's rate
   * (messages or bytes per second) and was dropped.
   */
  rateLimited: "rate_limited",
  /** The widget read too slowly and its socket buffer stayed full. */
  slowConsumer: "slow_consumer",
  /** The isolate or the client's address holds too many sockets. */
  tooManyConnections: "too_many_connections",
} as const;

/** One of the values of {@linkcode ErrorCode}. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/** Application close codes sent by the relay. */
export const CloseCode = {
  /** The relay is shutting down or restarting. Reconnect. */
  shuttingDown: 4000,
  /** The client did not identify itself in time. Reconnect. */
  handshakeTimeout: 4001,
  /**
   * The widget did not read fast enough: its send buffer stayed over
   * `CUPD_SLOW_CONSUMER_BYTES`. Reconnect (and read faster).
   */
  slowConsumer: 4002,
  /** The isolate or the client's address holds too many sockets. Reconnect. */
  tooManyConnections: 4003,
  /**
   * The provider kept sending over its rate after `rate_limited` errors.
   * Reconnect with backoff, and send more slowly.
   */
  rateLimited: 4004,
  /** The relay could not serve this socket because of its own fault. */
  internalError: 4006,
  /** The client broke the protocol (repeatedly or fatally). Give up. */
  protocolError: 4500,
  /** The handshake was refused (uid, name or signature). Give up. */
  authFailed: 4501,
  /** Strict mode: the app is not registered. Give up. */
  unknownApp: 4502,
  /** A widget's token was refused for a private app. Give up. */
  forbidden: 4503,
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
