/**
 * The contract of every last-value store, against the real thing: a `Map`,
 * a Deno KV file in a temporary directory, and a real `redis-server`.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Logger } from "../src/observe/log.ts";
import type { LastValueStore, StoreOptions } from "../src/relay/last_value.ts";
import { KvStore } from "../src/relay/last_value_kv.ts";
import { MemoryStore } from "../src/relay/last_value_memory.ts";
import { RedisStore } from "../src/relay/last_value_redis.ts";
import { eventually } from "./helpers.ts";
import { redisAvailable, RedisServer } from "./redis_helpers.ts";

const log = new Logger("silent");
const hasRedis = await redisAvailable("Redis store tests");

/** A store under test and how to release what it used. */
interface Made {
  store: LastValueStore;
  /** Another store on the same backing data, as a second isolate or node. */
  twin(): LastValueStore;
  cleanup(): Promise<void>;
}

type Variant = {
  name: string;
  ignore: boolean;
  make(options: StoreOptions): Promise<Made>;
};

const VARIANTS: Variant[] = [
  {
    name: "memory",
    ignore: false,
    make(options) {
      const store = new MemoryStore(options);
      return Promise.resolve({
        store,
        twin: () => store,
        cleanup: () => Promise.resolve(),
      });
    },
  },
  {
    name: "kv",
    ignore: false,
    async make(options) {
      const dir = await Deno.makeTempDir({ prefix: "cupd_kv_" });
      const path = `${dir}/last.sqlite3`;
      const twins: LastValueStore[] = [];
      return {
        store: new KvStore({ ...options, log, path }),
        twin() {
          const twin = new KvStore({ ...options, log, path });
          twins.push(twin);
          return twin;
        },
        async cleanup() {
          await Promise.all(twins.map((twin) => twin.close()));
          await Deno.remove(dir, { recursive: true });
        },
      };
    },
  },
  {
    name: "redis",
    ignore: !hasRedis,
    async make(options) {
      const redis = new RedisServer();
      await redis.start();
      const twins: LastValueStore[] = [];
      const store = await readyRedisStore(redis.url, options);
      return {
        store,
        twin() {
          const twin = new RedisStore(redis.url, { ...options, log });
          twins.push(twin);
          return twin;
        },
        async cleanup() {
          await Promise.all(twins.map((twin) => twin.close()));
          await redis.stop();
        },
      };
    },
  },
];

/** A wall clock moved by hand. */
function manualNow(start = 1_700_000_000_000) {
  const clock = { time: start, now: () => clock.time };
  return clock;
}

function storeTest(
  what: string,
  options: { ttlMs: number },
  body: (made: Made, clock: ReturnType<typeof manualNow>) => Promise<void>,
): void {
  for (const variant of VARIANTS) {
    Deno.test({
      name: `${variant.name} store ${what}`,
      ignore: variant.ignore,
      async fn() {
        const clock = manualNow();
        const made = await variant.make({ ...options, now: clock.now });
        try {
          await body(made, clock);
        } finally {
          await made.store.close();
          await made.cleanup();
        }
      },
    });
  }
}

const frame = (app: string, data: unknown) =>
  JSON.stringify({ type: "data", name: app, data });

storeTest(
  "has no value for an app never set",
  { ttlMs: 60_000 },
  async ({ store }) => {
    strictEqual(await store.get("never"), undefined);
  },
);

storeTest(
  "returns the latest value set, per app",
  { ttlMs: 60_000 },
  async ({ store }, clock) => {
    const at = clock.now();
    await store.set("a", { frame: frame("a", 1), at });
    await store.set("a", { frame: frame("a", 2), at: at + 1 });
    await store.set("b", { frame: frame("b", "x"), at });

    deepStrictEqual(await store.get("a"), { frame: frame("a", 2), at: at + 1 });
    deepStrictEqual(await store.get("b"), { frame: frame("b", "x"), at });
  },
);

storeTest("shares values with another instance on the same data", {
  ttlMs: 60_000,
}, async ({ store, twin }, clock) => {
  await store.set("shared", { frame: frame("shared", [1]), at: clock.now() });
  const other = twin();
  deepStrictEqual(await other.get("shared"), {
    frame: frame("shared", [1]),
    at: clock.now(),
  });
});

storeTest(
  "forgets a value once its time to live has passed",
  { ttlMs: 1_000 },
  async ({ store }, clock) => {
    await store.set("app", { frame: frame("app", "old"), at: clock.now() });
    clock.time += 999;
    ok(await store.get("app"), "kept until the time to live is over");
    clock.time += 1;
    strictEqual(await store.get("app"), undefined);
  },
);

storeTest(
  "keeps values for ever with a time to live of 0",
  { ttlMs: 0 },
  async ({ store }, clock) => {
    await store.set("app", { frame: frame("app", "kept"), at: clock.now() });
    clock.time += 10 * 365 * 86_400_000;
    deepStrictEqual(await store.get("app"), {
      frame: frame("app", "kept"),
      at: clock.now() - 10 * 365 * 86_400_000,
    });
  },
);

/** A Redis store that answers, once its connection is ready. */
async function readyRedisStore(
  url: string,
  options: StoreOptions,
): Promise<RedisStore> {
  const store = new RedisStore(url, { ...options, log });
  // The first command waits for the connection.
  strictEqual(await store.get("probe"), undefined);
  return store;
}

Deno.test({
  name: "redis store lets Redis itself expire a value",
  ignore: !hasRedis,
  async fn() {
    const redis = new RedisServer();
    await redis.start();
    const writer = await readyRedisStore(redis.url, { ttlMs: 300 });
    // This reader's clock stands at 0, so it never calls a value expired
    // itself: only Redis can make the value disappear.
    const reader = await readyRedisStore(redis.url, {
      ttlMs: 300,
      now: () => 0,
    });
    try {
      await writer.set("app", { frame: frame("app", 1), at: Date.now() });
      ok(await reader.get("app"), "readable before it expires");
      await eventually(async () => (await reader.get("app")) === undefined);
    } finally {
      await Promise.all([writer.close(), reader.close()]);
      await redis.stop();
    }
  },
});

Deno.test("kv store keeps values in its file across reopening", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cupd_kv_" });
  const path = `${dir}/last.sqlite3`;
  try {
    const first = new KvStore({ ttlMs: 60_000, log, path });
    await first.set("app", { frame: frame("app", "durable"), at: Date.now() });
    await first.close();

    const second = new KvStore({ ttlMs: 60_000, log, path });
    strictEqual((await second.get("app"))?.frame, frame("app", "durable"));
    await second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kv store drops the older value when a payload is too large for KV", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cupd_kv_" });
  const store = new KvStore({ ttlMs: 60_000, log, path: `${dir}/kv` });
  try {
    await store.set("app", { frame: frame("app", "small"), at: Date.now() });
    const big = frame("app", "x".repeat(70_000));
    await store.set("app", { frame: big, at: Date.now() });
    strictEqual(await store.get("app"), undefined);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("memory store forgets the least recently written app past its size", async () => {
  const store = new MemoryStore({ ttlMs: 0, maxEntries: 2 });
  await store.set("a", { frame: frame("a", 1), at: 1 });
  await store.set("b", { frame: frame("b", 1), at: 1 });
  await store.set("a", { frame: frame("a", 2), at: 2 });
  await store.set("c", { frame: frame("c", 1), at: 3 });
  strictEqual(await store.get("b"), undefined);
  strictEqual((await store.get("a"))?.frame, frame("a", 2));
  strictEqual(store.size, 2);
});
