/**
 * {@linkcode Bus} in memory, for tests: several instances joined to one
 * {@linkcode MemoryNetwork} behave like isolates sharing a
 * `BroadcastChannel`, synchronously and without a runtime.
 *
 * Promises: exactly once to every other subscribed instance, in order, never
 * back to the publisher.
 *
 * @module
 */

import type { Bus, FrameHandler } from "./bus.ts";

/** What several {@linkcode MemoryBus} instances share. */
export class MemoryNetwork {
  readonly members = new Set<MemoryBus>();
  /** Every frame published, in order, for assertions. */
  readonly published: { app: string; frame: string }[] = [];
}

/** {@linkcode Bus} between instances of one {@linkcode MemoryNetwork}. */
export class MemoryBus implements Bus {
  readonly #network: MemoryNetwork;
  readonly #handlers = new Map<string, FrameHandler>();

  constructor(network: MemoryNetwork = new MemoryNetwork()) {
    this.#network = network;
    network.members.add(this);
  }

  /** Apps this instance currently receives. */
  get apps(): string[] {
    return [...this.#handlers.keys()];
  }

  subscribe(app: string, onFrame: FrameHandler): void {
    this.#handlers.set(app, onFrame);
  }

  unsubscribe(app: string): void {
    this.#handlers.delete(app);
  }

  publish(app: string, frame: string): void {
    this.#network.published.push({ app, frame });
    for (const member of this.#network.members) {
      if (member !== this) member.#handlers.get(app)?.(frame);
    }
  }

  close(): Promise<void> {
    this.#handlers.clear();
    this.#network.members.delete(this);
    return Promise.resolve();
  }
}
