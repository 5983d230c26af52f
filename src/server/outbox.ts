/**
 * The sending side of one socket, and the slow-consumer rule: a socket
 * whose send buffer stays over a limit is closed, so a widget that does
 * not read never holds back the others or fills the relay's memory.
 *
 * `WebSocket.send` never blocks: it queues. The queue's size is
 * `bufferedAmount`, read on every eighth send (reading it costs more than
 * the rest of the check) and on every send while a socket is suspect.
 *
 * @module
 */

import type { Counter } from "../observe/metrics.ts";
import type { Clock, TimerId } from "../relay/clock.ts";
import type { Sink } from "../relay/hub.ts";

/** When a socket counts as a slow consumer. */
export interface SlowPolicy {
  /** Send buffer size, in bytes, over which a socket is suspect. */
  bytes: number;
  /**
   * How long it may stay suspect. It is closed when the buffer is still
   * over `bytes` after this long, or at once past four times `bytes`.
   * 0 closes at the first check over the limit.
   */
  ms: number;
  clock: Clock;
}

/** Counters the outbox bumps for frames it does not send. */
export interface OutboxDrops {
  /** The socket was closing or closed. */
  notOpen: Counter;
  /** The socket was being closed as a slow consumer. */
  slow: Counter;
}

/** Checks the buffer on one send in `SAMPLE_MASK + 1`. */
const SAMPLE_MASK = 7;

/** One socket's sender; the hub's {@linkcode Sink} for a widget. */
export class Outbox implements Sink {
  readonly #socket: WebSocket;
  readonly #policy: SlowPolicy;
  readonly #onSlow: (buffered: number) => void;
  readonly #drops: OutboxDrops;
  #sends = 0;
  #timer: TimerId | undefined;
  #slow = false;

  /** `onSlow` runs once, when the socket is found to be a slow consumer. */
  constructor(
    socket: WebSocket,
    policy: SlowPolicy,
    onSlow: (buffered: number) => void,
    drops: OutboxDrops,
  ) {
    this.#socket = socket;
    this.#policy = policy;
    this.#onSlow = onSlow;
    this.#drops = drops;
  }

  /** Send one text frame if the socket is open and keeping up. Never throws. */
  send(frame: string): void {
    if (this.#socket.readyState !== WebSocket.OPEN) {
      this.#drops.notOpen.value++;
      return;
    }
    if (this.#slow) {
      this.#drops.slow.value++;
      return;
    }
    if ((++this.#sends & SAMPLE_MASK) === 0 || this.#timer !== undefined) {
      if (this.#check()) {
        this.#drops.slow.value++;
        return;
      }
    }
    this.#socket.send(frame);
  }

  /** Stop watching (the socket closed). */
  dispose(): void {
    if (this.#timer === undefined) return;
    this.#policy.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Whether the socket has just been found slow. */
  #check(): boolean {
    const { bytes, ms, clock } = this.#policy;
    const buffered = this.#socket.bufferedAmount;
    if (buffered <= bytes) return false;
    if (ms === 0 || buffered > 4 * bytes) return this.#found(buffered);
    if (this.#timer === undefined) {
      this.#timer = clock.setTimeout(() => this.#expire(), ms);
    }
    return false;
  }

  #expire(): void {
    this.#timer = undefined;
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    const buffered = this.#socket.bufferedAmount;
    if (buffered > this.#policy.bytes) this.#found(buffered);
  }

  #found(buffered: number): true {
    this.dispose();
    this.#slow = true;
    this.#onSlow(buffered);
    return true;
  }
}
