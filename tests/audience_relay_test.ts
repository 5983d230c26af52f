import { deepStrictEqual as same } from "node:assert/strict";
import { MemoryBus, MemoryNetwork } from "../src/relay/bus_memory.ts";
import {
  MemoryPresence,
  MemoryPresenceNetwork,
} from "../src/relay/presence_memory.ts";
import { eventually, startRelay, TestClient } from "./helpers.ts";

const FAST = { CUPD_AUDIENCE_INTERVAL_MS: "20" };

/** Wait until the provider's latest audience frame says `widgets`. */
function told(provider: TestClient, widgets: number): Promise<void> {
  return eventually(() => provider.audience.at(-1) === widgets);
}

Deno.test("provider is told its audience as soon as it authenticates", async () => {
  const relay = startRelay(FAST);
  const widgets = [
    await TestClient.widget(relay.url, "app"),
    await TestClient.widget(relay.url, "app", "other"),
    await TestClient.widget(relay.url, "other"),
  ];
  const provider = await TestClient.provider(relay.url, "app");
  await told(provider, 2);
  same(provider.audience, [2]);

  for (const client of [provider, ...widgets]) await client.close();
  await relay.close();
});

Deno.test("provider audience follows widgets that come and go", async () => {
  const relay = startRelay(FAST);
  const provider = await TestClient.provider(relay.url, "app");
  await told(provider, 0);

  const first = await TestClient.widget(relay.url, "app");
  await told(provider, 1);
  const second = await TestClient.widget(relay.url, "app");
  await told(provider, 2);

  await first.close();
  await told(provider, 1);
  second.send({ type: "unsubscribe", name: "app" });
  await told(provider, 0);

  for (const client of [provider, second]) await client.close();
  await relay.close();
});

Deno.test("provider audience counts widgets of other isolates", async () => {
  const buses = new MemoryNetwork();
  const presence = new MemoryPresenceNetwork();
  const start = () =>
    startRelay(
      FAST,
      new MemoryBus(buses),
      new MemoryPresence(presence),
    );
  const [a, b] = [start(), start()];

  const provider = await TestClient.provider(a.url, "app");
  const local = await TestClient.widget(a.url, "app");
  const remote = await TestClient.widget(b.url, "app");
  await told(provider, 2);

  await remote.close();
  await told(provider, 1);

  for (const client of [provider, local]) await client.close();
  await Promise.all([a.close(), b.close()]);
});

Deno.test("audience frame follows the authenticated acknowledgement", async () => {
  const relay = startRelay(FAST);
  const socket = new WebSocket(relay.url);
  const types: string[] = [];
  const closed = new Promise((resolve) => socket.onclose = resolve);
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    types.push(frame.type);
    if (frame.type === "welcome") {
      socket.send(JSON.stringify({ type: "auth", uid: frame.uid, name: "a" }));
    }
  };
  await eventually(() => types.length === 3);
  same(types, ["welcome", "authenticated", "audience"]);

  socket.close();
  await closed;
  await relay.close();
});
