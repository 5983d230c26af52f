/**
 * Provider rate limits: token buckets for messages and bytes per second,
 * one pair per provider connection and one pair per app (shared by every
 * provider of the app on this isolate and by HTTP publish).
 *
 * Time comes from a {@linkcode Clock}, so tests move it by hand.
 *
 * @module
 */

import type { Clock } from "../relay/clock.ts";
import type { DataVerdict } from "../protocol/session_types.ts";

/** A rate: messages and UTF-8 bytes per second; 0 means unlimited. */
export interface Rate {
  messagesPerSecond: number;
  bytesPerSecond: number;
}

/**
 * Tokens that refill at `perSecond` up to `capacity`. The capacity is the
 * burst a client may send at once after being quiet.
 */
class Bucket {
  readonly #perMs: number;
  readonly #capacity: number;
  #tokens: number;
  #at: number;

  constructor(perSecond: number, capacity: number, now: number) {
    this.#perMs = perSecond / 1000;
    this.#capacity = capacity;
    this.#tokens = capacity;
    this.#at = now;
  }

  /** Refill for the time since the last call; whether `n` tokens are there. */
  has(n: number, now: number): boolean {
    if (now > this.#at) {
      this.#tokens = Math.min(
        this.#capacity,
        this.#tokens + (now - this.#at) * this.#perMs,
      );
      this.#at = now;
    }
    return this.#tokens >= n;
  }

  take(n: number): void {
    this.#tokens -= n;
  }

  /** Whether the bucket is as full as a new one (so it can be forgotten). */
  full(now: number): boolean {
    return this.has(this.#capacity, now);
  }
}

/** A message bucket and a byte bucket, taken from together or not at all. */
export class RateLimit {
  readonly #messages?: Bucket;
  readonly #bytes?: Bucket;

  /**
   * `minBurstBytes` is the largest single message allowed (the frame size
   * limit), so a byte rate below it still lets such a message through.
   */
  constructor(rate: Rate, minBurstBytes: number, now: number) {
    const { messagesPerSecond: mps, bytesPerSecond: bps } = rate;
    if (mps > 0) this.#messages = new Bucket(mps, Math.max(1, mps), now);
    if (bps > 0) {
      this.#bytes = new Bucket(bps, Math.max(minBurstBytes, bps), now);
    }
  }

  /** Whether both buckets hold one message of `bytes` now. */
  allows(bytes: number, now: number): boolean {
    if (this.#messages && !this.#messages.has(1, now)) return false;
    return !this.#bytes || this.#bytes.has(bytes, now);
  }

  /** Take one message of `bytes`; call right after `allows` said yes. */
  take(bytes: number): void {
    this.#messages?.take(1);
    this.#bytes?.take(bytes);
  }

  /** Take one message of `bytes` if both buckets allow it. */
  admit(bytes: number, now: number): boolean {
    if (!this.allows(bytes, now)) return false;
    this.take(bytes);
    return true;
  }

  /** Whether this limit has fully refilled (is as good as a new one). */
  idle(now: number): boolean {
    return (this.#messages?.full(now) ?? true) &&
      (this.#bytes?.full(now) ?? true);
  }
}

/** Above this many app buckets, refilled ones are forgotten. */
const SWEEP_AT = 4096;

/** Per-app limits of one isolate. */
export class AppRates {
  readonly #rate: Rate;
  readonly #minBurstBytes: number;
  readonly #clock: Clock;
  readonly #apps = new Map<string, RateLimit>();
  readonly #unlimited: boolean;

  constructor(rate: Rate, minBurstBytes: number, clock: Clock) {
    this.#rate = rate;
    this.#minBurstBytes = minBurstBytes;
    this.#clock = clock;
    this.#unlimited = rate.messagesPerSecond <= 0 && rate.bytesPerSecond <= 0;
  }

  /** Take one message of `bytes` from `app`'s budget, if it allows. */
  admit(app: string, bytes: number): boolean {
    if (this.#unlimited) return true;
    const now = this.#clock.now();
    let limit = this.#apps.get(app);
    if (!limit) {
      if (this.#apps.size >= SWEEP_AT) this.#sweep(now);
      limit = new RateLimit(this.#rate, this.#minBurstBytes, now);
      this.#apps.set(app, limit);
    }
    return limit.admit(bytes, now);
  }

  /** Apps with a bucket (for tests). */
  get size(): number {
    return this.#apps.size;
  }

  #sweep(now: number): void {
    for (const [app, limit] of this.#apps) {
      if (limit.idle(now)) this.#apps.delete(app);
    }
  }
}

/** Time in which more than the allowed rate-limited frames close a socket. */
export const STRIKE_WINDOW_MS = 10_000;

/** What a provider connection's gate needs. */
export interface GateOptions {
  connection: Rate;
  apps: AppRates;
  /** Rate-limited frames tolerated per {@linkcode STRIKE_WINDOW_MS}. */
  strikes: number;
  /** Largest frame, so byte buckets can always hold one. */
  maxFrameBytes: number;
  clock: Clock;
}

/**
 * The rate limit of one provider connection: its own buckets, then its
 * app's. More than `strikes` refused frames in one window is abuse.
 */
export class ProviderGate {
  readonly #limit: RateLimit;
  readonly #options: GateOptions;
  #windowStart = -Infinity;
  #strikes = 0;

  constructor(options: GateOptions) {
    this.#options = options;
    this.#limit = new RateLimit(
      options.connection,
      options.maxFrameBytes,
      options.clock.now(),
    );
  }

  /** Judge one data frame of `bytes` (the whole frame, UTF-8) for `app`. */
  admit(app: string, bytes: number): DataVerdict {
    const { clock, apps } = this.#options;
    const now = clock.now();
    // The app's budget is spent only by frames the connection's allows.
    if (!this.#limit.allows(bytes, now)) return this.#strike(now);
    if (!apps.admit(app, bytes)) return this.#strike(now);
    this.#limit.take(bytes);
    return "ok";
  }

  #strike(now: number): DataVerdict {
    if (now - this.#windowStart >= STRIKE_WINDOW_MS) {
      this.#windowStart = now;
      this.#strikes = 0;
    }
    this.#strikes++;
    return this.#strikes > this.#options.strikes ? "abusive" : "limited";
  }
}
