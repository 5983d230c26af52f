/**
 * {@linkcode Bus} over `BroadcastChannel`: reaches the other isolates of a
 * `deno serve --parallel` process (and every instance on platforms that
 * share channels between instances).
 *
 * `BroadcastChannel` delivers a message to every *other* channel object of
 * the same name, including objects in the same isolate. This bus therefore
 * keeps exactly one object per app, used both to publish and to receive, so
 * no frame is delivered twice inside an isolate.
 *
 * Promises: at most once, in publishing order per isolate.
 *
 * @module
 */

import type { Bus, FrameHandler } from "./bus.ts";

/** Channel objects kept open only for publishing, oldest closed first. */
const MAX_IDLE_CHANNELS = 1024;

/** {@linkcode Bus} across isolates through `BroadcastChannel`. */
export class BroadcastBus implements Bus {
  readonly #prefix: string;
  readonly #channels = new Map<string, BroadcastChannel>();
  readonly #listening = new Set<string>();

  /** `prefix` separates relays that share a process or platform. */
  constructor(prefix = "cupd:") {
    this.#prefix = prefix;
  }

  subscribe(app: string, onFrame: FrameHandler): void {
    const channel = this.#channel(app);
    channel.onmessage = (event: MessageEvent) => {
      if (typeof event.data === "string") onFrame(event.data);
    };
    this.#listening.add(app);
  }

  unsubscribe(app: string): void {
    if (!this.#listening.delete(app)) return;
    this.#channels.get(app)?.close();
    this.#channels.delete(app);
  }

  publish(app: string, frame: string): void {
    this.#channel(app).postMessage(frame);
  }

  close(): Promise<void> {
    for (const channel of this.#channels.values()) channel.close();
    this.#channels.clear();
    this.#listening.clear();
    return Promise.resolve();
  }

  #channel(app: string): BroadcastChannel {
    const existing = this.#channels.get(app);
    if (existing) return existing;

    const channel = new BroadcastChannel(this.#prefix + app);
    this.#channels.set(app, channel);
    if (this.#channels.size > MAX_IDLE_CHANNELS) this.#evictIdle();
    return channel;
  }

  /** Close the oldest channel nobody listens on. */
  #evictIdle(): void {
    for (const [app, channel] of this.#channels) {
      if (this.#listening.has(app)) continue;
      channel.close();
      this.#channels.delete(app);
      return;
    }
  }
}
