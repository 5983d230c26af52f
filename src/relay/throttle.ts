/**
 * A leading-and-trailing rate limit for one recurring action.
 *
 * @module
 */

import type { Clock, TimerId } from "./clock.ts";

/**
 * Runs an action at most once per `gapMs`. A call inside the gap is not lost:
 * it schedules one trailing run at the end of the gap, so the last change is
 * always acted on. The action returns whether it did anything; a run that
 * did nothing does not start a gap.
 */
export class Throttle {
  readonly #clock: Clock;
  readonly #gapMs: number;
  readonly #run: () => boolean;
  #last = -Infinity;
  #timer: TimerId | undefined;

  constructor(clock: Clock, gapMs: number, run: () => boolean) {
    this.#clock = clock;
    this.#gapMs = gapMs;
    this.#run = run;
  }

  /** Ask for a run: now when the gap is over, else at its end. */
  poke(): void {
    if (this.#timer !== undefined) return;

    const wait = this.#last + this.#gapMs - this.#clock.now();
    if (wait <= 0) {
      this.#fire();
      return;
    }
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#fire();
    }, wait);
  }

  /** Drop a pending trailing run. */
  cancel(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #fire(): void {
    if (this.#run()) this.#last = this.#clock.now();
  }
}
