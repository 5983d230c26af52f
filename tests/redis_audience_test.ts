/**
 * Audience counts over several relay nodes joined through a real Redis:
 * two `deno run main.ts` processes on different ports, as behind a load
 * balancer.
 */

import {
  deepStrictEqual,
  notStrictEqual as differ,
  ok,
} from "node:assert/strict";
import { eventually, startRelayProcess, TestClient } from "./helpers.ts";
import {
  redisAvailable,
  widgetsReady,
  withRedis,
  withTwoNodes,
} from "./redis_helpers.ts";
import { serveParallel, spreadClients } from "./serve_parallel.ts";

const available = await redisAvailable("Redis audience tests");

const INTERVAL_MS = 250;
const TTL_MS = 1000;
const ENV = {
  CUPD_AUDIENCE_INTERVAL_MS: "50",
  CUPD_PRESENCE_INTERVAL_MS: String(INTERVAL_MS),
  CUPD_PRESENCE_TTL_MS: String(TTL_MS),
};

/** Resolves once `provider` was last told `widgets`. */
function told(provider: TestClient, widgets: number): Promise<void> {
  return eventually(() => provider.audience.at(-1) === widgets, 10_000);
}

Deno.test({
  name: "providers on either node are told the widgets of both nodes",
  ignore: !available,
  async fn() {
    await withTwoNodes(ENV, async ([a, b]) => {
      const onA = await TestClient.provider(a.url, "app");
      const onB = await TestClient.provider(b.url, "app");
      const near = await TestClient.widget(a.url, "app");
      const far1 = await TestClient.widget(b.url, "app");
      const far2 = await TestClient.widget(b.url, "app", "other");
      const both = (widgets: number) =>
        Promise.all([told(onA, widgets), told(onB, widgets)]);

      await both(3);
      await far1.close();
      await both(2);
      near.send({ type: "unsubscribe", name: "app" });
      await both(1);
      await far2.close();
      await both(0);

      await Promise.all([onA, onB, near].map((client) => client.close()));
    });
  },
});

Deno.test({
  name:
    "widgets of a node killed with SIGKILL leave the other node's count within the presence bound",
  ignore: !available,
  async fn() {
    await withTwoNodes(ENV, async ([a, b]) => {
      const provider = await TestClient.provider(a.url, "app");
      const near = await TestClient.widget(a.url, "app");
      const far = [
        await TestClient.widget(b.url, "app"),
        await TestClient.widget(b.url, "app"),
      ];
      await told(provider, 3);

      const killed = performance.now();
      b.child.kill("SIGKILL");
      await b.child.status;
      await told(provider, 1);
      const elapsed = performance.now() - killed;

      // The census bound, plus room for a loaded machine's late timers.
      const bound = TTL_MS + INTERVAL_MS;
      ok(elapsed < bound + 1500, `gone after ${Math.round(elapsed)} ms`);
      await Promise.all([provider, near, ...far].map((c) => c.close()));
    });
  },
});

Deno.test({
  name: "a node that stops normally takes its widgets out of the count at once",
  ignore: !available,
  async fn() {
    // Presence that expires only after a minute: a quick drop can only come
    // from the stopping node's own last words.
    const env = {
      CUPD_AUDIENCE_INTERVAL_MS: "50",
      CUPD_PRESENCE_INTERVAL_MS: "1000",
      CUPD_PRESENCE_TTL_MS: "60000",
    };
    await withTwoNodes(env, async ([a, b]) => {
      const provider = await TestClient.provider(a.url, "app");
      const far = await TestClient.widget(b.url, "app");
      await told(provider, 1);

      await b.stop();
      await far.closed;
      await told(provider, 0);
      await provider.close();
    });
  },
});

Deno.test({
  name:
    "every isolate of a deno serve --parallel node is a member of its own through Redis",
  ignore: !available,
  async fn() {
    await withRedis(async (redis) => {
      const env = { ...ENV, REDIS_URL: redis.url };
      const parallel = await serveParallel(2, env);
      const single = await startRelayProcess(env);
      try {
        const [[first], [second]] = await spreadClients(parallel.url, 2, 1);
        differ(first.isolate, second.isolate);
        const widgets = [first, second];
        for (const widget of widgets) {
          widget.send({ type: "subscribe", name: "app" });
          await widget.expect({ type: "subscribed", name: "app" });
        }
        const provider = await TestClient.provider(single.url, "app");
        await told(provider, 2);

        await widgetsReady(provider, widgets);
        provider.send({ type: "data", data: { n: 1 } });
        for (const widget of widgets) {
          deepStrictEqual((await widget.next(10_000)).data, { n: 1 });
        }
        await first.close();
        await told(provider, 1);
        await Promise.all([second, provider].map((c) => c.close()));
      } finally {
        await single.stop();
        await parallel.close();
      }
    });
  },
});
