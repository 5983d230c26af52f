/**
 * Several relays joined through a real Redis: two `deno run main.ts`
 * processes on different ports, as behind a load balancer.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { loadConfig } from "../src/config.ts";
import { Logger } from "../src/observe/log.ts";
import { createRelay } from "../src/server/relay.ts";
import { eventually, TestClient } from "./helpers.ts";
import {
  payloads,
  redisAvailable,
  subscribers,
  widgetsReady,
  withRedis,
  withTwoNodes,
} from "./redis_helpers.ts";

const available = await redisAvailable("Redis tests");

/** Fast presence, so counts settle and expire within a test. */
const ENV = {
  CUPD_AUDIENCE_INTERVAL_MS: "50",
  CUPD_PRESENCE_INTERVAL_MS: "250",
  CUPD_PRESENCE_TTL_MS: "1000",
};

Deno.test({
  name: "relays on two nodes deliver every payload exactly once, in order",
  ignore: !available,
  async fn() {
    await withTwoNodes(ENV, async ([a, b]) => {
      const widgets = [
        await TestClient.widget(a.url, "shared"),
        await TestClient.widget(a.url, "shared"),
        await TestClient.widget(b.url, "shared"),
        await TestClient.widget(b.url, "shared"),
      ];
      const provider = await TestClient.provider(a.url, "shared");
      await widgetsReady(provider, widgets);

      const sent = Array.from({ length: 200 }, (_, seq) => ({ seq }));
      for (const data of sent) provider.send({ type: "data", data });

      for (const widget of widgets) {
        deepStrictEqual(await payloads(widget, sent.length), sent);
        await widget.sync();
        deepStrictEqual(widget.unread, [], "nothing twice");
      }
      await Promise.all([...widgets, provider].map((c) => c.close()));
    });
  },
});

Deno.test({
  name:
    "after Redis restarts, delivery and audience counts resume without relay restarts",
  ignore: !available,
  async fn() {
    await withTwoNodes(ENV, async ([a, b], redis) => {
      const local = await TestClient.widget(a.url, "live");
      const remote = await TestClient.widget(b.url, "live");
      const provider = await TestClient.provider(a.url, "live");
      const told = (widgets: number, ms = 10_000) =>
        eventually(() => provider.audience.at(-1) === widgets, ms);
      await widgetsReady(provider, [local, remote]);
      await told(2);

      await redis.stop();
      for (let seq = 0; seq < 20; seq++) {
        provider.send({ type: "data", data: { outage: seq } });
      }
      deepStrictEqual(
        await payloads(local, 20),
        Array.from({ length: 20 }, (_, seq) => ({ outage: seq })),
        "local widgets keep receiving while Redis is down",
      );
      // Node B is unheard, so after the presence TTL only A's widget counts.
      await told(1);

      await redis.start();
      let resumed = false;
      for (let attempt = 0; attempt < 200 && !resumed; attempt++) {
        provider.send({ type: "data", data: { after: attempt } });
        await new Promise((resolve) => setTimeout(resolve, 50));
        resumed = remote.unread.some((f) => f.data?.after !== undefined);
      }
      ok(resumed, "remote widget receives again without relay restarts");
      await told(2);
      await Promise.all([local, remote, provider].map((c) => c.close()));

      const outages = (await a.stop()).split("\n")
        .filter((line) => line.includes("redis unreachable"));
      // One line for the bus link and one for the presence link, however
      // many payloads were dropped meanwhile.
      strictEqual(outages.length, 2, outages.join("\n"));
    });
  },
});

Deno.test({
  name: "a node holds an app's Redis channel only while it has widgets for it",
  ignore: !available,
  async fn() {
    await withTwoNodes(ENV, async ([a, b], redis) => {
      const channel = "cupd:solo";
      const subscribed = (count: number) =>
        eventually(
          async () => await subscribers(redis.port, channel) === count,
          15_000,
        );
      const provider = await TestClient.provider(a.url, "solo");
      const widget = await TestClient.widget(b.url, "solo");
      await subscribed(1);

      await redis.stop();
      await redis.start();
      await subscribed(1);

      await widget.close();
      await subscribed(0);
      await provider.close();
    });
  },
});

Deno.test({
  name: "a relay with REDIS_URL reports the counters of its Redis links",
  ignore: !available,
  async fn() {
    await withRedis(async (redis) => {
      const config = loadConfig({ LOG_LEVEL: "silent", REDIS_URL: redis.url });
      const relay = createRelay({ config, log: new Logger("silent") });
      try {
        await eventually(() => {
          const { bus, presence } = relay.redisStats();
          return bus?.connected === true && presence?.connected === true;
        }, 10_000);
        relay.hub.publish("counted", { n: 1 });
        await eventually(() => relay.redisStats().bus?.published === 1);
        // Announcements go out at start and then periodically.
        await eventually(() => relay.redisStats().presence!.published > 0);

        await redis.stop();
        await eventually(() => relay.redisStats().bus?.failures === 1);
        relay.hub.publish("counted", { n: 2 });
        // Dropped at once, or when the write fails if the publishing
        // connection has not noticed yet.
        await eventually(() => relay.redisStats().bus?.dropped === 1);

        const response = await relay.fetch(new Request("http://relay/metrics"));
        const lines = (await response.text()).split("\n");
        for (
          const line of [
            'cupd_redis_published_total{link="bus"} 1',
            'cupd_redis_dropped_total{link="bus"} 1',
            'cupd_redis_failures_total{link="bus"} 1',
            'cupd_redis_connected{link="bus"} 0',
          ]
        ) {
          strictEqual(lines.includes(line), true, `${line} in /metrics`);
        }
      } finally {
        await relay.shutdown();
      }
    });
  },
});
