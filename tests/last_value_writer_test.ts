/**
 * Coalesced last-value writes: a burst of payloads costs one store write
 * per app per flush interval, and nothing pending is lost on flush.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Logger } from "../src/observe/log.ts";
import type { LastValue } from "../src/relay/last_value.ts";
import { MemoryStore } from "../src/relay/last_value_memory.ts";
import { LastValueWriter } from "../src/relay/last_value_writer.ts";
import { ManualClock } from "./manual_clock.ts";
import { CountingStore, GatedStore } from "./test_stores.ts";

const log = new Logger("silent");

function setup(flushMs = 100) {
  const clock = new ManualClock();
  const store = new CountingStore(new MemoryStore({ ttlMs: 0 }));
  const writer = new LastValueWriter({ store, clock, flushMs, log });
  return { clock, store, writer };
}

const value = (n: number): LastValue => ({ frame: `{"n":${n}}`, at: n });

/** Let the promise callbacks of a flush run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("writer turns a burst for one app into one write of the latest", async () => {
  const { clock, store, writer } = setup();
  for (let n = 1; n <= 1000; n++) writer.put("app", value(n));
  strictEqual(store.writeCount, 0, "nothing written on the hot path");

  clock.advance(100);
  await settle();
  deepStrictEqual(store.writes.get("app"), [value(1000)]);
  deepStrictEqual(await store.inner.get("app"), value(1000));
});

Deno.test("writer writes a steady stream once per flush interval", async () => {
  const { clock, store, writer } = setup(100);
  for (let tick = 0; tick < 100; tick++) {
    for (let i = 0; i < 10; i++) writer.put("app", value(tick * 10 + i));
    clock.advance(10);
    await settle();
  }
  await writer.flush();

  // 1000 payloads over 1000 ms of clock: ten flushes, each of the latest.
  strictEqual(writer.stats.queued, 1000);
  strictEqual(store.writeCount, 10);
  deepStrictEqual(store.writes.get("app")!.at(-1), value(999));
});

Deno.test("writer writes each app that changed, once per flush", async () => {
  const { clock, store, writer } = setup();
  for (let n = 0; n < 50; n++) {
    writer.put("a", value(n));
    writer.put("b", value(n + 1000));
  }
  clock.advance(100);
  await settle();
  deepStrictEqual(store.writes.get("a"), [value(49)]);
  deepStrictEqual(store.writes.get("b"), [value(1049)]);
  strictEqual(clock.pending, 0, "no timer while nothing is pending");
});

Deno.test("writer flush writes what is pending at once, as on shutdown", async () => {
  const { store, writer } = setup(60_000);
  writer.put("app", value(7));
  await writer.flush();
  deepStrictEqual(store.writes.get("app"), [value(7)]);
  strictEqual(writer.pending, 0);
});

Deno.test("writer never lets an older write overtake a newer one", async () => {
  const clock = new ManualClock();
  const inner = new MemoryStore({ ttlMs: 0 });
  const order: number[] = [];
  // The first write is slow; the second must still land after it.
  let releaseFirst = () => {};
  const store = {
    get: (app: string) => inner.get(app),
    async set(app: string, v: LastValue) {
      if (v.at === 1) await new Promise<void>((r) => releaseFirst = r);
      await inner.set(app, v);
      order.push(v.at);
    },
    close: () => inner.close(),
  };
  const writer = new LastValueWriter({ store, clock, flushMs: 10, log });

  writer.put("app", value(1));
  clock.advance(10);
  await settle(); // the first write has started and hangs
  writer.put("app", value(2));
  const second = writer.flush();
  await settle();
  deepStrictEqual(order, [], "the second waits for the first");
  releaseFirst();
  await second;

  deepStrictEqual(order, [1, 2]);
  deepStrictEqual(await inner.get("app"), value(2));
});

Deno.test("writer counts failed writes and keeps writing afterwards", async () => {
  const clock = new ManualClock();
  const inner = new MemoryStore({ ttlMs: 0 });
  let down = true;
  const store = {
    get: (app: string) => inner.get(app),
    set: (app: string, v: LastValue) =>
      down ? Promise.reject(new Error("down")) : inner.set(app, v),
    close: () => inner.close(),
  };
  const writer = new LastValueWriter({ store, clock, flushMs: 10, log });

  writer.put("app", value(1));
  await writer.flush();
  strictEqual(writer.stats.failed, 1);

  down = false;
  writer.put("app", value(2));
  await writer.flush();
  strictEqual(writer.stats.written, 1);
  deepStrictEqual(await inner.get("app"), value(2));
});

Deno.test("writer flush resolves even while reads wait on the store", async () => {
  const clock = new ManualClock();
  const store = new GatedStore(new MemoryStore({ ttlMs: 0 }));
  const writer = new LastValueWriter({ store, clock, flushMs: 10, log });
  const read = store.get("app");
  writer.put("app", value(3));
  await writer.flush();
  store.open();
  ok(await read, "the read sees the flushed value");
});
