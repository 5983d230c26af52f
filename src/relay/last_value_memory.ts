/**
 * {@linkcode LastValueStore} in memory: the default for tests, and for one
 * isolate that needs no persistence.
 *
 * Promises: exactly the values set on this object, expired by the injected
 * clock. Nothing is shared with other isolates or survives a restart. At
 * most `maxEntries` apps and `maxSize` of frame text are kept; past either
 * the least recently written app is forgotten.
 *
 * @module
 */

import { BoundedValues } from "./bounded_values.ts";
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
  /** Most frame text kept, in UTF-16 code units; 256 Mi by default. */
  maxSize?: number;
}

/** {@linkcode LastValueStore} in a `Map`. */
export class MemoryStore implements LastValueStore {
  readonly #values: BoundedValues;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: MemoryStoreOptions) {
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    this.#values = new BoundedValues({
      maxEntries: options.maxEntries ?? 100_000,
      maxSize: options.maxSize ?? 256 * 1024 * 1024,
    });
  }

  /** Apps currently held, expired ones included until next touched. */
  get size(): number {
    return this.#values.count;
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
    this.#values.set(app, { frame: value.frame, at: value.at });
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#values.clear();
    return Promise.resolve();
  }
}
