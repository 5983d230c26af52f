/**
 * Many deadlines of one length under a single timer: the handshake
 * deadline of every socket of an isolate. A runtime timer per socket, set
 * and cleared on every connection, measured several percent of a
 * connection's CPU; here adding a deadline is a push and cancelling one
 * clears a field.
 *
 * Deadlines of one length fall due in the order they were added, so they
 * wait in a queue and the one timer is set for the oldest. With nothing
 * left pending, the timer is cleared: an idle or stopped relay holds none.
 *
 * @module
 */

import type { Clock, TimerId } from "../relay/clock.ts";

/** A pending deadline. */
export interface Deadline {
  /** Do not run it. Does nothing once it has run or been cancelled. */
  cancel(): void;
}

class Entry implements Deadline {
  readonly at: number;
  run: (() => void) | undefined;
  readonly #onCancel: () => void;

  constructor(at: number, run: () => void, onCancel: () => void) {
    this.at = at;
    this.run = run;
    this.#onCancel = onCancel;
  }

  cancel(): void {
    if (this.run === undefined) return;
    this.run = undefined;
    this.#onCancel();
  }
}

/** Entries run or cancelled at the queue's front before it is cut. */
const COMPACT_AFTER = 1024;

/** Deadlines of `ms` milliseconds, each run once unless cancelled. */
export class Deadlines {
  readonly #clock: Clock;
  readonly #ms: number;
  readonly #onCancel = () => this.#cancelled();
  readonly #fire = () => this.#expire();
  #queue: Entry[] = [];
  #head = 0;
  #pending = 0;
  #timer: TimerId | undefined;
  #expiring = false;

  constructor(clock: Clock, ms: number) {
    this.#clock = clock;
    this.#ms = ms;
  }

  /** Deadlines neither run nor cancelled. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Run `run` once, `ms` from now, unless cancelled first. `run` should not
   * throw; if one does, the others due with it still run, and the first
   * error is thrown afterwards, as from a timer.
   */
  add(run: () => void): Deadline {
    const entry = new Entry(this.#clock.now() + this.#ms, run, this.#onCancel);
    this.#queue.push(entry);
    this.#pending++;
    // While deadlines run, the timer is set once they are done.
    if (!this.#expiring) {
      this.#timer ??= this.#clock.setTimeout(this.#fire, this.#ms);
    }
    return entry;
  }

  #cancelled(): void {
    if (--this.#pending > 0) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    this.#head = 0;
  }

  #expire(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    // One at a time: a deadline may add others, or cancel one due with it.
    let failure: { error: unknown } | undefined;
    this.#expiring = true;
    while (
      this.#head < this.#queue.length && this.#queue[this.#head].at <= now
    ) {
      const entry = this.#queue[this.#head++];
      const run = entry.run;
      if (run === undefined) continue;
      entry.run = undefined;
      this.#pending--;
      try {
        run();
      } catch (error) {
        failure ??= { error };
      }
    }
    this.#expiring = false;

    if (this.#pending === 0) {
      this.#queue = [];
      this.#head = 0;
    } else {
      // Cancelled entries ahead of the oldest pending one need no wake.
      while (this.#queue[this.#head].run === undefined) this.#head++;
      if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      // Timers take whole milliseconds: rounded up, it never wakes early.
      const wait = Math.ceil(this.#queue[this.#head].at - now);
      this.#timer = this.#clock.setTimeout(this.#fire, Math.max(0, wait));
    }
    if (failure) throw failure.error;
  }
}
