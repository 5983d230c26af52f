/**
 * Audience counts over several relay nodes joined through a real Redis:
 * two `deno run main.ts` processes on different ports, as behind a load
 * balancer.
 */

import { ok } from "node:assert/strict";
import { eventually, TestClient } from "./helpers.ts";
import { redisAvailable, withTwoNodes } from "./redis_helpers.ts";

const available = await redisAvailable();
if (!available) {
  // deno-lint-ignore no-console
  console.warn(
    "skipping Redis audience tests: redis-server is missing " +
      "(Debian: apt-get install redis-server)",
  );
}

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
