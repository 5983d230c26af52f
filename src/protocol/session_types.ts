/**
 * What a {@linkcode Session} takes and gives: its limits, its states, the
 * effects it asks the socket glue to carry out, and the rate-limit judge it
 * consults for data frames. Plain types, so the glue and tests can name
 * them without the state machine.
 *
 * @module
 */

import type { CloseCode } from "./codes.ts";
import type { ServerFrame } from "./messages.ts";

/** Limits a session enforces itself. */
export interface SessionLimits {
  /** Largest accepted text frame, in UTF-8 bytes. */
  maxFrameBytes: number;
  /** Most apps one widget socket may subscribe to. */
  maxSubscriptions: number;
  /** Non-fatal errors tolerated before the socket is closed. */
  maxErrors: number;
}

/**
 * How a provider's data frame stands against its rate limits: `ok` to
 * publish, `limited` to drop with a `rate_limited` error, `abusive` to
 * close the socket (too many limited frames).
 */
export type DataVerdict = "ok" | "limited" | "abusive";

/** Judges one data frame (`text` is the whole frame) for app `name`. */
export type DataGate = (name: string, text: string) => DataVerdict;

/** The role-and-progress of a socket. */
export type SessionState =
  | { kind: "greeted" }
  | {
    kind: "verifying";
    role: "provider" | "widget";
    /** The app whose signature or token is being checked. */
    name: string;
    /** Apps the socket was already subscribed to (empty for providers). */
    names: Set<string>;
  }
  | { kind: "provider"; name: string }
  | { kind: "widget"; names: Set<string> }
  | { kind: "closed" };

/** What the glue must do in answer to an input. */
export type Effect =
  | { kind: "send"; frame: ServerFrame }
  | { kind: "close"; code: CloseCode; reason: string }
  | { kind: "authenticate"; name: string }
  | { kind: "subscribe"; name: string }
  | { kind: "unsubscribe"; name: string }
  | { kind: "publish"; name: string; data: unknown }
  | { kind: "verify-provider"; name: string; signature: string }
  | { kind: "verify-widget"; name: string; token: string };
