/**
 * {@linkcode PresenceChannel} in memory, for tests: channels joined to one
 * {@linkcode MemoryPresenceNetwork} behave like isolates sharing a
 * `BroadcastChannel`, synchronously and without a runtime.
 *
 * Promises: exactly once to every other member, in order, never back to the
 * sender. A member can be cut off to play an isolate that died silently.
 *
 * @module
 */

import type {
  Announcement,
  AnnouncementHandler,
  PresenceChannel,
} from "./presence.ts";

/** What several {@linkcode MemoryPresence} channels share. */
export class MemoryPresenceNetwork {
  readonly members = new Set<MemoryPresence>();
}

/** {@linkcode PresenceChannel} between members of one network. */
export class MemoryPresence implements PresenceChannel {
  readonly #network: MemoryPresenceNetwork;
  #handler: AnnouncementHandler | undefined;
  /** Announcements this member sent, in order, for assertions. */
  readonly sent: Announcement[] = [];

  constructor(network: MemoryPresenceNetwork = new MemoryPresenceNetwork()) {
    this.#network = network;
    network.members.add(this);
  }

  send(announcement: Announcement): void {
    if (!this.#network.members.has(this)) return;
    this.sent.push(announcement);
    // Copy, as a real transport would: receivers must not share objects.
    const copy = structuredClone(announcement);
    for (const member of this.#network.members) {
      if (member !== this) member.#handler?.(copy);
    }
  }

  listen(handler: AnnouncementHandler): void {
    this.#handler = handler;
  }

  /** Leave the network without a word, as a crashed isolate would. */
  cut(): void {
    this.#network.members.delete(this);
  }

  close(): Promise<void> {
    this.#handler = undefined;
    this.cut();
    return Promise.resolve();
  }
}
