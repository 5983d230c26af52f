/**
 * {@linkcode Bus} over Redis pub/sub, for several relays on several machines
 * behind a load balancer. One Redis channel per app (`cupd:<app>`); an
 * instance subscribes to a channel only while it has local widgets for the
 * app.
 *
 * Promises: at most once to every other instance, in publishing order per
 * instance, never back to the publisher (see `redis_link.ts`). While Redis
 * is unreachable, frames for other nodes are dropped and counted rather
 * than queued, local fan-out goes on untouched, the outage is logged once,
 * and the connections retry with capped, jittered backoff; when Redis is
 * back every app with local widgets is subscribed again, and the handler
 * given to {@linkcode RedisBus.onResubscribe} is told which apps may have
 * missed frames.
 *
 * Redis is trusted: anything published on `cupd:<app>` reaches the app's
 * widgets, so it must not be reachable by untrusted clients.
 *
 * @module
 */

import type { Logger } from "../observe/log.ts";
import type { Bus, FrameHandler } from "./bus.ts";
import { RedisLink, type RedisLinkStats } from "./redis_link.ts";

export { retryDelay } from "./redis_link.ts";

/** Options of {@linkcode RedisBus}. */
export interface RedisBusOptions {
  log: Logger;
  /** Channel prefix, to share one Redis between deployments. */
  prefix?: string;
  /** Id of this instance, tagging its frames so it can skip them. */
  instance?: string;
}

/** Counters of a {@linkcode RedisBus}: frames, outages, reconnections. */
export type RedisBusStats = RedisLinkStats;

/** {@linkcode Bus} between relays sharing one Redis. */
export class RedisBus implements Bus {
  readonly #link: RedisLink;
  readonly #prefix: string;
  #onResubscribe: (apps: string[]) => void = () => {};

  constructor(url: string, options: RedisBusOptions) {
    this.#prefix = options.prefix ?? "cupd:";
    this.#link = new RedisLink(url, {
      log: options.log.child({ redis: "bus" }),
      id: options.instance,
      onResubscribe: (channels) =>
        this.#onResubscribe(
          channels.map((channel) => channel.slice(this.#prefix.length)),
        ),
    });
  }

  /**
   * Tell `handler` the apps subscribed again after the bus was cut off
   * from them (or subscribed before Redis first answered): frames other
   * instances published for them meanwhile were missed. Replaces any
   * earlier handler.
   */
  onResubscribe(handler: (apps: string[]) => void): void {
    this.#onResubscribe = handler;
  }

  /** Whether Redis is reachable now. */
  get connected(): boolean {
    return this.#link.connected;
  }

  /** A snapshot of the counters, for metrics. */
  stats(): RedisBusStats {
    return this.#link.stats();
  }

  subscribe(app: string, onFrame: FrameHandler): void {
    this.#link.subscribe(this.#prefix + app, onFrame);
  }

  unsubscribe(app: string): void {
    this.#link.unsubscribe(this.#prefix + app);
  }

  publish(app: string, frame: string): void {
    this.#link.publish(this.#prefix + app, frame);
  }

  close(): Promise<void> {
    return this.#link.close();
  }
}
