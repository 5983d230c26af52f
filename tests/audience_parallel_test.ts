import { notStrictEqual as differ } from "node:assert/strict";
import { eventually } from "./helpers.ts";
import {
  type Connected,
  serveParallel,
  spreadClients,
} from "./serve_parallel.ts";

const ENV = {
  CUPD_AUDIENCE_INTERVAL_MS: "50",
  CUPD_PRESENCE_INTERVAL_MS: "200",
  CUPD_PRESENCE_TTL_MS: "1000",
};

async function authenticate(client: Connected, name: string): Promise<void> {
  client.send({ type: "auth", uid: client.uid, name });
  await client.expect({ type: "authenticated", name });
}

async function subscribe(client: Connected, name: string): Promise<void> {
  client.send({ type: "subscribe", name });
  await client.expect({ type: "subscribed", name });
}

Deno.test("audience counts widgets on every isolate of deno serve --parallel", async () => {
  const relay = await serveParallel(2, ENV);
  const [[provider, near], [far1, far2]] = await spreadClients(
    relay.url,
    2,
    2,
  );
  const all = [provider, near, far1, far2];
  const told = (widgets: number) =>
    eventually(() => provider.audience.at(-1) === widgets);

  try {
    differ(far1.isolate, provider.isolate);
    await authenticate(provider, "app");
    await told(0);

    await subscribe(near, "app");
    await subscribe(far1, "app");
    await subscribe(far2, "app");
    await told(3);

    await far1.close();
    await told(2);
    far2.send({ type: "unsubscribe", name: "app" });
    await told(1);
    await near.close();
    await told(0);
  } finally {
    await Promise.all(all.map((client) => client.close()));
    await relay.close();
  }
});
