/**
 * Test wrappers around a real {@linkcode LastValueStore}: one counts the
 * writes that pass through the interface, one holds reads until released.
 *
 * @module
 */

import type { LastValue, LastValueStore } from "../src/relay/last_value.ts";

/** Counts every `set` and `get` that reaches the wrapped store. */
export class CountingStore implements LastValueStore {
  readonly inner: LastValueStore;
  /** Values written, per app, in order. */
  readonly writes = new Map<string, LastValue[]>();
  reads = 0;

  constructor(inner: LastValueStore) {
    this.inner = inner;
  }

  /** Writes over every app. */
  get writeCount(): number {
    let count = 0;
    for (const values of this.writes.values()) count += values.length;
    return count;
  }

  get(app: string): Promise<LastValue | undefined> {
    this.reads++;
    return this.inner.get(app);
  }

  set(app: string, value: LastValue): Promise<void> {
    const list = this.writes.get(app) ?? [];
    list.push(value);
    this.writes.set(app, list);
    return this.inner.set(app, value);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Reads wait until {@linkcode GatedStore.open} lets them through (or
 * {@linkcode GatedStore.fail} rejects them), so a test decides what
 * happens while a read is in flight.
 */
export class GatedStore implements LastValueStore {
  readonly inner: LastValueStore;
  #waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(inner: LastValueStore) {
    this.inner = inner;
  }

  /** Reads waiting for the gate. */
  get waiting(): number {
    return this.#waiting.length;
  }

  async get(app: string): Promise<LastValue | undefined> {
    await new Promise<void>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
    });
    return this.inner.get(app);
  }

  set(app: string, value: LastValue): Promise<void> {
    return this.inner.set(app, value);
  }

  /** Let every waiting read through. */
  open(): void {
    for (const read of this.#take()) read.resolve();
  }

  /** Fail every waiting read. */
  fail(error = new Error("store unavailable")): void {
    for (const read of this.#take()) read.reject(error);
  }

  close(): Promise<void> {
    this.fail(new Error("store closed"));
    return this.inner.close();
  }

  #take() {
    const reads = this.#waiting;
    this.#waiting = [];
    return reads;
  }
}
