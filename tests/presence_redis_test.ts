/**
 * The Redis presence channel against a real `redis-server`: two channel
 * instances, as two relay isolates on two machines would hold.
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { Logger } from "../src/observe/log.ts";
import type { Announcement } from "../src/relay/presence.ts";
import { RedisPresence } from "../src/relay/presence_redis.ts";
import { TAG_LENGTH } from "../src/relay/redis_link.ts";
import { eventually } from "./helpers.ts";
import {
  redisAvailable,
  redisCommand,
  type RedisServer,
  subscribers,
  withRedis,
} from "./redis_helpers.ts";

const available = await redisAvailable("Redis presence tests");

const CHANNEL = "cupd-presence";

interface Member {
  channel: RedisPresence;
  heard: Announcement[];
}

/** Two listening members on one Redis; closed after `body`. */
async function withMembers(
  body: (members: [Member, Member], redis: RedisServer) => Promise<void>,
): Promise<void> {
  await withRedis(async (redis) => {
    const log = new Logger("silent");
    const members = [0, 1].map(() => {
      const member = { channel: new RedisPresence(redis.url, { log }) };
      const heard: Announcement[] = [];
      // Counts arrive without a prototype; compare them as plain objects.
      member.channel.listen((announcement) =>
        heard.push({ ...announcement, counts: { ...announcement.counts } })
      );
      return { ...member, heard };
    }) as [Member, Member];
    try {
      await eventually(
        async () => await subscribers(redis.port, CHANNEL) === 2,
        10_000,
      );
      await body(members, redis);
    } finally {
      await Promise.all(members.map(({ channel }) => channel.close()));
    }
  });
}

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: !available, fn });

test("redis presence carries announcements to the other member, in order", async () => {
  await withMembers(async ([a, b]) => {
    const sent: Announcement[] = [
      { isolate: "a1", counts: { weather: 2 } },
      { isolate: "a1", counts: { weather: 3, stocks: 1 } },
      { isolate: "a1", counts: {}, bye: true },
    ];
    for (const announcement of sent) a.channel.send(announcement);

    await eventually(() => b.heard.length === sent.length);
    deepStrictEqual(b.heard, sent);
  });
});

test("redis presence never brings an announcement back to its sender", async () => {
  await withMembers(async ([a, b]) => {
    a.channel.send({ isolate: "a1", counts: { weather: 1 } });
    b.channel.send({ isolate: "b1", counts: { weather: 5 } });

    await eventually(() => a.heard.length === 1 && b.heard.length === 1);
    // A round trip through Redis after both: anything echoed is here now.
    a.channel.send({ isolate: "a1", counts: {} });
    await eventually(() => b.heard.length === 2);
    deepStrictEqual(a.heard, [{ isolate: "b1", counts: { weather: 5 } }]);
    deepStrictEqual(b.heard.map((x) => x.isolate), ["a1", "a1"]);
  });
});

test("redis presence ignores malformed messages on its channel", async () => {
  await withMembers(async ([a], redis) => {
    const tag = "x".repeat(TAG_LENGTH);
    const stray = [
      "short",
      tag + "not json",
      tag + "[1,2]",
      tag + JSON.stringify({ counts: { weather: 1 } }),
      tag + JSON.stringify({ isolate: "", counts: {} }),
      tag + JSON.stringify({ isolate: "z", counts: "many" }),
    ];
    for (const message of stray) {
      await redisCommand(redis.port, "PUBLISH", CHANNEL, message);
    }
    // Bad counts are left out, the rest of the announcement is kept.
    await redisCommand(
      redis.port,
      "PUBLISH",
      CHANNEL,
      tag + JSON.stringify({ isolate: "z", counts: { weather: -1, ok: 2 } }),
    );

    await eventually(() => a.heard.length > 0);
    deepStrictEqual(a.heard, [{ isolate: "z", counts: { ok: 2 } }]);
  });
});

test("redis presence sends without throwing while Redis is down and listens again when it returns", async () => {
  await withMembers(async ([a, b], redis) => {
    await redis.stop();
    await eventually(() => !a.channel.connected && !b.channel.connected);
    for (let i = 0; i < 10; i++) {
      a.channel.send({ isolate: "a1", counts: { weather: i } });
    }
    strictEqual(b.heard.length, 0);

    await redis.start();
    await eventually(
      async () => await subscribers(redis.port, CHANNEL) === 2,
      15_000,
    );
    await eventually(() => {
      a.channel.send({ isolate: "a1", counts: { weather: 42 } });
      return b.heard.length > 0;
    }, 10_000);
    deepStrictEqual(b.heard[0], { isolate: "a1", counts: { weather: 42 } });
    strictEqual(a.channel.stats().reconnects, 1);
  });
});
