/**
 * Shutdown of an isolate's last values when the store stops answering: the
 * wait is bounded and what was not written is named in the log.
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { Logger } from "../src/observe/log.ts";
import type { LastValue, LastValueStore } from "../src/relay/last_value.ts";
import { LastValueCache } from "../src/relay/last_value_cache.ts";
import { MemoryStore } from "../src/relay/last_value_memory.ts";
import { ManualClock } from "./manual_clock.ts";

/** Writes never settle, as with a store that stopped answering. */
class SilentWrites implements LastValueStore {
  readonly inner = new MemoryStore({ ttlMs: 0 });
  closed = false;

  get(app: string): Promise<LastValue | undefined> {
    return this.inner.get(app);
  }

  set(): Promise<void> {
    return new Promise(() => {});
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** Let promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("cache close gives up on writes the store does not answer and logs the apps", async () => {
  const clock = new ManualClock();
  const store = new SilentWrites();
  const lines: string[] = [];
  const cache = new LastValueCache({
    store,
    clock,
    ttlMs: 0,
    flushMs: 60_000,
    closeWaitMs: 3000,
    log: new Logger("warn", (line) => lines.push(line)),
  });
  cache.published("a", '{"type":"data","name":"a","data":1}');
  cache.published("b", '{"type":"data","name":"b","data":1}');

  let closed = false;
  const closing = cache.close().then(() => closed = true);
  await settle();
  strictEqual(closed, false, "waits for the writes first");

  clock.advance(3000);
  await closing;
  strictEqual(store.closed, true);
  const warning = lines.map((line) => JSON.parse(line))
    .find((line) => line.msg === "last values not written at shutdown");
  deepStrictEqual(
    [warning?.count, warning?.apps, warning?.why],
    [2, ["a", "b"], "store did not answer"],
  );
});
