/**
 * The last line of defence: a promise rejection nobody handled, or an
 * exception thrown from a callback outside any guard, would end the
 * isolate and cut every socket on it. The guard logs such an error with
 * its context, counts it, and keeps the isolate alive.
 *
 * Listeners are process-wide, so one guard is installed per relay and
 * removed by its `uninstall`; several relays in one process (tests) each
 * log and count what they see.
 *
 * @module
 */

import type { Logger } from "./log.ts";
import type { CounterFamily } from "./metrics.ts";

/**
 * Install `unhandledrejection` and `error` listeners on `globalThis` that
 * log at error level, bump `faults` (`unhandled_rejection`,
 * `uncaught_error`) and prevent the default (ending the isolate).
 * Returns the function that removes them.
 */
export function installProcessGuard(
  log: Logger,
  faults: CounterFamily,
): () => void {
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    faults.get("unhandled_rejection").value++;
    log.error("unhandled rejection", { error: event.reason });
  };
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    faults.get("uncaught_error").value++;
    log.error("uncaught error", {
      error: event.error ?? event.message,
      file: event.filename,
      line: event.lineno,
    });
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  globalThis.addEventListener("error", onError);
  return () => {
    globalThis.removeEventListener("unhandledrejection", onRejection);
    globalThis.removeEventListener("error", onError);
  };
}
