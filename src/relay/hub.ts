/**
 * The hub of one isolate: which local widgets watch which app, and the one
 * place payloads are serialized.
 *
 * A payload published here is serialized once, sent as the same string to
 * every local widget, then handed to the bus for the other isolates. Frames
 * arriving from the bus go to local widgets only, so each widget gets each
 * payload exactly once whichever isolate its provider is on.
 *
 * @module
 */

import { encodeData } from "../protocol/messages.ts";
import type { Bus } from "./bus.ts";

/** Where the hub sends frames for one widget socket. */
export interface Sink {
  /** Send one text frame. Must not throw. */
  send(frame: string): void;
}

/** Counts for health checks and tests. */
export interface HubStats {
  /** Apps with at least one local widget. */
  apps: number;
  /** Subscriptions held by local widgets, over all apps. */
  subscriptions: number;
}

/** Local fan-out for one isolate, joined to the others through a bus. */
export class Hub {
  readonly #bus: Bus;
  readonly #apps = new Map<string, Set<Sink>>();

  constructor(bus: Bus) {
    this.#bus = bus;
  }

  /** Add a widget to an app. Idempotent. */
  subscribe(app: string, sink: Sink): void {
    let sinks = this.#apps.get(app);
    if (!sinks) {
      sinks = new Set();
      this.#apps.set(app, sinks);
      this.#bus.subscribe(app, (frame) => this.#deliver(app, frame));
    }
    sinks.add(sink);
  }

  /** Remove a widget from an app. Idempotent. */
  unsubscribe(app: string, sink: Sink): void {
    const sinks = this.#apps.get(app);
    if (!sinks?.delete(sink) || sinks.size > 0) return;

    this.#apps.delete(app);
    this.#bus.unsubscribe(app);
  }

  /**
   * Publish a provider's payload: serialize it once, deliver it locally and
   * hand the same string to the bus. Returns the number of local widgets.
   */
  publish(app: string, data: unknown): number {
    const frame = encodeData(app, data);
    const delivered = this.#deliver(app, frame);
    this.#bus.publish(app, frame);
    return delivered;
  }

  /** Local widgets of an app. */
  widgets(app: string): number {
    return this.#apps.get(app)?.size ?? 0;
  }

  /** Current counts. */
  stats(): HubStats {
    let subscriptions = 0;
    for (const sinks of this.#apps.values()) subscriptions += sinks.size;
    return { apps: this.#apps.size, subscriptions };
  }

  #deliver(app: string, frame: string): number {
    const sinks = this.#apps.get(app);
    if (!sinks) return 0;
    for (const sink of sinks) sink.send(frame);
    return sinks.size;
  }
}
