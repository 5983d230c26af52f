/**
 * One isolate's relay, assembled: hub, bus, open sockets and routes, with a
 * `fetch` handler for `Deno.serve` or `deno serve` and a graceful shutdown.
 *
 * @module
 */

import { createApp } from "../app.ts";
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
import type { Logger } from "../observe/log.ts";
import type { LastValueStore } from "../relay/last_value.ts";
import type { LastValueCache } from "../relay/last_value_cache.ts";
import { createLastValues, createStore } from "./last_values.ts";
import { Connections } from "./socket.ts";

/** What {@linkcode createRelay} needs; the bus defaults to broadcast. */
export interface RelayOptions {
  config: Config;
  log: Logger;
  bus?: Bus;
  /** How isolates share widget counts; defaults to broadcast. */
  presence?: PresenceChannel;
  /** Time for presence and audience frames; defaults to the system's. */
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
  /** Handle an HTTP request. */
  fetch(request: Request): Response | Promise<Response>;
  /** Close every socket with a "reconnect" code and release the bus. */
  shutdown(): Promise<void>;
}

/** Assemble a relay. Nothing listens until its `fetch` is served. */
export function createRelay(options: RelayOptions): Relay {
  const { config } = options;
  const isolate = options.isolate ?? crypto.randomUUID().slice(0, 8);
  const log = options.log.child({ isolate });
  const bus = options.bus ?? createBus(config, log, isolate);
  const clock = options.clock ?? systemClock;
  const store = options.store ?? createStore(config, log);
  const lastValues = createLastValues(config, log, clock, store);
  const hub = new Hub(bus, lastValues);
  const connections = new Connections();
  const auth = new AuthPolicy(config.authMode, config.apps);
  log.info("auth policy", { mode: auth.mode, apps: auth.size });
  // Audience and census call each other; `census` below is only read
  // once a provider connects, long after both exist.
  const audience = new Audience(
    (app) => census.total(app),
    clock,
    config.audienceIntervalMs,
  );
  const census = new Census({
    isolate,
    clock,
    channel: options.presence ?? new BroadcastPresence(),
    announceEveryMs: config.presenceIntervalMs,
    forgetAfterMs: config.presenceTtlMs,
    changeGapMs: config.audienceIntervalMs,
    onChange: (apps) => audience.changed(apps),
  });

  const app = createApp({
    hub,
    census,
    audience,
    log,
    isolate,
    connections,
    auth,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    idleTimeoutSeconds: Math.ceil(config.idleTimeoutMs / 1000),
    limits: {
      maxFrameBytes: config.maxFrameBytes,
      maxSubscriptions: config.maxSubscriptions,
      maxErrors: config.maxErrors,
    },
  });

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
    })();

  return {
    isolate,
    hub,
    lastValues,
    census,
    connections,
    fetch: app.fetch,
    shutdown,
  };
}

/** Redis when configured, so several machines act as one; else broadcast. */
function createBus(config: Config, log: Logger, isolate: string): Bus {
  if (!config.redisUrl) return new BroadcastBus();
  return new RedisBus(config.redisUrl, { log, instance: isolate });
}
