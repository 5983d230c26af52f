/**
 * Last values in Redis when Redis misbehaves, against a real
 * `redis-server`: one that stops answering (SIGSTOP) must neither stall
 * writes nor hold a shutdown, its failures show in `/metrics`, and a node
 * whose bus subscription was cut off reads the store again instead of
 * serving the copy it kept.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Logger } from "../src/observe/log.ts";
import { MemoryBus } from "../src/relay/bus_memory.ts";
import { NOT_ANSWERING, RedisStore } from "../src/relay/last_value_redis.ts";
import { MemoryPresence } from "../src/relay/presence_memory.ts";
import {
  eventually,
  type RelayProcess,
  startRelay,
  startRelayProcess,
  TestClient,
} from "./helpers.ts";
import {
  redisAvailable,
  redisCommand,
  redisPipeline,
  type RedisServer,
  subscribers,
  withRedis,
} from "./redis_helpers.ts";

const hasRedis = await redisAvailable("Redis fault tests");

const log = new Logger("silent");

/** Far above what any bounded wait here takes, even on a loaded machine. */
const BOUND_MS = 20_000;

const frame = (app: string, data: unknown) =>
  JSON.stringify({ type: "data", name: app, data });

/** Whether `work` settles within `ms`; never rejects. */
function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = work.then(() => true, () => true);
  return Promise.race([settled, late]).finally(() => clearTimeout(timer));
}

/** The error `work` rejects with; fails if it resolves. */
async function rejection(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

/** A Redis store whose connection is ready. */
async function readyStore(
  redis: RedisServer,
  options: { maxUnanswered?: number } = {},
): Promise<RedisStore> {
  const store = new RedisStore(redis.url, { ttlMs: 60_000, log, ...options });
  strictEqual(await store.get("probe"), undefined);
  return store;
}

/** Run `body` with `redis` frozen, letting it go on whatever happens. */
async function whilePaused(redis: RedisServer, body: () => Promise<void>) {
  redis.pause();
  try {
    await body();
  } finally {
    redis.resume();
  }
}

Deno.test({
  name:
    "redis store commands fail instead of hanging while Redis does not answer, and work again after",
  ignore: !hasRedis,
  async fn() {
    await withRedis(async (redis) => {
      const store = await readyStore(redis);
      try {
        await whilePaused(redis, async () => {
          const write = store.set("app", { frame: frame("app", 1), at: 1 });
          ok(await settlesWithin(write, BOUND_MS), "the write settles");
          await rejection(write);
          const read = store.get("app");
          ok(await settlesWithin(read, BOUND_MS), "the read settles");
          await rejection(read);
        });

        // The connection may be replaced first: retry until it answers.
        const value = { frame: frame("app", 2), at: Date.now() };
        await eventually(async () => {
          try {
            await store.set("app", value);
            return (await store.get("app"))?.frame === value.frame;
          } catch {
            return false;
          }
        }, BOUND_MS);
      } finally {
        await store.close();
      }
    });
  },
});

Deno.test({
  name: "redis store refuses commands at once while too many wait for Redis",
  ignore: !hasRedis,
  async fn() {
    await withRedis(async (redis) => {
      const store = await readyStore(redis, { maxUnanswered: 3 });
      try {
        await whilePaused(redis, async () => {
          const reads = ["a", "b", "c"].map((app) => store.get(app));
          for (const read of reads) {
            ok(await settlesWithin(read, BOUND_MS), "the read settles");
            // Timed out, but still waiting for Redis inside the client.
            ok((await rejection(read)).message.includes("timed out"));
          }
          const refused = await rejection(store.get("d"));
          strictEqual(refused.message, NOT_ANSWERING);
        });
      } finally {
        await store.close();
      }
    });
  },
});

Deno.test({
  name: "redis store closes while Redis does not answer",
  ignore: !hasRedis,
  async fn() {
    await withRedis(async (redis) => {
      const store = await readyStore(redis);
      await whilePaused(redis, async () => {
        ok(await settlesWithin(store.close(), BOUND_MS), "close settles");
      });
    });
  },
});

/** Stop a relay process that may be stuck, whatever happens. */
async function kill(node: RelayProcess): Promise<void> {
  try {
    node.child.kill("SIGKILL");
  } catch {
    // Already gone.
  }
  await node.stop();
}

Deno.test({
  name:
    "a relay with the Redis store exits on SIGTERM while Redis does not answer",
  ignore: !hasRedis,
  async fn() {
    await withRedis(async (redis) => {
      const node = await startRelayProcess({
        REDIS_URL: redis.url,
        CUPD_STORE: "redis",
        CUPD_LAST_VALUE_FLUSH_MS: "50",
      });
      try {
        const provider = await TestClient.provider(node.url, "hang");
        provider.send({ type: "data", data: { v: 1 } });
        await eventually(
          async () =>
            (await redisCommand(redis.port, "GET", "cupd:last:hang"))
              .includes('\\"v\\":1'),
          BOUND_MS,
        );

        await whilePaused(redis, async () => {
          // Writes now reach a Redis that never answers; the last one is
          // pending when the signal comes.
          for (let v = 2; v <= 20; v++) {
            provider.send({ type: "data", data: { v } });
          }
          await provider.sync();
          node.child.kill("SIGTERM");
          ok(
            await settlesWithin(node.child.status, BOUND_MS),
            "the relay exits while Redis is frozen",
          );
        });
        strictEqual((await node.child.status).code, 0);
        const stderr = await node.stop();
        ok(stderr.includes("last values not written at shutdown"), stderr);
      } finally {
        await kill(node);
      }
    });
  },
});

/** The value of one series in a node's `/metrics`, or 0. */
async function metric(http: string, series: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

Deno.test({
  name:
    "a node whose bus subscription was cut off reads the store again for new widgets",
  ignore: !hasRedis,
  async fn() {
    await withRedis(async (redis) => {
      const node = await startRelayProcess({
        REDIS_URL: redis.url,
        CUPD_STORE: "redis",
      });
      const clients: TestClient[] = [];
      try {
        const w1 = await TestClient.widget(node.url, "X");
        clients.push(w1);
        await eventually(async () =>
          await subscribers(redis.port, "cupd:X") > 0
        );
        // Another node's frame, tagged with another node's id.
        const other = "OTHERNODE___";
        await redisCommand(
          redis.port,
          "PUBLISH",
          "cupd:X",
          other + frame("X", 1),
        );
        deepStrictEqual((await w1.next()).data, 1);
        // The node stamped v1 before W1 got it; v2 is published later.
        const heard = Date.now();
        await eventually(() => Date.now() > heard);

        // Cut the node's subscription off; another node publishes v2 and
        // writes it to the store before this node is subscribed again.
        const stored = JSON.stringify({ frame: frame("X", 2), at: Date.now() });
        await redisPipeline(redis.port, [
          ["CLIENT", "KILL", "TYPE", "pubsub"],
          ["PUBLISH", "cupd:X", other + frame("X", 2)],
          ["SET", "cupd:last:X", stored],
        ]);
        const reconnected = 'cupd_redis_reconnects_total{link="bus"}';
        await eventually(
          async () => await metric(node.http, reconnected) >= 1,
          BOUND_MS,
        );
        await eventually(async () =>
          await subscribers(redis.port, "cupd:X") > 0
        );

        const w2 = await TestClient.connect(node.url);
        clients.push(w2);
        w2.send({ type: "subscribe", name: "X" });
        await w2.expect({ type: "subscribed", name: "X" });
        deepStrictEqual(await w2.next(), {
          type: "data",
          name: "X",
          data: 2,
          retained: true,
        });
      } finally {
        await Promise.all(clients.map((client) => client.close()));
        await node.stop();
      }
    });
  },
});

Deno.test({
  name: "store write and read failures show in /metrics",
  ignore: !hasRedis,
  async fn() {
    await withRedis(async (redis) => {
      const store = await readyStore(redis);
      const relay = startRelay(
        { CUPD_LAST_VALUE_FLUSH_MS: "20" },
        new MemoryBus(),
        new MemoryPresence(),
        store,
      );
      const series = (name: string) => metric(relay.http, name);
      const clients: TestClient[] = [];
      try {
        const provider = await TestClient.provider(relay.url, "app");
        clients.push(provider);
        provider.send({ type: "data", data: 1 });
        await eventually(
          async () => await series("cupd_last_value_writes_total") === 1,
        );
        strictEqual(await series("cupd_last_value_write_failures_total"), 0);

        await whilePaused(redis, async () => {
          provider.send({ type: "data", data: 2 });
          await eventually(
            async () =>
              await series("cupd_last_value_write_failures_total") === 1,
            BOUND_MS,
          );

          // No widget of `other` here yet: its value is read from the store.
          const widget = await TestClient.widget(relay.url, "other");
          clients.push(widget);
          await eventually(
            async () =>
              await series("cupd_last_value_read_failures_total") === 1,
            BOUND_MS,
          );
        });
        strictEqual(await series("cupd_last_value_reads_total"), 1);
        strictEqual(await series("cupd_last_value_writes_total"), 1);
      } finally {
        await Promise.all(clients.map((client) => client.close()));
        await relay.close();
      }
    });
  },
});
