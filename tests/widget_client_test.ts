/**
 * The widget library (`src/client/widget.js`) run by Deno against a real
 * relay: values, unsubscribing, refused subscriptions and private apps.
 * The same module runs in Chromium in tests/widget_browser_test.ts; its
 * reactions to closes and silence are in tests/widget_reconnect_test.ts.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { RelayError } from "../src/client/widget.js";
import {
  eventually,
  TestClient,
  type TestRelay,
  withRelay,
} from "./helpers.ts";
import {
  makeApp,
  registryJson,
  signedProvider,
  tokenFor,
} from "./auth_helpers.ts";
import { closeOn, openRelay as open } from "./widget_helpers.ts";

/** Wait until the relay has `count` widget subscriptions. */
function subscriptions(relay: TestRelay, count: number): Promise<void> {
  return eventually(() => relay.relay.hub.stats().subscriptions === count);
}

Deno.test("widget receives exactly the provider's values, in order", async () => {
  await withRelay({}, async (server) => {
    const { relay } = open(server.url);
    const received: unknown[] = [];
    relay.subscribe("weather", (data) => received.push(data));
    await subscriptions(server, 1);

    const values = [{ t: 21.5, tags: ["a"] }, "text", 0, null, [1, [2]], true];
    const provider = await TestClient.provider(server.url, "weather");
    for (const data of values) provider.send({ type: "data", data });
    await eventually(() => received.length === values.length);
    deepStrictEqual(received, values);

    await provider.close();
    await closeOn(relay, () => server.relay.connections.size);
  });
});

Deno.test("unsubscribing stops delivery and releases the relay's subscription", async () => {
  await withRelay({}, async (server) => {
    const { relay } = open(server.url);
    const first: unknown[] = [];
    const second: unknown[] = [];
    const stopFirst = relay.subscribe("app", (data) => first.push(data));
    const stopSecond = relay.subscribe("app", (data) => second.push(data));
    await subscriptions(server, 1);
    const provider = await TestClient.provider(server.url, "app");

    provider.send({ type: "data", data: 1 });
    await eventually(() => second.length === 1);
    stopFirst();
    provider.send({ type: "data", data: 2 });
    await eventually(() => second.length === 2);
    deepStrictEqual(first, [1]);

    stopSecond();
    await subscriptions(server, 0);
    await provider.close();
    await closeOn(relay, () => server.relay.connections.size);
  });
});

Deno.test("a refused subscription reaches its onError and spares the others", async () => {
  await withRelay({}, async (server) => {
    const errors: RelayError[] = [];
    const { relay } = open(server.url, { onError: (e) => errors.push(e) });
    const bad: RelayError[] = [];
    relay.subscribe("not a name", () => {}, { onError: (e) => bad.push(e) });
    const received: unknown[] = [];
    relay.subscribe("good", (data) => received.push(data));
    await subscriptions(server, 1);

    const provider = await TestClient.provider(server.url, "good");
    provider.send({ type: "data", data: "still here" });
    await eventually(() => received.length === 1);
    strictEqual(bad.length, 1);
    strictEqual(bad[0].code, "invalid_name");
    strictEqual(bad[0].name, "not a name");
    deepStrictEqual(errors, bad);
    deepStrictEqual(received, ["still here"]);

    await provider.close();
    await closeOn(relay, () => server.relay.connections.size);
  });
});

Deno.test("a refused token drops its app; the others come back after the close", async () => {
  const secret = await makeApp("secret");
  const env = { CUPD_APPS: registryJson([secret], [secret]) };
  await withRelay(env, async (server) => {
    const { relay, events } = open(server.url);
    const refused: RelayError[] = [];
    const received: unknown[] = [];
    relay.subscribe("public", (data) => received.push(data));
    relay.subscribe("secret", () => {}, {
      token: "not.a.token",
      onError: (error) => refused.push(error),
    });

    // The relay closes the socket (4503) over the token; the library drops
    // "secret" and subscribes "public" again on a new socket.
    await eventually(() => refused.length === 1);
    strictEqual(refused[0].name, "secret");
    ok(refused[0].code.startsWith("token_"), refused[0].code);
    await eventually(() =>
      events.some((e) => e.state === "closed" && e.code === 4503)
    );
    await eventually(() => events.at(-1)?.state === "open");
    await subscriptions(server, 1);

    const provider = await TestClient.provider(server.url, "public");
    provider.send({ type: "data", data: "after" });
    await eventually(() => received.length === 1);
    deepStrictEqual(received, ["after"]);

    await provider.close();
    await closeOn(relay, () => server.relay.connections.size);
  });
});

Deno.test("a private app is watched with a genuine token from a token function", async () => {
  const secret = await makeApp("secret");
  const env = { CUPD_APPS: registryJson([secret], [secret]) };
  await withRelay(env, async (server) => {
    const { relay } = open(server.url);
    const received: unknown[] = [];
    relay.subscribe("secret", (data) => received.push(data), {
      token: () => tokenFor(secret, "subscribe"),
    });
    await subscriptions(server, 1);

    const provider = await signedProvider(server.url, secret);
    provider.send({ type: "data", data: { level: 3 } });
    await eventually(() => received.length === 1);
    deepStrictEqual(received, [{ level: 3 }]);

    await provider.close();
    await closeOn(relay, () => server.relay.connections.size);
  });
});
