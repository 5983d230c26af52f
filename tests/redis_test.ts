/**
 * Several relays joined through a real Redis: two `deno run main.ts`
 * processes on different ports, as behind a load balancer.
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import { type RelayProcess, startRelayProcess, TestClient } from "./helpers.ts";
import { redisAvailable, RedisServer } from "./redis_helpers.ts";

const available = await redisAvailable();
if (!available) {
  // deno-lint-ignore no-console
  console.warn(
    "skipping Redis tests: redis-server is missing " +
      "(Debian: apt-get install redis-server)",
  );
}

/** Run `body` with a Redis and two relays using it; clean up after. */
async function withTwoNodes(
  body: (nodes: RelayProcess[], redis: RedisServer) => Promise<void>,
): Promise<void> {
  const redis = new RedisServer();
  await redis.start();
  const nodes: RelayProcess[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      nodes.push(await startRelayProcess({ REDIS_URL: redis.url }));
    }
    await body(nodes, redis);
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    await redis.stop();
  }
}

/** Read `count` data frames and return their payloads. */
async function payloads(widget: TestClient, count: number) {
  const values = [];
  for (let i = 0; i < count; i++) values.push((await widget.next()).data);
  return values;
}

/**
 * Wait until every widget receives the provider's payloads (the bus
 * subscriptions are in place), then read the probes away.
 */
async function widgetsReady(
  provider: TestClient,
  widgets: TestClient[],
): Promise<void> {
  let probe = 0;
  const arrived = () =>
    widgets.every((w) => w.unread.some((f) => f.data?.probe === probe));
  for (; probe < 100; probe++) {
    provider.send({ type: "data", data: { probe } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (arrived()) break;
  }
  for (const widget of widgets) {
    while ((await widget.next()).data?.probe !== probe);
  }
}

Deno.test({
  name: "relays on two nodes deliver every payload exactly once, in order",
  ignore: !available,
  async fn() {
    await withTwoNodes(async ([a, b]) => {
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
    "delivery between nodes resumes after Redis restarts, local fan-out never stops",
  ignore: !available,
  async fn() {
    await withTwoNodes(async ([a, b], redis) => {
      const local = await TestClient.widget(a.url, "live");
      const remote = await TestClient.widget(b.url, "live");
      const provider = await TestClient.provider(a.url, "live");
      await widgetsReady(provider, [local, remote]);

      await redis.stop();
      for (let seq = 0; seq < 20; seq++) {
        provider.send({ type: "data", data: { outage: seq } });
      }
      deepStrictEqual(
        await payloads(local, 20),
        Array.from({ length: 20 }, (_, seq) => ({ outage: seq })),
        "local widgets keep receiving while Redis is down",
      );

      await redis.start();
      let resumed = false;
      for (let attempt = 0; attempt < 200 && !resumed; attempt++) {
        provider.send({ type: "data", data: { after: attempt } });
        await new Promise((resolve) => setTimeout(resolve, 50));
        resumed = remote.unread.some((f) => f.data?.after !== undefined);
      }
      ok(resumed, "remote widget receives again without relay restarts");
      await Promise.all([local, remote, provider].map((c) => c.close()));
    });
  },
});
