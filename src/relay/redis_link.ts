/**
 * A publish/subscribe link to one Redis, shared in shape by the Redis bus and
 * the Redis presence channel: what both need from Redis, and how both live
 * through its outages.
 *
 * A link holds two connections, since a subscribed Redis connection can do
 * nothing else: one publishes, one subscribes. Every message is tagged with
 * the link's id and a link drops its own messages, because Redis delivers a
 * message to every subscriber, the publisher's own subscription included.
 *
 * While Redis is unreachable:
 * - `publish` neither throws nor waits nor queues: the message is dropped
 *   and counted (queueing would grow without bound and deliver stale values
 *   late);
 * - messages written just before the connection broke are never sent again,
 *   since Redis may have delivered them already;
 * - both connections retry with capped, jittered backoff
 *   ({@linkcode retryDelay});
 * - a Redis that stops answering without closing its connections (hung,
 *   or cut off by the network) counts as gone once a command or ping has
 *   waited {@linkcode SOCKET_TIMEOUT_MS};
 * - the outage is logged once (warn) when it starts and once (info) when
 *   Redis is back, never per message or per retry;
 * - when both connections are ready again, every channel is subscribed again,
 *   and `onResubscribe` is told which (their messages meanwhile are lost).
 *
 * Promises: a message reaches every other link subscribed to its channel at
 * most once, in publishing order per link (one publishing connection, and
 * Redis keeps its order). Messages published during an outage, or before a
 * receiver's subscription is in place, are lost.
 *
 * @module
 */

import { Redis } from "ioredis";
import type { Logger } from "../observe/log.ts";

/** Receives one message, its tag removed, published by another link. */
export type MessageHandler = (message: string) => void;

/** Counters of a {@linkcode RedisLink}, for metrics and tests. */
export interface RedisLinkStats {
  /** Messages Redis accepted from this link. */
  published: number;
  /** Messages from other links handed to a handler. */
  received: number;
  /** Messages not published because Redis was unreachable or failed. */
  dropped: number;
  /** Outages: times the link lost Redis, or could not reach it at start. */
  failures: number;
  /** Times both connections were ready again after an outage. */
  reconnects: number;
  /** Whether both connections are ready now. */
  connected: boolean;
}

/** Options of {@linkcode RedisLink}. */
export interface RedisLinkOptions {
  log: Logger;
  /** Tag of this link's messages; cut or padded to {@linkcode TAG_LENGTH}. */
  id?: string;
  /**
   * Told the channels the subscribing connection subscribes again once it
   * is ready after a disconnection (or for the first time, for channels
   * asked for before it was): messages published on them before that
   * were not received.
   */
  onResubscribe?: (channels: string[]) => void;
}

/** Length of the tag that starts every message on the wire. */
export const TAG_LENGTH = 12;

/** Publishes awaiting Redis's answer beyond which new ones are dropped. */
const MAX_IN_FLIGHT = 10_000;

/** Time `close` waits for Redis to acknowledge before cutting. */
const QUIT_WAIT_MS = 1000;

/** Time between two pings on each idle connection. */
export const HEARTBEAT_MS = 2000;

/**
 * Silence after a command after which a connection is taken for dead and
 * replaced. Without it a Redis that hangs, or a network that drops packets
 * without a reset, would look connected until TCP gives up, many minutes
 * later.
 */
export const SOCKET_TIMEOUT_MS = 5000;

/** Backoff between reconnection attempts: capped at 5 s, with jitter. */
export function retryDelay(attempt: number): number {
  const base = Math.min(100 * 2 ** Math.min(attempt, 10), 5000);
  return Math.round(base / 2 + Math.random() * base / 2);
}

type Role = "pub" | "sub";

/** Publish and subscribe through one Redis, surviving its outages. */
export class RedisLink {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #handlers = new Map<string, MessageHandler>();
  readonly #tag: string;
  readonly #log: Logger;
  readonly #onResubscribe: (channels: string[]) => void;
  readonly #ready = { pub: false, sub: false };
  /** The last error of each connection, logged when it closes. */
  readonly #why: Record<Role, string | undefined> = {
    pub: undefined,
    sub: undefined,
  };
  readonly #counts = {
    published: 0,
    received: 0,
    dropped: 0,
    failures: 0,
    reconnects: 0,
  };
  /** Publishes awaiting Redis's answer on the current connection. */
  #inFlight = 0;
  /** Which publishing connection this is, counting reconnections. */
  #connection = 0;
  #everUp = false;
  #outage: { since: number; dropped: number } | undefined;
  #closed = false;
  readonly #heartbeat: ReturnType<typeof setInterval>;

  constructor(url: string, options: RedisLinkOptions) {
    this.#tag = (options.id ?? crypto.randomUUID().replaceAll("-", ""))
      .padEnd(TAG_LENGTH, "_").slice(0, TAG_LENGTH);
    this.#log = options.log;
    this.#onResubscribe = options.onResubscribe ?? (() => {});

    const redisOptions = {
      retryStrategy: retryDelay,
      maxRetriesPerRequest: null,
      // Nothing waits for Redis: a hidden queue would grow without bound
      // and replay stale commands once Redis is back.
      enableOfflineQueue: false,
      // Redis may have delivered a message whose answer was lost with the
      // connection: sending it again could deliver it twice, and late.
      autoResendUnfulfilledCommands: false,
      // Subscriptions are restored by hand on reconnection, from the
      // handlers held then, not the ones held when Redis left.
      autoResubscribe: false,
      socketTimeout: SOCKET_TIMEOUT_MS,
    };
    this.#pub = new Redis(url, redisOptions);
    this.#sub = new Redis(url, redisOptions);

    this.#watch(this.#pub, "pub");
    this.#watch(this.#sub, "sub");
    this.#sub.on("message", (channel: string, message: string) => {
      this.#receive(channel, message);
    });
    // Pings give the socket timeout something to time on a quiet link.
    this.#heartbeat = setInterval(() => this.#ping(), HEARTBEAT_MS);
  }

  /** Whether both connections are ready. */
  get connected(): boolean {
    return this.#ready.pub && this.#ready.sub;
  }

  /** A snapshot of the counters. */
  stats(): RedisLinkStats {
    return { ...this.#counts, connected: this.connected };
  }

  /**
   * Hand `channel`'s messages from other links to `handler`, replacing any
   * earlier handler. Takes effect once Redis answers; while Redis is away,
   * once it is back.
   */
  subscribe(channel: string, handler: MessageHandler): void {
    if (this.#closed) return;
    const fresh = !this.#handlers.has(channel);
    this.#handlers.set(channel, handler);
    if (fresh && this.#ready.sub) this.#command(this.#sub.subscribe(channel));
  }

  /** Stop receiving `channel`. Unknown channels are ignored. */
  unsubscribe(channel: string): void {
    if (!this.#handlers.delete(channel)) return;
    if (this.#ready.sub) this.#command(this.#sub.unsubscribe(channel));
  }

  /**
   * Send `message` to the other links subscribed to `channel`. Never throws
   * or waits; returns whether the message was handed to Redis.
   */
  publish(channel: string, message: string): boolean {
    if (this.#closed || !this.#ready.pub || this.#inFlight >= MAX_IN_FLIGHT) {
      this.#drop();
      return false;
    }

    const connection = this.#connection;
    this.#inFlight++;
    this.#pub.publish(channel, this.#tag + message).then(
      () => this.#settle(connection, true),
      () => this.#settle(connection, false),
    );
    return true;
  }

  /**
   * Stop: messages already handed over are flushed to Redis when it
   * answers within a second, then both connections are closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers.clear();
    clearInterval(this.#heartbeat);

    let timer: ReturnType<typeof setTimeout> | undefined;
    const cut = new Promise((resolve) => {
      timer = setTimeout(resolve, QUIT_WAIT_MS);
    });
    const quit = Promise.allSettled([this.#pub.quit(), this.#sub.quit()]);
    await Promise.race([quit, cut]);
    clearTimeout(timer);
    this.#pub.disconnect();
    this.#sub.disconnect();
  }

  #receive(channel: string, message: string): void {
    if (message.length < TAG_LENGTH || message.startsWith(this.#tag)) return;
    const handler = this.#handlers.get(channel);
    if (!handler) return;
    this.#counts.received++;
    handler(message.slice(TAG_LENGTH));
  }

  #drop(count = 1): void {
    this.#counts.dropped += count;
    if (this.#outage) this.#outage.dropped += count;
  }

  /** Count a publish Redis answered, unless its connection was given up. */
  #settle(connection: number, ok: boolean): void {
    if (connection !== this.#connection) return;
    this.#inFlight--;
    if (ok) this.#counts.published++;
    else this.#drop();
  }

  /**
   * The publishing connection broke: publishes still unanswered are lost
   * (they are never sent again) and counted now, not when Redis returns.
   */
  #lostPublishes(): void {
    this.#connection++;
    this.#drop(this.#inFlight);
    this.#inFlight = 0;
  }

  #watch(client: Redis, role: Role): void {
    client.on("ready", () => this.#up(role));
    // An error alone does not end a connection (a failed command is
    // reported this way too); "close" always follows one that does, and
    // carries its reason into the log.
    client.on("error", (error: Error) => this.#why[role] = error.message);
    client.on("close", () => this.#down(role));
    client.on("end", () => this.#down(role));
  }

  #up(role: Role): void {
    this.#ready[role] = true;
    if (this.#closed) return;
    if (role === "sub") this.#resubscribe();
    if (!this.connected) return;

    const outage = this.#outage;
    this.#outage = undefined;
    if (!outage) {
      this.#log.info("redis connected");
    } else {
      if (this.#everUp) this.#counts.reconnects++;
      this.#log.info("redis reachable again", {
        downMs: Math.round(performance.now() - outage.since),
        dropped: outage.dropped,
      });
    }
    this.#everUp = true;
  }

  /** Start an outage, or note that it goes on. */
  #down(role: Role): void {
    const wasReady = this.#ready[role];
    const why = this.#why[role] ?? "connection closed";
    this.#ready[role] = false;
    this.#why[role] = undefined;
    if (this.#closed) return;

    if (this.#outage) {
      this.#log.debug("redis still down", { role, why });
    } else {
      this.#outage = { since: performance.now(), dropped: 0 };
      this.#counts.failures++;
      this.#log.warn("redis unreachable; retrying with backoff", { role, why });
    }
    if (role === "pub" && wasReady) this.#lostPublishes();
  }

  #ping(): void {
    if (this.#ready.pub) this.#command(this.#pub.ping());
    if (this.#ready.sub) this.#command(this.#sub.ping());
  }

  /** Subscribe every channel again: a reconnected connection has none. */
  #resubscribe(): void {
    const channels = [...this.#handlers.keys()];
    if (channels.length === 0) return;
    this.#command(this.#sub.subscribe(...channels));
    try {
      this.#onResubscribe(channels);
    } catch (error) {
      this.#log.error("resubscribe handler failed", { error: String(error) });
    }
  }

  #command(pending: Promise<unknown>): void {
    pending.catch((error: Error) => {
      // The outage that caused this is logged once already.
      this.#log.debug("redis command failed", { error: error.message });
    });
  }
}
