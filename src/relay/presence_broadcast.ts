/**
 * {@linkcode PresenceChannel} over one `BroadcastChannel`: reaches the other
 * isolates of a `deno serve --parallel` process.
 *
 * Announcements travel as JSON text and are validated on receipt, since
 * anything in the process may post on the same channel name.
 *
 * Promises: at most once, in sending order per isolate, never back to the
 * sender (one channel object per relay, and `BroadcastChannel` skips the
 * posting object).
 *
 * @module
 */

import {
  type Announcement,
  type AnnouncementHandler,
  encodeAnnouncement,
  parseAnnouncement,
  type PresenceChannel,
} from "./presence.ts";

/** {@linkcode PresenceChannel} across isolates through `BroadcastChannel`. */
export class BroadcastPresence implements PresenceChannel {
  readonly #channel: BroadcastChannel;

  /**
   * `name` separates relays that share a process or platform. It must not
   * start with the bus prefix (`cupd:`), or an app could share its channel.
   */
  constructor(name = "cupd-presence") {
    this.#channel = new BroadcastChannel(name);
  }

  send(announcement: Announcement): void {
    this.#channel.postMessage(encodeAnnouncement(announcement));
  }

  listen(handler: AnnouncementHandler): void {
    this.#channel.onmessage = (event: MessageEvent) => {
      const announcement = parseAnnouncement(event.data);
      if (announcement) handler(announcement);
    };
  }

  close(): Promise<void> {
    this.#channel.close();
    return Promise.resolve();
  }
}
