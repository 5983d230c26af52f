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
import { RelayMetrics, utf8Length } from "../observe/relay_metrics.ts";
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

/** What a hub reports to. */
export interface HubOptions {
  /** Payload, fan-out and bus counters; a private set by default. */
  metrics?: RelayMetrics;
  /**
   * Told when a sink or a bus frame handler throws. The hub goes on with
   * the other widgets either way.
   */
  onFault?: (where: "sink" | "bus", error: unknown) => void;
}

/** Local fan-out for one isolate, joined to the others through a bus. */
export class Hub {
  readonly #bus: Bus;
  readonly #apps = new Map<string, Set<Sink>>();
  readonly #metrics: RelayMetrics;
  readonly #onFault: (where: "sink" | "bus", error: unknown) => void;

  constructor(bus: Bus, options: HubOptions = {}) {
    this.#bus = bus;
    this.#metrics = options.metrics ?? new RelayMetrics();
    this.#onFault = options.onFault ?? (() => {});
  }

  /** Add a widget to an app. Idempotent. */
  subscribe(app: string, sink: Sink): void {
    let sinks = this.#apps.get(app);
    if (!sinks) {
      sinks = new Set();
      this.#apps.set(app, sinks);
      this.#bus.subscribe(app, (frame) => this.#fromBus(app, frame));
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
    this.#metrics.published.value++;
    const delivered = this.#deliver(app, frame);
    this.#metrics.busOut.value++;
    try {
      this.#bus.publish(app, frame);
    } catch (error) {
      this.#fault("bus", error);
    }
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

  #fromBus(app: string, frame: string): void {
    this.#metrics.busIn.value++;
    try {
      this.#deliver(app, frame);
    } catch (error) {
      this.#fault("bus", error);
    }
  }

  #deliver(app: string, frame: string): number {
    const sinks = this.#apps.get(app);
    if (!sinks) return 0;

    // Counted before sending: a sink may leave the set while it sends.
    const count = sinks.size;
    const metrics = this.#metrics;
    metrics.delivered.value += count;
    metrics.framesOut.value += count;
    metrics.bytesOut.value += count * utf8Length(frame);
    for (const sink of sinks) {
      try {
        sink.send(frame);
      } catch (error) {
        this.#fault("sink", error);
      }
    }
    return count;
  }

  #fault(where: "sink" | "bus", error: unknown): void {
    this.#metrics.faults.get(where).value++;
    try {
      this.#onFault(where, error);
    } catch {
      // A failing fault report must not stop the fan-out either.
    }
  }
}
