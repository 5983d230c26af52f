/**
 * One isolate's copy of the last values, in front of the shared
 * {@linkcode LastValueStore}.
 *
 * Every local publish and every frame from the bus updates the copy, so an
 * app this isolate already watches (it has local widgets, hence a bus
 * subscription) is answered synchronously by {@linkcode LastValueCache.peek}.
 * Other apps may have moved on elsewhere, so they need
 * {@linkcode LastValueCache.load}: one store read (shared by the widgets
 * that ask meanwhile), merged with the local copy by publish time.
 *
 * A read is not cached as current: the store lags publishes on other
 * isolates by up to one flush interval, and caching a stale read would
 * extend that for every later subscriber. Only the bus keeps the copy
 * current. A bus that lost its subscriptions for a while (a Redis outage)
 * missed the frames published meanwhile: {@linkcode LastValueCache.forget}
 * makes the next subscriber of those apps read the store again.
 *
 * @module
 */

import type { Logger } from "../observe/log.ts";
import type { Counter } from "../observe/metrics.ts";
import { BoundedValues } from "./bounded_values.ts";
import type { Clock } from "./clock.ts";
import { expired, type LastValue, type LastValueStore } from "./last_value.ts";
import { LastValueWriter } from "./last_value_writer.ts";

/** Options of {@linkcode LastValueCache}. */
export interface CacheOptions {
  store: LastValueStore;
  /** Timers for flushes and read timeouts. */
  clock: Clock;
  /** Wall clock for publish times; `Date.now` by default. */
  now?: () => number;
  /** Time a value is kept after its publish; 0 keeps it for ever. */
  ttlMs: number;
  /** Time payloads wait before their app's last value is written. */
  flushMs: number;
  log: Logger;
  /** Time a store read may take before it counts as "no value". */
  readTimeoutMs?: number;
  /** Most apps kept in memory; the least recently updated go first. */
  maxEntries?: number;
  /** Most frame text kept in memory, in UTF-16 code units; 64 Mi default. */
  maxSize?: number;
  /** Time `close` waits for the final flush; 3000 by default. */
  closeWaitMs?: number;
  /** Store reads and writes, counted for metrics. */
  counters?: StoreCounters;
}

/** Counters of store traffic, bumped as reads and writes settle. */
export interface StoreCounters {
  /** Writes that completed. */
  writes: Counter;
  /** Writes that failed; their values are not in the store. */
  writeFailures: Counter;
  /** Reads started. */
  reads: Counter;
  /** Reads that failed or timed out, served as "no value". */
  readFailures: Counter;
}

/** Time `close` waits for the store to release its resources. */
const STORE_CLOSE_WAIT_MS = 2000;

/** Apps named in the log line of values not written at shutdown. */
const LOGGED_APPS = 20;

/** What {@linkcode LastValueCache.peek} knows for sure. */
export interface Known {
  /** The current last value's frame; `undefined` when there is none. */
  frame: string | undefined;
}

/** The last values of one isolate, backed by a shared store. */
export class LastValueCache {
  readonly #store: LastValueStore;
  readonly #writer: LastValueWriter;
  readonly #clock: Clock;
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #log: Logger;
  readonly #readTimeoutMs: number;
  readonly #closeWaitMs: number;
  readonly #counters: StoreCounters | undefined;
  /** Newest value seen per app. */
  readonly #entries: BoundedValues;
  /** Apps with a bus subscription, whose frames all pass through here. */
  readonly #watched = new Set<string>();
  /** Watched apps whose entry (or its absence) is current. */
  readonly #known = new Set<string>();
  readonly #loads = new Map<string, Promise<string | undefined>>();
  #readFailing = false;
  #closed = false;

  constructor(options: CacheOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.ttlMs;
    this.#log = options.log.child({ part: "last_value" });
    this.#readTimeoutMs = options.readTimeoutMs ?? 2000;
    this.#closeWaitMs = options.closeWaitMs ?? 3000;
    this.#counters = options.counters;
    this.#entries = new BoundedValues(
      {
        maxEntries: options.maxEntries ?? 10_000,
        maxSize: options.maxSize ?? 64 * 1024 * 1024,
      },
      // Its absence would read as "no value": look it up again instead.
      (app) => this.#known.delete(app),
    );
    this.#writer = new LastValueWriter({
      store: options.store,
      clock: options.clock,
      flushMs: options.flushMs,
      log: this.#log,
      writes: options.counters?.writes,
      writeFailures: options.counters?.writeFailures,
    });
  }

  /** The writer, for its counts. */
  get writer(): LastValueWriter {
    return this.#writer;
  }

  /** A payload published on this isolate: remember it and write it soon. */
  published(app: string, frame: string): void {
    const value = { frame, at: this.#now() };
    this.#remember(app, value);
    if (this.#watched.has(app)) this.#known.add(app);
    if (!this.#closed) this.#writer.put(app, value);
  }

  /** A payload another instance published; that instance writes it. */
  heard(app: string, frame: string): void {
    if (!this.#watched.has(app)) return;
    this.#remember(app, { frame, at: this.#now() });
    this.#known.add(app);
  }

  /** The hub now receives every frame of `app` from the bus. */
  watch(app: string): void {
    this.#watched.add(app);
  }

  /** The hub no longer receives `app`: its copy may go stale. */
  unwatch(app: string): void {
    this.#watched.delete(app);
    this.#known.delete(app);
  }

  /**
   * The bus may have missed frames of `apps` (it was cut off from them and
   * has subscribed again): their copies may be stale, so the next
   * subscriber reads the store. The local copy still takes part in that
   * read's merge, so a newer local publish is not lost.
   */
  forget(apps: Iterable<string>): void {
    for (const app of apps) this.#known.delete(app);
  }

  /** The app's last value when known without a read, else `undefined`. */
  peek(app: string): Known | undefined {
    if (!this.#known.has(app)) return undefined;
    return { frame: this.#fresh(app)?.frame };
  }

  /**
   * Read the app's last value from the store and merge it with the local
   * copy, the later publish winning. Resolves with the frame or
   * `undefined`; never rejects, and resolves `undefined` when the store
   * does not answer within the read timeout.
   */
  load(app: string): Promise<string | undefined> {
    const running = this.#loads.get(app);
    if (running) return running;

    const load = this.#load(app).finally(() => this.#loads.delete(app));
    this.#loads.set(app, load);
    return load;
  }

  /**
   * Write what is pending, then release the store. Waits at most
   * `closeWaitMs` for the writes and a little more for the store, so a
   * store that stops answering cannot hold a shutdown; what could not be
   * written is logged.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const flushed = await this.#within(this.#writer.flush(), this.#closeWaitMs);
    const unwritten = this.#writer.unwritten();
    if (unwritten.length > 0) {
      this.#log.warn("last values not written at shutdown", {
        count: unwritten.length,
        apps: unwritten.slice(0, LOGGED_APPS),
        why: flushed ? "write failed or timed out" : "store did not answer",
      });
    }
    const released = await this.#within(
      this.#store.close().catch(() => {}),
      STORE_CLOSE_WAIT_MS,
    );
    if (!released) this.#log.warn("store did not close in time");
  }

  /** Whether `work` settled within `ms`. */
  #within(work: Promise<void>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => resolve(false), ms);
      work.then(() => {
        this.#clock.clearTimeout(timer);
        resolve(true);
      });
    });
  }

  async #load(app: string): Promise<string | undefined> {
    const stored = await this.#read(app);
    // A frame that arrived meanwhile is newer than anything stored.
    if (this.#known.has(app)) return this.#fresh(app)?.frame;

    const local = this.#fresh(app);
    if (!stored || (local && local.at >= stored.at)) return local?.frame;
    this.#remember(app, stored);
    return stored.frame;
  }

  /** One store read, bounded in time, failures counted as "no value". */
  #read(app: string): Promise<LastValue | undefined> {
    this.#counters?.reads.inc();
    return new Promise((resolve) => {
      // The first of answer, failure and timeout settles the read.
      let settled = false;
      const settle = (value: LastValue | undefined, failure?: string) => {
        if (settled) return;
        settled = true;
        this.#clock.clearTimeout(timer);
        if (failure === undefined) this.#readFailing = false;
        else this.#readFailed(app, failure);
        resolve(value);
      };
      const timer = this.#clock.setTimeout(
        () => settle(undefined, "timed out"),
        this.#readTimeoutMs,
      );
      this.#store.get(app).then(
        (value) => settle(value),
        (error) => settle(undefined, String(error)),
      );
    });
  }

  #readFailed(app: string, why: string): void {
    this.#counters?.readFailures.inc();
    if (this.#readFailing) return this.#log.debug("read failed", { app, why });
    this.#readFailing = true;
    this.#log.warn("cannot read last values", { app, why });
  }

  /** The app's entry unless it has expired. */
  #fresh(app: string): LastValue | undefined {
    const value = this.#entries.get(app);
    if (!value || !expired(value, this.#ttlMs, this.#now())) return value;
    this.#entries.delete(app);
    return undefined;
  }

  #remember(app: string, value: LastValue): void {
    this.#entries.set(app, value);
  }
}
