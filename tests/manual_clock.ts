/**
 * A {@linkcode Clock} moved by hand, so tests of timing never sleep.
 *
 * @module
 */

import type { Clock, TimerId } from "../src/relay/clock.ts";

interface Timer {
  id: number;
  at: number;
  run: () => void;
}

/** Time stands still until {@linkcode ManualClock.advance} moves it. */
export class ManualClock implements Clock {
  #now = 0;
  #nextId = 1;
  #timers: Timer[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(run: () => void, ms: number): TimerId {
    const id = this.#nextId++;
    this.#timers.push({ id, at: this.#now + Math.max(0, ms), run });
    return id as unknown as TimerId;
  }

  clearTimeout(id: TimerId): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== Number(id));
  }

  /** Timers not fired yet. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Move time forward by `ms`, firing due timers in order of due time. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = this.#timers
        .filter((timer) => timer.at <= end)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((timer) => timer !== due);
      this.#now = due.at;
      due.run();
    }
    this.#now = end;
  }
}
