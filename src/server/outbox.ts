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
import { type RelayMetrics, utf8Length } from "../observe/relay_metrics.ts";
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

/** Checks the buffer on one send in `SAMPLE_MASK + 1`. */
const SAMPLE_MASK = 7;

/** One socket's sender; the hub's {@linkcode Sink} for a widget. */
export class Outbox implements Sink {
  readonly #socket: WebSocket;
  readonly #policy: SlowPolicy;
  readonly #onSlow: (buffered: number) => void;
  readonly #metrics: RelayMetrics;
  readonly #notOpen: Counter;
  readonly #slowDrops: Counter;
  #sends = 0;
  #timer: TimerId | undefined;
  #slow = false;

  /**
   * `onSlow` runs once, when the socket is found to be a slow consumer.
   * Senders count a frame in `cupd_frames_out_total` before handing it
   * over; a frame the outbox drops is taken back out and counted in
   * `cupd_drops_total` instead.
   */
  constructor(
    socket: WebSocket,
    policy: SlowPolicy,
    onSlow: (buffered: number) => void,
    metrics: RelayMetrics,
  ) {
    this.#socket = socket;
    this.#policy = policy;
    this.#onSlow = onSlow;
    this.#metrics = metrics;
    this.#notOpen = metrics.drops.get("not_open");
    this.#slowDrops = metrics.drops.get("slow_consumer");
  }

  /** Send one text frame if the socket is open and keeping up. Never throws. */
  send(frame: string): void {
    if (this.#socket.readyState !== WebSocket.OPEN) {
      return this.#drop(this.#notOpen, frame);
    }
    if (this.#slow) return this.#drop(this.#slowDrops, frame);
    if ((++this.#sends & SAMPLE_MASK) === 0 || this.#timer !== undefined) {
      if (this.#check()) return this.#drop(this.#slowDrops, frame);
    }
    this.#socket.send(frame);
  }

  #drop(reason: Counter, frame: string): void {
    reason.value++;
    this.#metrics.framesOut.value--;
    this.#metrics.bytesOut.value -= utf8Length(frame);
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
