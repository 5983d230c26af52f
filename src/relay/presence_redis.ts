/**
 * {@linkcode PresenceChannel} over Redis pub/sub: reaches every isolate of
 * every relay node sharing one Redis, so audience counts are summed over
 * the whole deployment behind a load balancer.
 *
 * All members publish and listen on one channel (`cupd-presence` unless
 * told otherwise; the dash keeps it apart from the bus's `cupd:<app>`
 * channels, whatever an app is called). Announcements travel as JSON text,
 * tagged with the channel's id, and are validated on receipt: anything that
 * is not an announcement is ignored.
 *
 * Promises: at most once, in sending order per member, never back to the
 * sender (see `redis_link.ts`). While Redis is unreachable, `send` drops
 * announcements without throwing or waiting; the members on the other side
 * forget this one after `CUPD_PRESENCE_TTL_MS`, as they would a dead one.
 * When Redis is back the channel subscribes again and the next periodic
 * announcements restore every count.
 *
 * @module
 */

import type { Logger } from "../observe/log.ts";
import {
  type Announcement,
  type AnnouncementHandler,
  encodeAnnouncement,
  parseAnnouncement,
  type PresenceChannel,
} from "./presence.ts";
import { RedisLink, type RedisLinkStats } from "./redis_link.ts";

/** Options of {@linkcode RedisPresence}. */
export interface RedisPresenceOptions {
  log: Logger;
  /** Redis channel, to share one Redis between deployments. */
  channel?: string;
  /** Id tagging this member's messages so it can skip them. */
  instance?: string;
}

/** {@linkcode PresenceChannel} between relays sharing one Redis. */
export class RedisPresence implements PresenceChannel {
  readonly #link: RedisLink;
  readonly #channel: string;

  constructor(url: string, options: RedisPresenceOptions) {
    this.#channel = options.channel ?? "cupd-presence";
    this.#link = new RedisLink(url, {
      log: options.log.child({ redis: "presence" }),
      id: options.instance,
    });
  }

  /** Whether Redis is reachable now. */
  get connected(): boolean {
    return this.#link.connected;
  }

  /** A snapshot of the counters, for metrics. */
  stats(): RedisLinkStats {
    return this.#link.stats();
  }

  send(announcement: Announcement): void {
    this.#link.publish(this.#channel, encodeAnnouncement(announcement));
  }

  listen(handler: AnnouncementHandler): void {
    this.#link.subscribe(this.#channel, (message) => {
      const announcement = parseAnnouncement(message);
      if (announcement) handler(announcement);
    });
  }

  close(): Promise<void> {
    return this.#link.close();
  }
}
