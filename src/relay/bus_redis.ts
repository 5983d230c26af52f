/**
 * {@linkcode Bus} over Redis pub/sub, for several relays on several machines
 * behind a load balancer. One Redis channel per app (`cupd:<app>`); an
 * instance subscribes to a channel only while it has local widgets for the
 * app.
 *
 * Redis delivers a message to every subscriber, the publisher's own
 * subscription included, so each message is prefixed with the publishing
 * instance's id and an instance drops its own messages.
 *
 * Promises: at most once to every other instance, in publishing order per
 * instance (one publishing connection, and Redis keeps its order). While
 * Redis is unreachable, publishes are dropped and counted rather than
 * queued, local fan-out goes on, and the connections retry with capped,
 * jittered backoff; on reconnection every channel is subscribed again.
 *
 * @module
 */

import { Redis } from "ioredis";
import type { Logger } from "../observe/log.ts";
import type { Bus, FrameHandler } from "./bus.ts";

/** Options of {@linkcode RedisBus}. */
export interface RedisBusOptions {
  log: Logger;
  /** Channel prefix, to share one Redis between deployments. */
  prefix?: string;
  /** Id of this instance; fixed length so it can be split off cheaply. */
  instance?: string;
}

/** Counters of a {@linkcode RedisBus}, for metrics and tests. */
export interface RedisBusStats {
  published: number;
  received: number;
  /** Publishes dropped because Redis was unreachable. */
  dropped: number;
}

const ID_LENGTH = 12;

/** Backoff between reconnection attempts: capped, with jitter. */
export function retryDelay(attempt: number): number {
  const base = Math.min(100 * 2 ** Math.min(attempt, 10), 5000);
  return Math.round(base / 2 + Math.random() * base / 2);
}

/** {@linkcode Bus} between relays sharing one Redis. */
export class RedisBus implements Bus {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #handlers = new Map<string, FrameHandler>();
  readonly #prefix: string;
  readonly #id: string;
  readonly #log: Logger;
  readonly stats: RedisBusStats = { published: 0, received: 0, dropped: 0 };
  #up = { pub: false, sub: false };

  constructor(url: string, options: RedisBusOptions) {
    this.#prefix = options.prefix ?? "cupd:";
    this.#id = (options.instance ?? crypto.randomUUID().replaceAll("-", ""))
      .padEnd(ID_LENGTH, "_").slice(0, ID_LENGTH);
    this.#log = options.log.child({ bus: "redis" });

    const common = {
      retryStrategy: retryDelay,
      maxRetriesPerRequest: null,
      lazyConnect: false,
    };
    // Publishing must fail fast while Redis is away: queueing would grow
    // without bound and deliver stale payloads late.
    this.#pub = new Redis(url, { ...common, enableOfflineQueue: false });
    this.#sub = new Redis(url, { ...common, autoResubscribe: false });

    this.#watch(this.#pub, "pub");
    this.#watch(this.#sub, "sub");
    this.#sub.on("ready", () => this.#resubscribe());
    this.#sub.on("message", (channel: string, message: string) => {
      this.#receive(channel, message);
    });
  }

  /** Whether both connections are ready. */
  get connected(): boolean {
    return this.#up.pub && this.#up.sub;
  }

  subscribe(app: string, onFrame: FrameHandler): void {
    const fresh = !this.#handlers.has(app);
    this.#handlers.set(app, onFrame);
    if (fresh && this.#up.sub) {
      this.#command(this.#sub.subscribe(this.#channel(app)));
    }
  }

  unsubscribe(app: string): void {
    if (!this.#handlers.delete(app)) return;
    if (this.#up.sub) this.#command(this.#sub.unsubscribe(this.#channel(app)));
  }

  publish(app: string, frame: string): void {
    if (!this.#up.pub) {
      this.stats.dropped++;
      return;
    }
    this.stats.published++;
    this.#pub.publish(this.#channel(app), this.#id + frame).catch(() => {
      this.stats.dropped++;
    });
  }

  async close(): Promise<void> {
    this.#handlers.clear();
    await Promise.allSettled([this.#pub.quit(), this.#sub.quit()]);
    this.#pub.disconnect();
    this.#sub.disconnect();
  }

  #channel(app: string): string {
    return this.#prefix + app;
  }

  #receive(channel: string, message: string): void {
    if (message.startsWith(this.#id)) return;
    const handler = this.#handlers.get(channel.slice(this.#prefix.length));
    if (!handler) return;
    this.stats.received++;
    handler(message.slice(ID_LENGTH));
  }

  /** Subscribe every app again after (re)connecting. */
  #resubscribe(): void {
    const channels = [...this.#handlers.keys()].map((a) => this.#channel(a));
    if (channels.length > 0) this.#command(this.#sub.subscribe(...channels));
  }

  #watch(client: Redis, role: "pub" | "sub"): void {
    client.on("ready", () => {
      if (!this.#up[role]) this.#log.info("redis connected", { role });
      this.#up[role] = true;
    });
    client.on("end", () => this.#down(role, "connection ended"));
    client.on("close", () => this.#down(role, "connection closed"));
    client.on("error", (error: Error) => this.#down(role, error.message));
  }

  /** Log an outage once per connection, not once per retry. */
  #down(role: "pub" | "sub", why: string): void {
    if (!this.#up[role]) return this.#log.debug("redis still down", { why });
    this.#up[role] = false;
    this.#log.warn("redis unreachable; retrying", { role, why });
  }

  #command(pending: Promise<unknown>): void {
    pending.catch((error: Error) => {
      this.#log.warn("redis command failed", { error: error.message });
    });
  }
}
