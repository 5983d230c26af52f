/**
 * A first-in, first-out queue that never grows past its limit: when full,
 * the oldest item makes room for the newest.
 *
 * @module
 */

/** A FIFO with a hard size limit that drops its oldest items. */
export class BoundedQueue<T> {
  readonly limit: number;
  #items: T[] = [];

  /** `limit` may be 0: every item is then dropped at once. */
  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`Queue limit must be an integer >= 0: ${limit}`);
    }
    this.limit = limit;
  }

  /** Items waiting. */
  get size(): number {
    return this.#items.length;
  }

  /** Append `item`; returns how many items were dropped to make room. */
  push(item: T): number {
    if (this.limit === 0) return 1;
    this.#items.push(item);
    const over = this.#items.length - this.limit;
    if (over > 0) this.#items.splice(0, over);
    return Math.max(0, over);
  }

  /** Remove and return every item, oldest first. */
  drain(): T[] {
    const items = this.#items;
    this.#items = [];
    return items;
  }
}
