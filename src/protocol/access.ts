/**
 * The words the session and the auth policy share: how an app name is
 * treated, and the outcome of a check.
 *
 * The session asks {@linkcode AccessLookup} synchronously for every `auth`
 * and `subscribe`, so names needing no key cost no extra turn of the event
 * loop; only a signature or a token is checked asynchronously.
 *
 * @module
 */

import type { FrameError } from "./messages.ts";

/**
 * How the relay treats an app name:
 * - `open`: not registered, open mode; anyone publishes and watches;
 * - `keyed`: registered; providers must sign, widgets need nothing;
 * - `private`: registered; providers sign and widgets present a token;
 * - `unknown`: not registered, strict mode; refused.
 */
export type AppAccess = "open" | "keyed" | "private" | "unknown";

/** Answers, synchronously and without throwing, how a name is treated. */
export type AccessLookup = (name: string) => AppAccess;

/** The outcome of a signature or token check. */
export type Verdict = { ok: true } | { ok: false; error: FrameError };

/** Every name open: the behaviour of a relay without a registry. */
export const OPEN_ACCESS: AccessLookup = (): AppAccess => "open";
