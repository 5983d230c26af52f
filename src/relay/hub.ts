/**
 * The hub of one isolate: which local widgets watch which app, and the one
 * place payloads are serialized.
 *
 * A payload published here is serialized once, sent as the same string to
 * every local widget, then handed to the bus for the other isolates. Frames
 * arriving from the bus go to local widgets only, so each widget gets each
 * payload exactly once whichever isolate its provider is on.
 *
 * With a {@linkcode LastValueCache}, every payload also becomes its app's
 * last value, and {@linkcode Hub.replay} gives it to a new subscriber first.
 * When the value must be read from the store, the hub holds that widget's
 * live frames until the read settles, and drops the read value if a live
 * frame came meanwhile: a widget never sees a retained value older than a
 * live one, nor a payload twice.
 *
 * @module
 */

import { encodeData } from "../protocol/messages.ts";
import { RelayMetrics, utf8Length } from "../observe/relay_metrics.ts";
import type { Bus } from "./bus.ts";
import { retainedFrame } from "./last_value.ts";
import type { LastValueCache } from "./last_value_cache.ts";

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

/** What a hub keeps and reports to. */
export interface HubOptions {
  /** Last values to keep and replay; without it nothing is retained. */
  lastValues?: LastValueCache;
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
  readonly #lastValues: LastValueCache | undefined;
  readonly #apps = new Map<string, Set<Sink>>();
  /** Live frames held per app and widget while its last value is read. */
  readonly #holds = new Map<string, Map<Sink, string[]>>();
  readonly #metrics: RelayMetrics;
  readonly #onFault: (where: "sink" | "bus", error: unknown) => void;

  constructor(bus: Bus, options: HubOptions = {}) {
    this.#bus = bus;
    this.#lastValues = options.lastValues;
    this.#metrics = options.metrics ?? new RelayMetrics();
    this.#onFault = options.onFault ?? (() => {});
  }

  /** Add a widget to an app. Idempotent. */
  subscribe(app: string, sink: Sink): void {
    let sinks = this.#apps.get(app);
    if (!sinks) {
      sinks = new Set();
      this.#apps.set(app, sinks);
      this.#lastValues?.watch(app);
      this.#bus.subscribe(app, (frame) => this.#fromBus(app, frame));
    }
    sinks.add(sink);
  }

  /** Remove a widget from an app. Idempotent. */
  unsubscribe(app: string, sink: Sink): void {
    const sinks = this.#apps.get(app);
    if (!sinks?.delete(sink)) return;
    this.#unhold(app, sink);
    if (sinks.size > 0) return;

    this.#apps.delete(app);
    this.#lastValues?.unwatch(app);
    this.#bus.unsubscribe(app);
  }

  /**
   * Send the app's last value, marked `"retained":true`, to a widget that
   * has just subscribed, before any live frame. Call it right after the
   * subscription is acknowledged. Does nothing without a last value, or
   * when the widget is not subscribed.
   */
  replay(app: string, sink: Sink): void {
    const values = this.#lastValues;
    if (!values || !this.#apps.get(app)?.has(sink)) return;

    const known = values.peek(app);
    if (known) {
      if (known.frame !== undefined) this.#retain(sink, known.frame);
      return;
    }

    const held: string[] = [];
    let holds = this.#holds.get(app);
    if (!holds) this.#holds.set(app, holds = new Map());
    holds.set(sink, held);
    values.load(app).then((frame) => this.#release(app, sink, held, frame));
  }

  /**
   * Publish a provider's payload: serialize it once, deliver it locally and
   * hand the same string to the bus. Returns the number of local widgets.
   */
  publish(app: string, data: unknown): number {
    const frame = encodeData(app, data);
    this.#metrics.published.value++;
    this.#lastValues?.published(app, frame);
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
      this.#lastValues?.heard(app, frame);
      this.#deliver(app, frame);
    } catch (error) {
      this.#fault("bus", error);
    }
  }

  #deliver(app: string, frame: string): number {
    const sinks = this.#apps.get(app);
    if (!sinks) return 0;

    // Taken before sending: a sink may leave the set while it sends.
    const count = sinks.size;
    const holds = this.#holds.get(app);
    let sent = count;
    for (const sink of sinks) {
      const held = holds?.get(sink);
      if (!held) {
        this.#send(sink, frame);
        continue;
      }
      // Counted when released: the widget may leave before that.
      held.push(frame);
      sent--;
    }
    this.#count(sent, sent === 0 ? 0 : utf8Length(frame));
    return count;
  }

  /** Count `frames` frames of `bytes` bytes each as delivered. */
  #count(frames: number, bytes: number): void {
    const metrics = this.#metrics;
    metrics.delivered.value += frames;
    metrics.framesOut.value += frames;
    metrics.bytesOut.value += frames * bytes;
  }

  /** Send one last value to one widget, counted like a delivery. */
  #retain(sink: Sink, frame: string): void {
    const retained = retainedFrame(frame);
    this.#count(1, utf8Length(retained));
    this.#send(sink, retained);
  }

  #send(sink: Sink, frame: string): void {
    try {
      sink.send(frame);
    } catch (error) {
      this.#fault("sink", error);
    }
  }

  /** The read for `held` settled: send the value unless a live one won. */
  #release(
    app: string,
    sink: Sink,
    held: string[],
    frame: string | undefined,
  ): void {
    // Unsubscribed (and maybe subscribed again) meanwhile: not ours.
    if (this.#holds.get(app)?.get(sink) !== held) return;
    this.#unhold(app, sink);

    if (held.length === 0 && frame !== undefined) this.#retain(sink, frame);
    for (const live of held) {
      this.#count(1, utf8Length(live));
      this.#send(sink, live);
    }
  }

  #unhold(app: string, sink: Sink): void {
    const holds = this.#holds.get(app);
    if (!holds?.delete(sink) || holds.size > 0) return;
    this.#holds.delete(app);
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
