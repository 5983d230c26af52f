/**
 * The Redis link under the bus and presence channel, against a real
 * `redis-server`: delivery between links, never back to the sender, and
 * what users of a relay see while Redis is away and when it returns.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Logger } from "../src/observe/log.ts";
import {
  HEARTBEAT_MS,
  RedisLink,
  SOCKET_TIMEOUT_MS,
} from "../src/relay/redis_link.ts";
import { eventually } from "./helpers.ts";
import {
  redisAvailable,
  redisCommand,
  type RedisServer,
  subscribers,
  withRedis,
} from "./redis_helpers.ts";

const available = await redisAvailable("Redis link tests");

/** A logger that keeps its lines. */
function capturing(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = new Logger("debug", (line) => lines.push(JSON.parse(line)));
  return { log, lines };
}

/** Two connected links on one Redis; closed after `body`. */
async function withLinks(
  body: (
    links: [RedisLink, RedisLink],
    redis: RedisServer,
    lines: Record<string, unknown>[],
  ) => Promise<void>,
): Promise<void> {
  await withRedis(async (redis) => {
    const { log, lines } = capturing();
    const links: [RedisLink, RedisLink] = [
      new RedisLink(redis.url, { log }),
      new RedisLink(redis.url, { log: new Logger("silent") }),
    ];
    try {
      await eventually(() => links.every((link) => link.connected), 10_000);
      await body(links, redis, lines);
    } finally {
      await Promise.all(links.map((link) => link.close()));
    }
  });
}

/** Publish from `from` until `seen` holds: subscriptions take a moment. */
async function publishUntil(
  from: RedisLink,
  channel: string,
  seen: () => boolean,
): Promise<void> {
  await eventually(() => {
    from.publish(channel, "probe");
    return seen();
  }, 10_000);
}

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: !available, fn });

test("a link delivers to the others in order and never to itself", async () => {
  await withLinks(async ([a, b], redis) => {
    const atA: string[] = [];
    const atB: string[] = [];
    a.subscribe("topic", (message) => atA.push(message));
    b.subscribe("topic", (message) => atB.push(message));
    await eventually(async () => await subscribers(redis.port, "topic") === 2);

    const sent = Array.from({ length: 50 }, (_, i) => `m${i}`);
    for (const message of sent) a.publish("topic", message);
    b.publish("topic", "from b");

    await eventually(() => atB.length === sent.length && atA.length === 1);
    deepStrictEqual(atB, sent);
    deepStrictEqual(atA, ["from b"], "a link never hears itself");
    strictEqual(a.stats().published, sent.length);
    strictEqual(b.stats().received, sent.length);
  });
});

test("a link holds a Redis subscription only while subscribed", async () => {
  await withLinks(async ([a], redis) => {
    a.subscribe("topic", () => {});
    await eventually(async () => await subscribers(redis.port, "topic") === 1);
    a.unsubscribe("topic");
    await eventually(async () => await subscribers(redis.port, "topic") === 0);
  });
});

test("while Redis is down, publish drops without throwing and the outage is logged once", async () => {
  await withLinks(async ([a], redis, lines) => {
    await redis.stop();
    // Refused once the publishing connection has seen Redis go.
    await eventually(() => !a.publish("topic", "first"));

    for (let i = 0; i < 100; i++) {
      strictEqual(a.publish("topic", `lost ${i}`), false);
    }
    const stats = a.stats();
    ok(stats.dropped >= 100, `dropped ${stats.dropped}`);
    strictEqual(stats.failures, 1);
    strictEqual(stats.connected, false);

    // Let several reconnection attempts fail.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const warnings = lines.filter((line) => line.level === "warn");
    strictEqual(warnings.length, 1, JSON.stringify(warnings));
    strictEqual(warnings[0].msg, "redis unreachable; retrying with backoff");
  });
});

test("when Redis returns, a link subscribes again and counts the reconnection", async () => {
  await withLinks(async ([a, b], redis, lines) => {
    const before: string[] = [];
    const during: string[] = [];
    a.subscribe("before", (message) => before.push(message));
    await eventually(async () => await subscribers(redis.port, "before") === 1);

    await redis.stop();
    await eventually(() => !a.connected);
    // Subscribed during the outage: must be in place once Redis is back.
    a.subscribe("during", (message) => during.push(message));
    await redis.start();
    await eventually(() => a.connected && b.connected, 15_000);

    await publishUntil(b, "before", () => before.length > 0);
    await publishUntil(b, "during", () => during.length > 0);
    const stats = a.stats();
    strictEqual(stats.failures, 1);
    strictEqual(stats.reconnects, 1);
    ok(lines.some((line) => line.msg === "redis reachable again"));
  });
});

test("a link takes a Redis that stops answering for gone, and recovers when it answers again", async () => {
  await withLinks(async ([a, b], redis) => {
    const heard: string[] = [];
    a.subscribe("topic", (message) => heard.push(message));
    await publishUntil(b, "topic", () => heard.length > 0);

    redis.pause();
    const detectMs = HEARTBEAT_MS + SOCKET_TIMEOUT_MS;
    await eventually(() => !a.connected && !b.connected, detectMs + 10_000);
    strictEqual(a.stats().failures, 1);

    redis.resume();
    await eventually(() => a.connected && b.connected, 30_000);
    heard.length = 0;
    await publishUntil(b, "topic", () => heard.length > 0);
    strictEqual(a.stats().reconnects, 1);
  });
});

test("a link started while Redis is down connects once Redis comes up", async () => {
  await withRedis(async (redis) => {
    await redis.stop();
    const { log, lines } = capturing();
    const link = new RedisLink(redis.url, { log });
    try {
      strictEqual(link.publish("topic", "early"), false);
      await eventually(() => link.stats().failures === 1);
      await redis.start();
      await eventually(() => link.connected, 15_000);
      strictEqual(link.stats().reconnects, 0, "a first connection");
      strictEqual(lines.filter((line) => line.level === "warn").length, 1);
    } finally {
      await link.close();
    }
  });
});

test("close returns promptly while Redis is down", async () => {
  await withRedis(async (redis) => {
    const link = new RedisLink(redis.url, { log: new Logger("silent") });
    await eventually(() => link.connected, 10_000);
    await redis.stop();
    const started = performance.now();
    await link.close();
    ok(performance.now() - started < 5000);
  });
});

Deno.test({
  name:
    "a link tells which channels it subscribed again after its subscribing connection dropped",
  ignore: !available,
  async fn() {
    await withRedis(async (redis) => {
      const told: string[][] = [];
      const link = new RedisLink(redis.url, {
        log: new Logger("silent"),
        onResubscribe: (channels) => told.push(channels),
      });
      try {
        await eventually(() => link.connected, 10_000);
        link.subscribe("a", () => {});
        link.subscribe("b", () => {});
        await eventually(async () => await subscribers(redis.port, "b") === 1);
        deepStrictEqual(told, [], "a first subscription misses nothing");

        await redisCommand(redis.port, "CLIENT", "KILL", "TYPE", "pubsub");
        await eventually(() => told.length === 1, 10_000);
        deepStrictEqual(told, [["a", "b"]]);
        await eventually(async () => await subscribers(redis.port, "a") === 1);
      } finally {
        await link.close();
      }
    });
  },
});
