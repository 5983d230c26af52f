/**
 * Reconnection delays: exponential, capped, with jitter so that many
 * clients cut off at the same moment do not all come back at once.
 *
 * @module
 */

/** Bounds of the reconnection delay. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  minDelayMs: number;
  /** Largest delay, before jitter. */
  maxDelayMs: number;
}

/** The defaults: half a second, doubling up to thirty seconds. */
export const DEFAULT_BACKOFF: BackoffOptions = {
  minDelayMs: 500,
  maxDelayMs: 30_000,
};

/**
 * The delay before retry number `attempt` (0 for the first): the ceiling
 * `min(maxDelayMs, minDelayMs · 2^attempt)`, of which a random half is
 * kept. The delay is therefore never below half the ceiling (no retry
 * storms) and never above it.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(
    options.maxDelayMs,
    options.minDelayMs * 2 ** Math.min(attempt, 30),
  );
  return ceiling / 2 + random() * ceiling / 2;
}
