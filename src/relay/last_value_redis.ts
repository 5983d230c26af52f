/**
 * {@linkcode LastValueStore} in Redis, for several relays on several
 * machines: one string key per app (`cupd:last:<app>`) holding
 * `{"frame":…,"at":…}`, written with `SET … PX <ttl>` so Redis itself
 * expires it.
 *
 * Promises: a `get` sees every `set` that completed before it, from any
 * relay using the same Redis. While Redis is unreachable, a command waits
 * at most `readyWaitMs` for the connection, then fails instead of queueing
 * (a queued write would land stale, a queued read would hold a widget's
 * first frames), and the connection retries with capped, jittered backoff.
 * A Redis that stops answering without closing the connection (hung, or
 * cut off by the network) fails each command after `commandTimeoutMs`, and
 * the connection is replaced once it has been silent for
 * {@linkcode SOCKET_TIMEOUT_MS}; meanwhile at most `maxUnanswered`
 * commands wait for it and later ones fail at once, so nothing piles up.
 * `close` never waits more than {@linkcode QUIT_WAIT_MS}. Values live as
 * long as Redis keeps them: with persistence off, a Redis restart forgets
 * them.
 *
 * @module
 */

import { Redis } from "ioredis";
import type { Logger } from "../observe/log.ts";
import { retryDelay, SOCKET_TIMEOUT_MS } from "./redis_link.ts";
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
  /** Time a command waits for a connection being made; 1000 by default. */
  readyWaitMs?: number;
  /** Time a command waits for Redis's answer; 2000 by default. */
  commandTimeoutMs?: number;
  /** Most commands awaiting an answer at once; 1000 by default. */
  maxUnanswered?: number;
}

/** Time `close` waits for Redis to acknowledge before cutting. */
export const QUIT_WAIT_MS = 1000;

/** Message of a command refused because too many wait for Redis. */
export const NOT_ANSWERING = "redis is not answering";

/** {@linkcode LastValueStore} over one Redis connection. */
export class RedisStore implements LastValueStore {
  readonly #redis: Redis;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #readyWaitMs: number;
  readonly #maxUnanswered: number;
  #up = false;

  constructor(url: string, options: RedisStoreOptions) {
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    this.#prefix = options.prefix ?? "cupd:last:";
    this.#log = options.log.child({ store: "redis" });
    this.#readyWaitMs = options.readyWaitMs ?? 1000;
    this.#maxUnanswered = options.maxUnanswered ?? 1000;
    this.#redis = new Redis(url, {
      retryStrategy: retryDelay,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      // A write sent again after a reconnection could overwrite a newer
      // value another relay wrote meanwhile.
      autoResendUnfulfilledCommands: false,
      commandTimeout: options.commandTimeoutMs ?? 2000,
      socketTimeout: SOCKET_TIMEOUT_MS,
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
    await this.#ready();
    const text = await this.#send(() => this.#redis.get(this.#prefix + app));
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
    await this.#ready();
    if (this.#ttlMs === 0) {
      await this.#send(() => this.#redis.set(key, text));
      return;
    }
    const left = Math.max(1, value.at + this.#ttlMs - this.#now());
    await this.#send(() => this.#redis.set(key, text, "PX", left));
  }

  /** Ask Redis to close, waiting at most {@linkcode QUIT_WAIT_MS}. */
  async close(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cut = new Promise((resolve) => {
      timer = setTimeout(resolve, QUIT_WAIT_MS);
    });
    await Promise.race([this.#redis.quit().catch(() => {}), cut]);
    clearTimeout(timer);
    this.#redis.disconnect();
  }

  /** Run one command unless too many already wait for Redis's answer. */
  #send<T>(command: () => Promise<T>): Promise<T> {
    // Written and unanswered: a command that timed out stays there until
    // Redis answers it or the connection is replaced.
    if (this.#redis.commandQueue.length >= this.#maxUnanswered) {
      return Promise.reject(new Error(NOT_ANSWERING));
    }
    return command();
  }

  /**
   * Wait for the connection, briefly: right after start (or a reconnect)
   * commands would otherwise fail although Redis is about to answer.
   */
  #ready(): Promise<void> {
    if (this.#up) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const ready = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#redis.off("ready", ready);
        reject(new Error("redis is not connected"));
      }, this.#readyWaitMs);
      this.#redis.once("ready", ready);
    });
  }

  /** Log an outage once, not once per retry. */
  #down(why: string): void {
    if (!this.#up) return this.#log.debug("redis still down", { why });
    this.#up = false;
    this.#log.warn("redis unreachable; retrying", { role: "store", why });
  }
}
