/**
 * The last-value store the configuration asks for, and the isolate's cache
 * in front of it.
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { Logger } from "../observe/log.ts";
import type { RelayMetrics } from "../observe/relay_metrics.ts";
import type { Clock } from "../relay/clock.ts";
import type { LastValueStore } from "../relay/last_value.ts";
import { LastValueCache } from "../relay/last_value_cache.ts";
import { KvStore } from "../relay/last_value_kv.ts";
import { MemoryStore } from "../relay/last_value_memory.ts";
import { RedisStore } from "../relay/last_value_redis.ts";

/** The store named by `CUPD_STORE`; `undefined` for `none`. */
export function createStore(
  config: Config,
  log: Logger,
): LastValueStore | undefined {
  const ttlMs = config.lastValueTtlMs;
  switch (config.store) {
    case "none":
      return undefined;
    case "memory":
      return new MemoryStore({ ttlMs });
    case "kv":
      return new KvStore({ ttlMs, log, path: config.kvPath || undefined });
    case "redis":
      // loadConfig refuses `redis` without REDIS_URL.
      return new RedisStore(config.redisUrl!, { ttlMs, log });
  }
}

/**
 * The cache over `store`, or none when nothing is retained. Its store
 * reads and writes are counted in `metrics`.
 */
export function createLastValues(
  config: Config,
  log: Logger,
  clock: Clock,
  store: LastValueStore | undefined,
  metrics: RelayMetrics,
): LastValueCache | undefined {
  if (!store) return undefined;
  log.info("last values", {
    store: config.store,
    ttlMs: config.lastValueTtlMs,
    flushMs: config.lastValueFlushMs,
  });
  return new LastValueCache({
    store,
    clock,
    ttlMs: config.lastValueTtlMs,
    flushMs: config.lastValueFlushMs,
    log,
    counters: {
      writes: metrics.lastValueWrites,
      writeFailures: metrics.lastValueWriteFailures,
      reads: metrics.lastValueReads,
      readFailures: metrics.lastValueReadFailures,
    },
  });
}
