/**
 * {@linkcode LastValueStore} in Redis, for several relays on several
 * machines: one string key per app (`cupd:last:<app>`) holding
 * `{"frame":…,"at":…}`, written with `SET … PX <ttl>` so Redis itself
 * expires it.
 *
 * Promises: a `get` sees every `set` that completed before it, from any
 * relay using the same Redis. While Redis is unreachable, commands fail at
 * once instead of queueing (a queued write would land stale, a queued read
 * would hold a widget's first frames), and the connection retries with
 * capped, jittered backoff. Values live as long as Redis keeps them: with
 * persistence off, a Redis restart forgets them.
 *
 * @module
 */

import { Redis } from "ioredis";
import type { Logger } from "../observe/log.ts";
import { retryDelay } from "./bus_redis.ts";
import {
  expired,
  isLastValue,
  type LastValue,
  type LastValueStore,
  type StoreOptions,
} from "./last_value.ts";

/** Options of {@linkcode RedisStore}. */
export interface RedisStoreOptions extends StoreOptions {
  log: Logger;
  /** Key prefix, to share one Redis between deployments. */
  prefix?: string;
}

/** {@linkcode LastValueStore} over one Redis connection. */
export class RedisStore implements LastValueStore {
  readonly #redis: Redis;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #prefix: string;
  readonly #log: Logger;
  #up = false;

  constructor(url: string, options: RedisStoreOptions) {
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    this.#prefix = options.prefix ?? "cupd:last:";
    this.#log = options.log.child({ store: "redis" });
    this.#redis = new Redis(url, {
      retryStrategy: retryDelay,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      // A flush writes many apps in one tick: one round trip for all.
      enableAutoPipelining: true,
    });
    this.#redis.on("ready", () => {
      this.#up = true;
      this.#log.info("redis connected", { role: "store" });
    });
    this.#redis.on("error", (error: Error) => this.#down(error.message));
    this.#redis.on("close", () => this.#down("connection closed"));
  }

  async get(app: string): Promise<LastValue | undefined> {
    const text = await this.#redis.get(this.#prefix + app);
    if (text === null) return undefined;

    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (!isLastValue(value)) return undefined;
    if (expired(value, this.#ttlMs, this.#now())) return undefined;
    return { frame: value.frame, at: value.at };
  }

  async set(app: string, value: LastValue): Promise<void> {
    const key = this.#prefix + app;
    const text = JSON.stringify({ frame: value.frame, at: value.at });
    if (this.#ttlMs === 0) {
      await this.#redis.set(key, text);
      return;
    }
    const left = Math.max(1, value.at + this.#ttlMs - this.#now());
    await this.#redis.set(key, text, "PX", left);
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => {});
    this.#redis.disconnect();
  }

  /** Log an outage once, not once per retry. */
  #down(why: string): void {
    if (!this.#up) return this.#log.debug("redis still down", { why });
    this.#up = false;
    this.#log.warn("redis unreachable; retrying", { role: "store", why });
  }
}
