/**
 * The handshake deadline of every new socket of an isolate, kept by one
 * timer instead of one per socket: a connection then costs a set insert
 * and delete instead of a timer's creation and cancellation.
 *
 * @module
 */

/**
 * Sweeps run at most this often, so that a burst of connections expires
 * in batches: a deadline fires at most this much late (plus the event
 * loop's own lateness), never early.
 */
export const SWEEP_GRAIN_MS = 50;

/** One socket's wait, as {@linkcode HandshakeSweep.watch} returns it. */
export interface HandshakeWait {
  readonly deadline: number;
  readonly expire: () => void;
}

/**
 * Calls each watched socket's `expire` once its handshake time is over,
 * unless it was forgotten first. Every wait has the same length, so the
 * set (in insertion order) is also in deadline order and a sweep stops at
 * the first wait not yet due. The timer runs only while a socket waits.
 */
export class HandshakeSweep {
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #waits = new Set<HandshakeWait>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastSweep = -Infinity;

  /** `now` is a monotonic clock in milliseconds, for tests. */
  constructor(timeoutMs: number, now: () => number = () => performance.now()) {
    this.#timeoutMs = timeoutMs;
    this.#now = now;
  }

  /** Sockets waiting now. */
  get size(): number {
    return this.#waits.size;
  }

  /** Start a socket's wait; `expire` runs when it is over. */
  watch(expire: () => void): HandshakeWait {
    const wait = { deadline: this.#now() + this.#timeoutMs, expire };
    this.#waits.add(wait);
    if (this.#timer === undefined) this.#arm(wait.deadline);
    return wait;
  }

  /** End a wait early (the socket identified or closed); idempotent. */
  forget(wait: HandshakeWait): void {
    if (!this.#waits.delete(wait) || this.#waits.size > 0) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(deadline: number): void {
    clearTimeout(this.#timer);
    const at = Math.max(deadline, this.#lastSweep + SWEEP_GRAIN_MS);
    this.#timer = setTimeout(() => this.#sweep(), at - this.#now());
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = this.#lastSweep = this.#now();
    for (const wait of this.#waits) {
      if (wait.deadline > now) {
        this.#arm(wait.deadline);
        return;
      }
      this.#waits.delete(wait);
      // One socket's failure is its own (its glue guards it); the rest
      // still expire.
      try {
        wait.expire();
      } catch {
        // reported by the socket's own guard
      }
    }
  }
}
