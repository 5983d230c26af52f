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
 * current.
 *
 * @module
 */

import type { Logger } from "../observe/log.ts";
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
}

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

  /** Write what is pending, then release the store. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#writer.flush();
    await this.#store.close();
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
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => {
        this.#readFailed(app, "timed out");
        resolve(undefined);
      }, this.#readTimeoutMs);
      this.#store.get(app).then(
        (value) => {
          this.#readFailing = false;
          resolve(value);
        },
        (error) => {
          this.#readFailed(app, String(error));
          resolve(undefined);
        },
      ).finally(() => this.#clock.clearTimeout(timer));
    });
  }

  #readFailed(app: string, why: string): void {
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
