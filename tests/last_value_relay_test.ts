/**
 * Last values end to end, on a real relay with real sockets: a widget that
 * subscribes late first receives the app's last value, marked retained,
 * then the live stream.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { CloseCode, ErrorCode } from "../src/protocol/codes.ts";
import { MemoryBus } from "../src/relay/bus_memory.ts";
import { MemoryStore } from "../src/relay/last_value_memory.ts";
import { MemoryPresence } from "../src/relay/presence_memory.ts";
import {
  eventually,
  type Frame,
  startRelay,
  TestClient,
  withRelay,
} from "./helpers.ts";
import {
  expectRefusal,
  makeApp,
  registryJson,
  signedProvider,
  tokenFor,
} from "./auth_helpers.ts";
import { CountingStore } from "./test_stores.ts";

/** Subscribe `widget` to `name` and read the acknowledgement. */
async function subscribe(widget: TestClient, name: string): Promise<void> {
  widget.send({ type: "subscribe", name });
  await widget.expect({ type: "subscribed", name });
}

/** The next data frame, skipping nothing: any other frame fails. */
async function nextData(widget: TestClient): Promise<Frame> {
  const frame = await widget.next();
  strictEqual(
    frame.type,
    "data",
    `expected data, got ${JSON.stringify(frame)}`,
  );
  return frame;
}

Deno.test("a late widget gets the last value first, marked retained, then live frames", async () => {
  await withRelay({}, async ({ url }) => {
    const provider = await TestClient.provider(url, "weather");
    for (const t of [19, 20, 21]) {
      provider.send({ type: "data", data: { t } });
    }
    await provider.sync();

    const widget = await TestClient.connect(url);
    await subscribe(widget, "weather");
    deepStrictEqual(await widget.next(), {
      type: "data",
      name: "weather",
      data: { t: 21 },
      retained: true,
    });

    provider.send({ type: "data", data: { t: 22 } });
    deepStrictEqual(await widget.next(), {
      type: "data",
      name: "weather",
      data: { t: 22 },
    });
    await widget.sync();
    deepStrictEqual(widget.unread, [], "nothing twice");
    await Promise.all([provider.close(), widget.close()]);
  });
});

Deno.test("a payload published over HTTP becomes the last value", async () => {
  await withRelay({}, async ({ url, http }) => {
    const response = await fetch(`${http}/apps/status/data`, {
      method: "POST",
      body: JSON.stringify(["green", 3]),
    });
    strictEqual(response.status, 202);
    await response.body?.cancel();

    const widget = await TestClient.widget(url, "status");
    const frame = await nextData(widget);
    deepStrictEqual([frame.data, frame.retained], [["green", 3], true]);
    await widget.close();
  });
});

Deno.test("an app that never published gives no retained frame", async () => {
  await withRelay({}, async ({ url }) => {
    const widget = await TestClient.widget(url, "silent");
    const provider = await TestClient.provider(url, "silent");
    provider.send({ type: "data", data: "first" });

    // A retained frame would have come before any live one.
    const frame = await nextData(widget);
    deepStrictEqual([frame.data, frame.retained], ["first", undefined]);
    await Promise.all([provider.close(), widget.close()]);
  });
});

Deno.test("subscribing again on the same socket does not repeat the last value", async () => {
  await withRelay({}, async ({ url }) => {
    const provider = await TestClient.provider(url, "app");
    provider.send({ type: "data", data: 1 });
    await provider.sync();

    const widget = await TestClient.widget(url, "app");
    strictEqual((await nextData(widget)).retained, true);
    await subscribe(widget, "app");
    provider.send({ type: "data", data: 2 });
    deepStrictEqual((await nextData(widget)).data, 2);
    strictEqual(widget.frames.filter((f) => f.retained).length, 1);
    await Promise.all([provider.close(), widget.close()]);
  });
});

Deno.test("each app's last value follows its own acknowledgement", async () => {
  await withRelay({}, async ({ url, http }) => {
    for (const [name, data] of [["a", "A"], ["b", "B"]]) {
      const response = await fetch(`${http}/apps/${name}/data`, {
        method: "POST",
        body: JSON.stringify(data),
      });
      await response.body?.cancel();
    }

    const widget = await TestClient.connect(url);
    await subscribe(widget, "a");
    deepStrictEqual((await nextData(widget)).data, "A");
    await subscribe(widget, "b");
    deepStrictEqual((await nextData(widget)).data, "B");
    await widget.close();
  });
});

Deno.test("CUPD_STORE=none retains nothing", async () => {
  await withRelay({ CUPD_STORE: "none" }, async ({ url }) => {
    const provider = await TestClient.provider(url, "app");
    provider.send({ type: "data", data: "gone" });
    await provider.sync();

    const widget = await TestClient.widget(url, "app");
    provider.send({ type: "data", data: "live" });
    deepStrictEqual((await nextData(widget)).data, "live");
    await Promise.all([provider.close(), widget.close()]);
  });
});

Deno.test("a burst of payloads becomes far fewer store writes, the last one kept", async () => {
  const store = new CountingStore(new MemoryStore({ ttlMs: 60_000 }));
  const relay = startRelay(
    { CUPD_LAST_VALUE_FLUSH_MS: "50" },
    new MemoryBus(),
    new MemoryPresence(),
    store,
  );
  try {
    const provider = await TestClient.provider(relay.url, "burst");
    const count = 500;
    for (let seq = 0; seq < count; seq++) {
      provider.send({ type: "data", data: { seq } });
    }
    await provider.sync();

    const last = '{"type":"data","name":"burst","data":{"seq":499}}';
    await eventually(async () =>
      (await store.inner.get("burst"))?.frame === last
    );
    const writes = store.writes.get("burst")!.length;
    ok(writes <= count / 10, `${writes} writes for ${count} payloads`);
    await provider.close();
  } finally {
    await relay.close();
  }
});

Deno.test("a last value expires after CUPD_LAST_VALUE_TTL_MS", async () => {
  const ttl = 1000;
  await withRelay({ CUPD_LAST_VALUE_TTL_MS: String(ttl) }, async ({ url }) => {
    const provider = await TestClient.provider(url, "app");
    provider.send({ type: "data", data: "short-lived" });
    await provider.sync();
    // The relay stamped the payload before answering the ping.
    const published = Date.now();

    const early = await TestClient.widget(url, "app");
    strictEqual((await nextData(early)).retained, true);
    await early.close();

    // The time to live is the point of the test: wait it out.
    await new Promise((r) => setTimeout(r, published + ttl + 50 - Date.now()));
    const late = await TestClient.widget(url, "app");
    provider.send({ type: "data", data: "fresh" });
    const frame = await nextData(late);
    deepStrictEqual([frame.data, frame.retained], ["fresh", undefined]);
    await Promise.all([provider.close(), late.close()]);
  });
});

Deno.test("shutdown writes pending last values to the store", async () => {
  const store = new CountingStore(new MemoryStore({ ttlMs: 60_000 }));
  const relay = startRelay(
    { CUPD_LAST_VALUE_FLUSH_MS: "60000" },
    new MemoryBus(),
    new MemoryPresence(),
    store,
  );
  const provider = await TestClient.provider(relay.url, "app");
  provider.send({ type: "data", data: "first" });
  provider.send({ type: "data", data: "final" });
  await provider.sync();
  strictEqual(store.writeCount, 0, "the flush interval has not passed");

  await relay.close();
  await provider.closed;
  deepStrictEqual(store.writes.get("app")?.map((value) => value.frame), [
    '{"type":"data","name":"app","data":"final"}',
  ]);
});

Deno.test("a private app's last value goes only to a widget whose token passed", async () => {
  const app = await makeApp("vault");
  const env = { CUPD_APPS: registryJson([app], [app]) };
  await withRelay(env, async ({ url }) => {
    const provider = await signedProvider(url, app);
    provider.send({ type: "data", data: "secret" });
    await provider.sync();

    const stranger = await TestClient.connect(url);
    stranger.send({ type: "subscribe", name: "vault" });
    await expectRefusal(stranger, ErrorCode.tokenRequired, CloseCode.forbidden);
    strictEqual(stranger.frames.some((f) => f.type === "data"), false);

    const widget = await TestClient.connect(url);
    const token = await tokenFor(app, "subscribe");
    widget.send({ type: "subscribe", name: "vault", token });
    await widget.expect({ type: "subscribed", name: "vault" });
    const frame = await nextData(widget);
    deepStrictEqual([frame.data, frame.retained], ["secret", true]);
    await Promise.all([provider.close(), widget.close()]);
  });
});
