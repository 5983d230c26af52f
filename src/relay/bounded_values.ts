/**
 * A map of last values bounded in count and in frame size, for the stores
 * and caches that hold them in memory.
 *
 * @module
 */

import type { LastValue } from "./last_value.ts";

/** Limits of a {@linkcode BoundedValues}. */
export interface Bounds {
  /** Most apps held. */
  maxEntries: number;
  /** Most frame text held, in UTF-16 code units (about bytes). */
  maxSize: number;
}

/**
 * Last values by app, in order of last write. Past either bound the least
 * recently written app is dropped, so a burst of large payloads for many
 * apps cannot exhaust memory; `onDrop` hears of each app dropped.
 */
export class BoundedValues {
  readonly #values = new Map<string, LastValue>();
  readonly #bounds: Bounds;
  readonly #onDrop: (app: string) => void;
  #size = 0;

  constructor(bounds: Bounds, onDrop: (app: string) => void = () => {}) {
    this.#bounds = bounds;
    this.#onDrop = onDrop;
  }

  /** Apps held. */
  get count(): number {
    return this.#values.size;
  }

  /** Frame text held, in UTF-16 code units. */
  get size(): number {
    return this.#size;
  }

  get(app: string): LastValue | undefined {
    return this.#values.get(app);
  }

  /** Hold `value` as the app's, as the most recently written. */
  set(app: string, value: LastValue): void {
    this.delete(app);
    this.#values.set(app, value);
    this.#size += value.frame.length;

    while (
      this.#values.size > this.#bounds.maxEntries ||
      this.#size > this.#bounds.maxSize
    ) {
      const oldest = this.#values.keys().next().value as string;
      this.delete(oldest);
      this.#onDrop(oldest);
    }
  }

  delete(app: string): void {
    const value = this.#values.get(app);
    if (!value) return;
    this.#values.delete(app);
    this.#size -= value.frame.length;
  }

  clear(): void {
    this.#values.clear();
    this.#size = 0;
  }
}
