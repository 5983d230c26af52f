/**
 * Refusals the session builds from more than a code: app-name errors with
 * their messages, and the frame-size check.
 *
 * @module
 */

import { ErrorCode } from "./codes.ts";
import { APP_NAME, type FrameError } from "./messages.ts";

/** The error for an app name the registry does not know. */
export function unknownApp(name: string): FrameError {
  return {
    code: ErrorCode.unknownApp,
    message: `App "${name}" is not registered on this relay`,
  };
}

/** The error for an app name off the pattern, shown cut to 64 chars. */
export function invalidName(name: string): FrameError {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return {
    code: ErrorCode.invalidName,
    message: `App name "${shown}" must match ${APP_NAME.source}`,
  };
}

/**
 * Whether `text` is over `max` UTF-8 bytes. UTF-8 never takes fewer bytes
 * than UTF-16 code units nor more than three per unit, so most frames are
 * decided without encoding them.
 */
export function tooLarge(text: string, max: number): boolean {
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  return new TextEncoder().encode(text).length > max;
}
