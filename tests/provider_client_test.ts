import {
  deepStrictEqual as same,
  rejects,
  strictEqual as equal,
  throws,
} from "node:assert/strict";
import { connectProvider, type Provider } from "../src/client/provider.ts";
import { MemoryBus, MemoryNetwork } from "../src/relay/bus_memory.ts";
import { fakeRelay } from "./fake_relay.ts";
import { eventually, startRelay, TestClient } from "./helpers.ts";

const QUICK = { minDelayMs: 20, maxDelayMs: 200 };

/** Read the next `count` data payloads of `app` a widget receives. */
async function payloads(widget: TestClient, count: number) {
  const values = [];
  for (let i = 0; i < count; i++) {
    values.push((await widget.expect({ type: "data", name: "app" })).data);
  }
  return values;
}

Deno.test("provider library publishes values widgets receive exactly", async () => {
  const relay = startRelay();
  const widget = await TestClient.widget(relay.url, "app");
  const provider = connectProvider({ url: relay.url, app: "app" });
  await provider.ready;

  const values = ["text", 42, [1, { a: null }], { nested: { ok: true } }];
  for (const value of values) provider.publish(value);
  await provider.flush();
  same(await payloads(widget, values.length), values);

  await provider.close();
  await widget.close();
  await relay.close();
});

Deno.test("provider library reports state changes and the audience", async () => {
  const relay = startRelay({ CUPD_AUDIENCE_INTERVAL_MS: "10" });
  const provider = connectProvider({ url: relay.url, app: "app" });
  const states: string[] = [];
  const audience: number[] = [];
  provider.on("state", (state) => states.push(state));
  provider.on("audience", (widgets) => audience.push(widgets));
  await provider.ready;
  await eventually(() => provider.audience === 0);

  const widget = await TestClient.widget(relay.url, "app");
  await eventually(() => provider.audience === 1);
  await widget.close();
  await eventually(() => provider.audience === 0);
  await provider.close();

  same(states, ["authenticating", "ready", "closed"]);
  same(audience, [0, 1, 0]);
  await relay.close();
});

Deno.test("provider library rejects values without a JSON form", async () => {
  const relay = startRelay();
  const provider = connectProvider({ url: relay.url, app: "app" });
  throws(() => provider.publish(undefined), TypeError);
  throws(() => provider.publish(() => 1), TypeError);
  throws(() => provider.publish(1n), TypeError);
  await provider.close();
  throws(() => provider.publish(1), /closed/);
  await relay.close();
});

Deno.test("provider library queues while the relay restarts and delivers in order", async () => {
  // The widget sits on a second relay joined by the bus, so it watches
  // without a break while the provider's relay goes down and comes back.
  const network = new MemoryNetwork();
  const watching = startRelay({}, new MemoryBus(network));
  const widget = await TestClient.widget(watching.url, "app");
  let relay = startRelay({}, new MemoryBus(network));
  const port = new URL(relay.url).port;

  const provider = connectProvider({
    url: relay.url,
    app: "app",
    queueLimit: 5,
    ...QUICK,
  });
  await provider.ready;
  provider.publish("before");
  await provider.flush();

  await relay.close();
  await eventually(() => provider.state !== "ready");
  for (let i = 0; i < 8; i++) provider.publish(i);
  equal(provider.queued, 5);
  equal(provider.dropped, 3);

  relay = startRelay({ PORT: port }, new MemoryBus(network));
  await eventually(() => provider.state === "ready");
  provider.publish("after");
  await provider.flush();

  same(await payloads(widget, 7), ["before", 3, 4, 5, 6, 7, "after"]);
  equal(provider.queued, 0);

  await provider.close();
  await widget.close();
  await Promise.all([relay.close(), watching.close()]);
});

Deno.test("provider library keeps retrying while the relay is unreachable", async () => {
  const relay = startRelay();
  const url = relay.url;
  await relay.close();

  const provider = connectProvider({ url, app: "app", ...QUICK });
  const states: string[] = [];
  provider.on("state", (state) => states.push(state));
  await eventually(() => states.filter((s) => s === "waiting").length >= 3);

  await provider.close();
  equal(provider.state, "closed");
  await rejects(provider.ready, /closed/);
});

Deno.test("provider library gives up when the relay refuses the handshake", async () => {
  const relay = startRelay();
  const provider: Provider = connectProvider({
    url: relay.url,
    app: "not a name",
    ...QUICK,
  });
  const errors: string[] = [];
  provider.on("error", (error) => errors.push(error.code));

  const closed = await provider.closed;
  equal(closed.code, 4501);
  same(errors, ["invalid_name"]);
  await rejects(provider.ready);
  await relay.close();
});

Deno.test("provider library refuses a key that is not an Ed25519 JWK", async () => {
  const relay = startRelay();
  const provider = connectProvider({
    url: relay.url,
    app: "app",
    privateKey: '{"kty":"RSA"}',
  });
  const closed = await provider.closed;
  equal(closed.code, 0);
  await rejects(provider.ready, /Ed25519/);
  await relay.close();
});

Deno.test("provider flush rejects when its connection breaks unconfirmed", async () => {
  const relay = fakeRelay("UID", { close: 4000 });
  const provider = connectProvider({ url: relay.url, app: "app", ...QUICK });
  await provider.ready;
  provider.publish(1);
  await rejects(provider.flush(), /Connection lost \(4000\)/);

  await provider.close();
  await relay.close();
});
