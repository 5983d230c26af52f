/**
 * Several isolates: `deno serve --parallel` with two workers, joined by
 * `BroadcastChannel`. The welcome frame names the isolate a socket landed
 * on, so the test can spread widgets over both.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { shouldReconnect } from "../src/protocol/codes.ts";
import { TestClient } from "./helpers.ts";
import { serveParallel } from "./serve_parallel.ts";

/** Open widgets until each of two isolates holds at least `each`. */
async function spreadWidgets(url: string, app: string, each: number) {
  const byIsolate = new Map<string, TestClient[]>();
  for (let attempt = 0; attempt < 400; attempt++) {
    const widget = await TestClient.widget(url, app);
    const list = byIsolate.get(widget.isolate) ?? [];
    list.push(widget);
    byIsolate.set(widget.isolate, list);
    const counts = [...byIsolate.values()].map((l) => l.length);
    if (counts.length === 2 && counts.every((n) => n >= each)) break;
  }
  return byIsolate;
}

Deno.test("widgets on both isolates get every payload exactly once, in order", async () => {
  const server = await serveParallel(2);
  const byIsolate = await spreadWidgets(server.url, "multi", 5);
  strictEqual(byIsolate.size, 2, "widgets landed on two isolates");
  const widgets = [...byIsolate.values()].flat();

  // One provider per isolate, so payloads cross the bus both ways.
  const providers = new Map<string, TestClient>();
  for (let attempt = 0; providers.size < 2 && attempt < 100; attempt++) {
    const provider = await TestClient.provider(server.url, "multi");
    if (providers.has(provider.isolate)) await provider.close();
    else providers.set(provider.isolate, provider);
  }
  strictEqual(providers.size, 2, "providers landed on two isolates");

  const perProvider = 100;
  for (const [isolate, provider] of providers) {
    for (let seq = 0; seq < perProvider; seq++) {
      provider.send({ type: "data", data: { from: isolate, seq } });
    }
  }

  for (const widget of widgets) {
    const seen = new Map<string, number[]>();
    for (let i = 0; i < 2 * perProvider; i++) {
      const frame = await widget.next();
      strictEqual(frame.name, "multi");
      const list = seen.get(frame.data.from) ?? [];
      list.push(frame.data.seq);
      seen.set(frame.data.from, list);
    }
    await widget.sync();
    deepStrictEqual(widget.unread, [], "no payload arrives twice");
    const inOrder = Array.from({ length: perProvider }, (_, i) => i);
    for (const isolate of providers.keys()) {
      deepStrictEqual(seen.get(isolate), inOrder);
    }
  }

  const spread = [...byIsolate].map(([id, list]) => `${id}: ${list.length}`);
  // deno-lint-ignore no-console
  console.log(
    `widgets per isolate ${spread.join(", ")}; each received ` +
      `${2 * perProvider} payloads from 2 providers on 2 isolates, in order`,
  );

  // Shutting down closes the sockets of both isolates with a code of the
  // "reconnect" range: the runtime drains `deno serve` itself and says 1001
  // ("going away").
  server.child.kill("SIGTERM");
  const clients = [...widgets, ...providers.values()];
  const codes = await Promise.all(
    clients.map(async (c) => (await c.closed).code),
  );
  ok(codes.every((code) => code === 1001), `close codes: ${codes}`);
  ok(codes.every(shouldReconnect));
  const status = await server.child.status;
  strictEqual(status.code, 0, server.stderr());
});
