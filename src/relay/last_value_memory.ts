/**
 * {@linkcode LastValueStore} in memory: the default for tests, and for one
 * isolate that needs no persistence.
 *
 * Promises: exactly the values set on this object, expired by the injected
 * clock. Nothing is shared with other isolates or survives a restart. At
 * most `maxEntries` apps are kept; past that the least recently written is
 * forgotten.
 *
 * @module
 */

import {
  expired,
  type LastValue,
  type LastValueStore,
  type StoreOptions,
} from "./last_value.ts";

/** Options of {@linkcode MemoryStore}. */
export interface MemoryStoreOptions extends StoreOptions {
  /** Most apps kept; 100 000 by default. */
  maxEntries?: number;
}

/** {@linkcode LastValueStore} in a `Map`. */
export class MemoryStore implements LastValueStore {
  readonly #values = new Map<string, LastValue>();
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #maxEntries: number;

  constructor(options: MemoryStoreOptions) {
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 100_000;
  }

  /** Apps currently held, expired ones included until next touched. */
  get size(): number {
    return this.#values.size;
  }

  get(app: string): Promise<LastValue | undefined> {
    const value = this.#values.get(app);
    if (value && expired(value, this.#ttlMs, this.#now())) {
      this.#values.delete(app);
      return Promise.resolve(undefined);
    }
    return Promise.resolve(value);
  }

  set(app: string, value: LastValue): Promise<void> {
    // Re-inserting keeps the map in order of last write, oldest first.
    this.#values.delete(app);
    this.#values.set(app, { ...value });
    if (this.#values.size > this.#maxEntries) {
      const oldest = this.#values.keys().next().value as string;
      this.#values.delete(oldest);
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#values.clear();
    return Promise.resolve();
  }
}
