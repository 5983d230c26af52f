/**
 * Coalesced writes of last values: payloads wait in memory, one per app
 * (the latest wins), and are written together once per flush interval, so
 * a burst of payloads for one app costs one store write, not one each.
 *
 * @module
 */

import type { Logger } from "../observe/log.ts";
import type { Counter } from "../observe/metrics.ts";
import type { Clock, TimerId } from "./clock.ts";
import type { LastValue, LastValueStore } from "./last_value.ts";

/** Options of {@linkcode LastValueWriter}. */
export interface WriterOptions {
  store: LastValueStore;
  clock: Clock;
  /** Time the first pending value waits before the flush that writes it. */
  flushMs: number;
  log: Logger;
  /** Bumped per completed store write, for metrics. */
  writes?: Counter;
  /** Bumped per failed store write, for metrics. */
  writeFailures?: Counter;
}

/** Counts of a {@linkcode LastValueWriter}, for health and tests. */
export interface WriterStats {
  /** Values handed to the writer. */
  queued: number;
  /** Store writes that completed. */
  written: number;
  /** Store writes that failed; their values are dropped. */
  failed: number;
}

/**
 * Writes the latest value of each app at most once per `flushMs`. Flushes
 * run one after another, so a slow write is never overtaken by a newer one
 * for the same app.
 */
export class LastValueWriter {
  readonly #store: LastValueStore;
  readonly #clock: Clock;
  readonly #flushMs: number;
  readonly #log: Logger;
  readonly #writes: Counter | undefined;
  readonly #writeFailures: Counter | undefined;
  #pending = new Map<string, LastValue>();
  /** The batch being written now. */
  #writing = new Map<string, LastValue>();
  /** Apps whose write failed in the last flush that wrote anything. */
  #lost: string[] = [];
  #timer: TimerId | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #failing = false;
  readonly stats: WriterStats = { queued: 0, written: 0, failed: 0 };

  constructor(options: WriterOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#flushMs = options.flushMs;
    this.#log = options.log;
    this.#writes = options.writes;
    this.#writeFailures = options.writeFailures;
  }

  /** Apps waiting for the next flush. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Apps whose latest value the store may not hold: waiting for a flush,
   * being written, or failed in the last flush. For the shutdown log.
   */
  unwritten(): string[] {
    const apps = new Set([...this.#lost, ...this.#writing.keys()]);
    for (const app of this.#pending.keys()) apps.add(app);
    return [...apps];
  }

  /** Make `value` the app's next write, replacing any pending one. */
  put(app: string, value: LastValue): void {
    this.stats.queued++;
    this.#pending.set(app, value);
    this.#timer ??= this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#flushMs);
  }

  /**
   * Write everything pending now. Resolves once this flush and every
   * earlier one have finished; never rejects.
   */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    // The batch is taken when the previous flush is done, so values that
    // arrive meanwhile still join it.
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  async #write(): Promise<void> {
    const batch = this.#pending;
    if (batch.size === 0) return;
    this.#pending = new Map();
    this.#writing = batch;

    const apps = [...batch.keys()];
    const results = await Promise.allSettled(
      [...batch].map(([app, value]) => this.#store.set(app, value)),
    );
    this.#writing = new Map();
    this.#lost = apps.filter((_, i) => results[i].status === "rejected");
    const failures = results.filter((r) => r.status === "rejected");
    const written = results.length - failures.length;
    this.stats.written += written;
    this.stats.failed += failures.length;
    this.#writes?.inc(written);
    this.#writeFailures?.inc(failures.length);
    this.#report(failures[0]?.reason, failures.length, results.length);
  }

  /** Warn when writes start failing and when they recover, not per flush. */
  #report(error: unknown, failed: number, total: number): void {
    if (failed > 0 && !this.#failing) {
      this.#log.warn("cannot write last values", {
        failed,
        total,
        error: String(error),
      });
    } else if (failed === 0 && this.#failing) {
      this.#log.info("writing last values again");
    }
    this.#failing = failed > 0;
  }
}
