/**
 * Time as a dependency: modules that wait or measure take a
 * {@linkcode Clock}, so tests drive time by hand instead of sleeping.
 *
 * @module
 */

/** Handle of a pending timer. */
export type TimerId = ReturnType<typeof setTimeout>;

/** The current time and one-shot timers. */
export interface Clock {
  /** Milliseconds since an arbitrary, fixed origin; never goes backwards. */
  now(): number;
  /** Run `run` once after `ms` milliseconds. */
  setTimeout(run: () => void, ms: number): TimerId;
  /** Cancel a timer. Unknown or fired timers are ignored. */
  clearTimeout(id: TimerId): void;
}

/** The runtime's own clock and timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (id) => clearTimeout(id),
};
