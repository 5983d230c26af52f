import {
  deepStrictEqual,
  match,
  notStrictEqual,
  strictEqual,
} from "node:assert/strict";
import { eventually, startRelay, TestClient } from "./helpers.ts";

Deno.test("welcome carries a fresh uid of 32 uppercase hex digits", async () => {
  const relay = startRelay();
  const a = await TestClient.connect(relay.url);
  const b = await TestClient.connect(relay.url);
  match(a.uid, /^[0-9A-F]{32}$/);
  notStrictEqual(a.uid, b.uid);
  strictEqual(a.isolate, relay.relay.isolate);
  await a.close();
  await b.close();
  await relay.close();
});

Deno.test("one provider reaches many widgets with every payload in order", async () => {
  const relay = startRelay();
  const widgets = await Promise.all(
    Array.from({ length: 50 }, () => TestClient.widget(relay.url, "ticker")),
  );
  const provider = await TestClient.provider(relay.url, "ticker");
  const payloads: unknown[] = [
    "text",
    0,
    -3.25,
    true,
    null,
    [1, [2, [3]]],
    { nested: { ok: true, list: ["é", "😀"] } },
  ];
  for (let i = 0; i < 200; i++) payloads.push({ seq: i });

  for (const data of payloads) provider.send({ type: "data", data });

  for (const widget of widgets) {
    for (const data of payloads) {
      deepStrictEqual(await widget.next(), {
        type: "data",
        name: "ticker",
        data,
      });
    }
  }
  await Promise.all([...widgets, provider].map((c) => c.close()));
  await relay.close();
});

Deno.test("provider frames that follow the original document literally are relayed", async () => {
  const relay = startRelay();
  const widget = await TestClient.widget(relay.url, "your_app");
  const provider = await TestClient.connect(relay.url);
  provider.send(
    `{"type": "auth", "uid": "${provider.uid}", "name": "your_app"}`,
  );
  await provider.expect({ type: "authenticated", name: "your_app" });
  provider.send({ type: "data", uid: provider.uid, data: { temp: 21.5 } });
  provider.send({ type: "data", data: [1, 2, 3] });

  await widget.expect({ type: "data", name: "your_app", data: { temp: 21.5 } });
  await widget.expect({ type: "data", name: "your_app", data: [1, 2, 3] });
  await Promise.all([widget.close(), provider.close()]);
  await relay.close();
});

Deno.test("two apps never leak into each other", async () => {
  const relay = startRelay();
  const watchA = await TestClient.widget(relay.url, "a");
  const watchB = await TestClient.widget(relay.url, "b");
  const both = await TestClient.widget(relay.url, "a", "b");
  const a = await TestClient.provider(relay.url, "a");
  const b = await TestClient.provider(relay.url, "b");

  for (let i = 0; i < 20; i++) {
    a.send({ type: "data", data: `a${i}` });
    b.send({ type: "data", data: `b${i}` });
  }

  const drain = async (client: TestClient, count: number) => {
    const frames = [];
    for (let i = 0; i < count; i++) frames.push(await client.next());
    await client.sync();
    deepStrictEqual(client.unread, []);
    return frames;
  };
  const onlyA = await drain(watchA, 20);
  const onlyB = await drain(watchB, 20);
  const mixed = await drain(both, 40);
  deepStrictEqual(
    onlyA.map((f) => f.data),
    Array.from({ length: 20 }, (_, i) => `a${i}`),
  );
  deepStrictEqual(onlyB.map((f) => f.name), Array(20).fill("b"));
  deepStrictEqual(
    mixed.filter((f) => f.name === "a").map((f) => f.data),
    onlyA.map((f) => f.data),
  );
  await Promise.all([watchA, watchB, both, a, b].map((c) => c.close()));
  await relay.close();
});

Deno.test("unsubscribe stops delivery for that app only", async () => {
  const relay = startRelay();
  const widget = await TestClient.widget(relay.url, "x", "y");
  const x = await TestClient.provider(relay.url, "x");
  const y = await TestClient.provider(relay.url, "y");

  widget.send({ type: "unsubscribe", name: "x" });
  await widget.expect({ type: "unsubscribed", name: "x" });
  x.send({ type: "data", data: "dropped" });
  await x.sync();
  y.send({ type: "data", data: "kept" });

  await widget.expect({ type: "data", name: "y", data: "kept" });
  await widget.sync();
  deepStrictEqual(widget.unread, []);
  await Promise.all([widget, x, y].map((c) => c.close()));
  await relay.close();
});

Deno.test("a widget's uid in subscribe is optional but checked", async () => {
  const relay = startRelay();
  const widget = await TestClient.connect(relay.url);
  widget.send({ type: "subscribe", uid: widget.uid, name: "app" });
  await widget.expect({ type: "subscribed", name: "app" });
  widget.send({ type: "subscribe", uid: "0".repeat(32), name: "other" });
  await widget.expect({ type: "error", code: "uid_mismatch" });
  await widget.close();
  await relay.close();
});

Deno.test("ping gets pong in every state", async () => {
  const relay = startRelay();
  const fresh = await TestClient.connect(relay.url);
  const provider = await TestClient.provider(relay.url, "p");
  const widget = await TestClient.widget(relay.url, "p");
  for (const client of [fresh, provider, widget]) await client.sync();
  await Promise.all([fresh, provider, widget].map((c) => c.close()));
  await relay.close();
});

Deno.test("healthz reports the isolate and its counts", async () => {
  const relay = startRelay();
  const widget = await TestClient.widget(relay.url, "a", "b");
  const response = await fetch(`${relay.http}/healthz`);
  strictEqual(response.status, 200);
  deepStrictEqual(await response.json(), {
    status: "ok",
    isolate: relay.relay.isolate,
    connections: 1,
    apps: 2,
    subscriptions: 2,
  });
  await widget.close();
  await relay.close();
});

Deno.test("unknown routes and plain GET /ws answer with JSON errors", async () => {
  const relay = startRelay();
  const missing = await fetch(`${relay.http}/nothing`);
  strictEqual(missing.status, 404);
  strictEqual((await missing.json()).error, "not_found");
  const plain = await fetch(`${relay.http}/ws`);
  strictEqual(plain.status, 426);
  strictEqual((await plain.json()).error, "upgrade_required");
  await relay.close();
});

Deno.test("shutdown closes every socket with the reconnect code 4000", async () => {
  const relay = startRelay();
  const widget = await TestClient.widget(relay.url, "app");
  const provider = await TestClient.provider(relay.url, "app");
  await relay.close();
  for (const client of [widget, provider]) {
    const event = await client.closed;
    strictEqual(event.code, 4000);
    strictEqual(event.reason, "shutting_down");
  }
});

Deno.test("a stopping relay turns new sockets away with 4000 and publishes with 503", async () => {
  const relay = startRelay();
  const stopped = relay.relay.shutdown();

  const socket = new WebSocket(relay.url);
  const frames: string[] = [];
  socket.onmessage = (event) => frames.push(event.data);
  const closed = await new Promise<CloseEvent>((resolve) => {
    socket.onclose = resolve;
  });
  strictEqual(closed.code, 4000);
  strictEqual(closed.reason, "shutting_down");
  deepStrictEqual(frames, [], "no welcome: the socket gets no session");

  const response = await fetch(`${relay.http}/apps/app/data`, {
    method: "POST",
    body: "1",
  });
  strictEqual(response.status, 503);
  strictEqual(response.headers.get("retry-after"), "1");
  strictEqual((await response.json()).error, "shutting_down");

  await stopped;
  await relay.close();
});

Deno.test("10,000 connect/subscribe/close cycles leave the hub empty", async () => {
  const relay = startRelay();
  const apps = ["a", "b", "c", "d"];
  const cycle = async (i: number) => {
    const widget = await TestClient.widget(relay.url, apps[i % 4]);
    await widget.close();
  };
  for (let batch = 0; batch < 10_000; batch += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, i) => cycle(batch + i)));
  }

  await eventually(() => relay.relay.connections.size === 0);
  deepStrictEqual(relay.relay.hub.stats(), { apps: 0, subscriptions: 0 });
  await relay.close();
});
