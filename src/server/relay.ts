/**
 * One isolate's relay, assembled: hub, bus, open sockets and routes, with a
 * `fetch` handler for `Deno.serve` or `deno serve` and a graceful shutdown.
 *
 * @module
 */

import { createApp, withSocketRoute } from "../app.ts";
import { AuthPolicy } from "../auth/policy.ts";
import type { Config } from "../config.ts";
import { CloseCode } from "../protocol/codes.ts";
import type { Bus } from "../relay/bus.ts";
import { BroadcastBus } from "../relay/bus_broadcast.ts";
import { RedisBus } from "../relay/bus_redis.ts";
import { Hub } from "../relay/hub.ts";
import { Audience } from "../relay/audience.ts";
import { Census } from "../relay/census.ts";
import { type Clock, systemClock } from "../relay/clock.ts";
import type { PresenceChannel } from "../relay/presence.ts";
import { BroadcastPresence } from "../relay/presence_broadcast.ts";
import { RedisPresence } from "../relay/presence_redis.ts";
import type { RedisLinkStats } from "../relay/redis_link.ts";
import type { Logger } from "../observe/log.ts";
import type { LastValueStore } from "../relay/last_value.ts";
import type { LastValueCache } from "../relay/last_value_cache.ts";
import { createLastValues, createStore } from "./last_values.ts";
import { installProcessGuard } from "../observe/process_guard.ts";
import { RelayMetrics } from "../observe/relay_metrics.ts";
import { Admission } from "./admission.ts";
import { Deadlines } from "./deadlines.ts";
import { AppRates } from "./rate_limit.ts";
import { Connections } from "./socket.ts";

/** What {@linkcode createRelay} needs; the bus defaults to broadcast. */
export interface RelayOptions {
  config: Config;
  log: Logger;
  bus?: Bus;
  /** How isolates share widget counts; defaults as the bus does. */
  presence?: PresenceChannel;
  /**
   * Time for presence and audience frames, rate limits, the slow-consumer
   * rule and handshake deadlines; defaults to the system's.
   */
  clock?: Clock;
  /** Short id of this isolate, sent in `welcome`. */
  isolate?: string;
  /** Last-value store; defaults to the one `config.store` names. */
  store?: LastValueStore;
}

/** A running relay of one isolate. */
export interface Relay {
  readonly isolate: string;
  readonly hub: Hub;
  /** This isolate's last values; `undefined` when the store is `none`. */
  readonly lastValues: LastValueCache | undefined;
  /** Widget counts over every isolate. */
  readonly census: Census;
  readonly connections: Connections;
  /** Counters served at `GET /metrics`. */
  readonly metrics: RelayMetrics;
  /**
   * Counters of the Redis bus and presence channel (outages, reconnections,
   * messages), for metrics; `undefined` for whichever does not use Redis.
   */
  redisStats(): RedisStats;
  /**
   * Handle an HTTP request. `info` (as `Deno.serve` and `deno serve` pass
   * it) gives the client address for the per-address connection limit.
   */
  fetch(
    request: Request,
    info?: Deno.ServeHandlerInfo,
  ): Response | Promise<Response>;
  /** Close every socket with a "reconnect" code and release the bus. */
  shutdown(): Promise<void>;
}

/** What {@linkcode Relay.redisStats} reports. */
export interface RedisStats {
  bus?: RedisLinkStats;
  presence?: RedisLinkStats;
}

/** Assemble a relay. Nothing listens until its `fetch` is served. */
export function createRelay(options: RelayOptions): Relay {
  const { config } = options;
  const isolate = options.isolate ?? crypto.randomUUID().slice(0, 8);
  const log = options.log.child({ isolate });
  const bus = options.bus ?? createBus(config, log, isolate);
  const clock = options.clock ?? systemClock;
  const store = options.store ?? createStore(config, log);
  const metrics = new RelayMetrics();
  const lastValues = createLastValues(config, log, clock, store, metrics);
  // Frames published while the bus was cut off never arrive: the copies
  // of those apps may be stale, so the store is read again.
  if (bus instanceof RedisBus && lastValues) {
    bus.onResubscribe((apps) => lastValues.forget(apps));
  }
  const uninstallGuard = installProcessGuard(log, metrics.faults);
  const hub = new Hub(bus, {
    lastValues,
    metrics,
    onFault: (where, error) => log.error("fan-out failed", { where, error }),
  });
  const connections = new Connections();
  const auth = new AuthPolicy(config.authMode, config.apps);
  log.info("auth policy", { mode: auth.mode, apps: auth.size });
  const appRates = new AppRates(
    { messagesPerSecond: config.appRate, bytesPerSecond: config.appByteRate },
    config.maxFrameBytes,
    clock,
  );
  // Audience and census call each other; `census` below is only read
  // once a provider connects, long after both exist.
  const audience = new Audience(
    (app) => census.total(app),
    clock,
    config.audienceIntervalMs,
  );
  const presence = options.presence ?? createPresence(config, log);
  const census = new Census({
    isolate,
    clock,
    channel: presence,
    announceEveryMs: config.presenceIntervalMs,
    forgetAfterMs: config.presenceTtlMs,
    changeGapMs: config.audienceIntervalMs,
    onChange: (apps) => audience.changed(apps),
  });

  const appContext = {
    hub,
    census,
    audience,
    log,
    isolate,
    connections,
    auth,
    handshakes: new Deadlines(clock, config.handshakeTimeoutMs),
    idleTimeoutSeconds: Math.ceil(config.idleTimeoutMs / 1000),
    limits: {
      maxFrameBytes: config.maxFrameBytes,
      maxSubscriptions: config.maxSubscriptions,
      maxErrors: config.maxErrors,
    },
    metrics,
    clock,
    slowConsumer: {
      bytes: config.slowConsumerBytes,
      ms: config.slowConsumerMs,
    },
    providerRate: {
      messagesPerSecond: config.providerRate,
      bytesPerSecond: config.providerByteRate,
    },
    appRates,
    rateLimitStrikes: config.rateLimitStrikes,
    admission: new Admission(config),
    stopping: () => stopping !== undefined,
  };
  const fetch = withSocketRoute(createApp(appContext), appContext);

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    stopping ??= (async () => {
      log.info("shutting down", { connections: connections.size });
      await connections.closeAll(CloseCode.shuttingDown, "shutting_down");
      audience.close();
      await census.close();
      // After the sockets: no payload arrives that would miss the flush.
      await lastValues?.close();
      await bus.close();
      uninstallGuard();
    })();

  const redisStats = (): RedisStats => ({
    bus: bus instanceof RedisBus ? bus.stats() : undefined,
    presence: presence instanceof RedisPresence ? presence.stats() : undefined,
  });

  exposeRedis(metrics, redisStats);

  return {
    isolate,
    hub,
    lastValues,
    census,
    connections,
    metrics,
    redisStats,
    fetch,
    shutdown,
  };
}

/** Redis link counters in `/metrics`, by link (`bus`, `presence`). */
function exposeRedis(metrics: RelayMetrics, stats: () => RedisStats): void {
  const links = () =>
    Object.entries(stats()).filter(([, link]) => link !== undefined) as [
      string,
      RedisLinkStats,
    ][];
  const field = (key: keyof Omit<RedisLinkStats, "connected">) => () =>
    links().map(([name, link]): [string, number] => [name, link[key]]);
  const r = metrics.registry;
  r.counters(
    "cupd_redis_published_total",
    "Messages Redis accepted",
    "link",
    field("published"),
  );
  r.counters(
    "cupd_redis_received_total",
    "Messages received from other nodes",
    "link",
    field("received"),
  );
  r.counters(
    "cupd_redis_dropped_total",
    "Messages not published: Redis unreachable or failing",
    "link",
    field("dropped"),
  );
  r.counters(
    "cupd_redis_failures_total",
    "Times the link lost Redis",
    "link",
    field("failures"),
  );
  r.counters(
    "cupd_redis_reconnects_total",
    "Times the link was ready again after an outage",
    "link",
    field("reconnects"),
  );
  r.gauges(
    "cupd_redis_connected",
    "1 while the link's connections are ready",
    "link",
    () => links().map(([name, link]) => [name, link.connected ? 1 : 0]),
  );
}

/** Redis when configured, so several machines act as one; else broadcast. */
function createBus(config: Config, log: Logger, isolate: string): Bus {
  if (!config.redisUrl) return new BroadcastBus();
  return new RedisBus(config.redisUrl, { log, instance: isolate });
}

/** Presence goes where the bus goes, so audience counts span the same set. */
function createPresence(config: Config, log: Logger): PresenceChannel {
  if (!config.redisUrl) return new BroadcastPresence();
  return new RedisPresence(config.redisUrl, { log });
}
