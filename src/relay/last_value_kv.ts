/**
 * {@linkcode LastValueStore} in Deno KV: the embedded default. With a path
 * it is a local SQLite file, which every isolate of a
 * `deno serve --parallel` process (and every later run) opens and shares;
 * without one, `Deno.openKv()` chooses: on Deno Deploy that is the
 * platform's KV, shared by every instance of the app.
 *
 * One key per app (`[...prefix, app]`) holding `{ frame, at }`, written with
 * `expireIn`. KV deletes expired keys lazily, so `get` also checks `at`
 * itself and never returns an expired value.
 *
 * Promises: a `get` sees every `set` that completed before it, on any
 * isolate sharing the database (KV writes are durable and strongly
 * consistent). A KV value is limited to 64 KiB: a payload too large for it
 * is not kept, and the key is deleted so no older value stands in for it.
 *
 * @module
 */

import type { Logger } from "../observe/log.ts";
import {
  expired,
  isLastValue,
  type LastValue,
  type LastValueStore,
  type StoreOptions,
} from "./last_value.ts";

/** Options of {@linkcode KvStore}. */
export interface KvStoreOptions extends StoreOptions {
  log: Logger;
  /** Path of the database file; `undefined` takes `Deno.openKv()`'s. */
  path?: string;
  /** First parts of every key, to share one database with other data. */
  prefix?: Deno.KvKeyPart[];
}

/** {@linkcode LastValueStore} over `Deno.openKv`. */
export class KvStore implements LastValueStore {
  readonly #kv: Promise<Deno.Kv>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #prefix: Deno.KvKeyPart[];
  readonly #log: Logger;

  /** Opens the database at once; failures surface on first use. */
  constructor(options: KvStoreOptions) {
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    this.#prefix = options.prefix ?? ["cupd", "last_value"];
    this.#log = options.log.child({ store: "kv" });
    this.#kv = Deno.openKv(options.path);
    // Handled here so a failed open is logged once, not left unhandled;
    // every later call still rejects with it.
    this.#kv.catch((error) => {
      this.#log.error("cannot open Deno KV", {
        path: options.path ?? "(default)",
        error: String(error),
      });
    });
  }

  async get(app: string): Promise<LastValue | undefined> {
    const kv = await this.#kv;
    const entry = await kv.get(this.#key(app));
    if (!isLastValue(entry.value)) return undefined;
    if (expired(entry.value, this.#ttlMs, this.#now())) return undefined;
    return { frame: entry.value.frame, at: entry.value.at };
  }

  async set(app: string, value: LastValue): Promise<void> {
    const kv = await this.#kv;
    const key = this.#key(app);
    const options = this.#ttlMs > 0
      ? { expireIn: Math.max(1, value.at + this.#ttlMs - this.#now()) }
      : undefined;
    try {
      await kv.set(key, { frame: value.frame, at: value.at }, options);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      // KV refuses values over its size limit with a TypeError. An older,
      // smaller value must not stand in for this one.
      this.#log.debug("last value too large for KV", { app });
      await kv.delete(key);
    }
  }

  async close(): Promise<void> {
    try {
      (await this.#kv).close();
    } catch {
      // Never opened: nothing to release.
    }
  }

  #key(app: string): Deno.KvKey {
    return [...this.#prefix, app];
  }
}
