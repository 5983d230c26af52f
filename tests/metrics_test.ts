/**
 * `/metrics` must tell the truth: the test does a known sequence of things
 * against two relays joined by a bus and compares every counter with
 * exactly what it did.
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { MemoryBus, MemoryNetwork } from "../src/relay/bus_memory.ts";
import { MemoryPresence } from "../src/relay/presence_memory.ts";
import { utf8Length } from "../src/observe/relay_metrics.ts";
import { Registry } from "../src/observe/metrics.ts";
import { eventually, startRelay, TestClient } from "./helpers.ts";
import { RawSocket } from "./raw_ws.ts";

/** Series name (with labels) → value, from the Prometheus text format. */
async function scrape(http: string): Promise<Map<string, number>> {
  const response = await fetch(`${http}/metrics`);
  strictEqual(
    response.headers.get("content-type")?.startsWith("text/plain"),
    true,
  );
  const series = new Map<string, number>();
  for (const line of (await response.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

/** Every frame a test client received, as the relay serialized it. */
function receivedBy(client: TestClient): string[] {
  return [
    ...client.frames.map((frame) => JSON.stringify(frame)),
    ...client.audience.map((widgets) =>
      JSON.stringify({ type: "audience", widgets })
    ),
  ];
}

const sum = (texts: string[]) =>
  texts.reduce((total, text) => total + utf8Length(text), 0);

Deno.test("registry renders counters, families and gauges in the text format", () => {
  const registry = new Registry();
  registry.counter("a_total", "plain").inc(2);
  const family = registry.family("b_total", 'with "label"', "code");
  family.get(4002).value++;
  family.get('x"y').inc(3);
  registry.gauge("c", "gauge", () => 1.5);
  strictEqual(
    registry.render(),
    [
      "# HELP a_total plain",
      "# TYPE a_total counter",
      "a_total 2",
      '# HELP b_total with "label"',
      "# TYPE b_total counter",
      'b_total{code="4002"} 1',
      'b_total{code="x\\"y"} 3',
      "# HELP c gauge",
      "# TYPE c gauge",
      "c 1.5",
      "",
    ].join("\n"),
  );
});

Deno.test("a label chosen by clients cannot grow a family without bound", () => {
  const family = new Registry().family("x_total", "h", "code");
  for (let code = 0; code < 1000; code++) family.get(code).value++;
  strictEqual(family.entries().length <= 65, true);
  strictEqual(family.value("other"), 1000 - 64);
});

Deno.test("metrics count exactly what clients did", async () => {
  const network = new MemoryNetwork();
  const a = startRelay(
    {
      CUPD_MAX_CONNECTIONS: "7",
      CUPD_MAX_FRAME_BYTES: "1048576",
      CUPD_SLOW_CONSUMER_BYTES: "65536",
      CUPD_SLOW_CONSUMER_MS: "0",
      CUPD_PROVIDER_RATE: "3",
      CUPD_PROVIDER_BYTE_RATE: "0",
      CUPD_APP_RATE: "0",
      CUPD_APP_BYTE_RATE: "0",
      CUPD_AUDIENCE_INTERVAL_MS: "0",
    },
    new MemoryBus(network),
    new MemoryPresence(),
  );
  const b = startRelay({}, new MemoryBus(network), new MemoryPresence());
  const sent: string[] = []; // every text frame sent to relay a
  const send = (client: TestClient, frame: unknown) => {
    const text = typeof frame === "string" ? frame : JSON.stringify(frame);
    sent.push(text);
    client.send(text);
  };
  const sync = async (client: TestClient) => {
    send(client, { type: "ping" });
    while ((await client.next()).type !== "pong");
  };
  const subscribe = { type: "subscribe", name: "feed" };

  // Seven sockets: three widgets, two providers, a stuck widget, a newcomer.
  const widgets = [];
  for (let i = 0; i < 3; i++) {
    const widget = await TestClient.connect(a.url);
    send(widget, subscribe);
    await widget.expect({ type: "subscribed" });
    widgets.push(widget);
  }
  const providers = [];
  for (const name of ["feed", "hog"]) {
    const provider = await TestClient.connect(a.url);
    send(provider, { type: "auth", uid: provider.uid, name });
    await provider.expect({ type: "authenticated" });
    providers.push(provider);
  }
  const [feed, hog] = providers;
  const stuck = await RawSocket.connect(a.url);
  const stuckFrames = [new TextDecoder().decode((await stuck.read())!.payload)];
  const subscribeBig = JSON.stringify({ type: "subscribe", name: "big" });
  sent.push(subscribeBig);
  await stuck.sendText(subscribeBig);
  stuckFrames.push(new TextDecoder().decode((await stuck.read())!.payload));
  const newcomer = await TestClient.connect(a.url);
  const remote = await TestClient.widget(b.url, "feed");

  // An eighth is refused.
  const refused = await TestClient.connect(a.url).catch((error) => error);
  strictEqual(refused instanceof Error, true, "refused socket got no welcome");
  await eventually(() => a.relay.metrics.closes.value(4003) === 1);

  // Bad frames, then a handshake with the wrong uid.
  send(newcomer, "{bad");
  newcomer.socket.send(new Uint8Array([1, 2, 3]));
  send(newcomer, { type: "nope" });
  await sync(newcomer);
  send(newcomer, { type: "auth", uid: "0".repeat(32), name: "feed" });
  await newcomer.closed;
  await eventually(() => a.relay.metrics.closes.value(4501) === 1);

  // Three payloads to three local widgets and one remote; four frames to
  // an app with no widgets, the fourth over the provider's rate.
  for (let i = 0; i < 3; i++) send(feed, { type: "data", data: i });
  for (let i = 0; i < 4; i++) send(hog, { type: "data", data: i });
  await sync(feed);
  await sync(hog);
  await fetch(`${a.http}/apps/feed/data`, { method: "POST", body: "42" })
    .then((r) => r.body?.cancel());

  // Big payloads over HTTP until the stuck widget is closed as slow.
  const fill = "x".repeat(256 * 1024);
  let posts = 0;
  const bigFrames: string[] = [];
  while (a.relay.hub.widgets("big") > 0 && posts < 400) {
    const data = { i: posts, fill };
    const response = await fetch(`${a.http}/apps/big/data`, {
      method: "POST",
      body: JSON.stringify(data),
    });
    await response.body?.cancel();
    strictEqual(response.status, 202);
    bigFrames.push(
      `{"type":"data","name":"big","data":${JSON.stringify(data)}}`,
    );
    posts++;
  }
  strictEqual(a.relay.hub.widgets("big"), 0, `slow after ${posts} posts`);
  for (const client of [...widgets, feed, hog]) await sync(client);
  for (const widget of widgets) {
    strictEqual(widget.frames.filter((f) => f.type === "data").length, 4);
  }

  const m = await scrape(a.http);
  const written = [
    ...[...widgets, feed, hog, newcomer].flatMap(receivedBy),
    ...stuckFrames,
    ...bigFrames.slice(0, -1), // the last was dropped, not written
    JSON.stringify({
      type: "error",
      code: "too_many_connections",
      message: "This relay holds too many connections; try again later",
    }),
  ];
  const published = 3 + 3 + 1 + posts;
  deepStrictEqual(
    Object.fromEntries(
      // Store writes follow the flush timer: the last-value counters are
      // tested in last_value_redis_fault_test.ts.
      [...m].filter(([k]) =>
        !k.startsWith("process_") && !k.startsWith("cupd_heap") &&
        !k.startsWith("cupd_last_value_")
      ),
    ),
    {
      'cupd_connections{role="new"}': 0,
      'cupd_connections{role="provider"}': 2,
      'cupd_connections{role="widget"}': 3,
      cupd_connections_opened_total: 7,
      'cupd_connections_refused_total{reason="isolate"}': 1,
      cupd_frames_in_total: sent.length,
      cupd_binary_frames_in_total: 1,
      cupd_bytes_in_total: sum(sent),
      cupd_frames_out_total: written.length,
      cupd_bytes_out_total: sum(written),
      cupd_payloads_published_total: published,
      cupd_http_payloads_published_total: 1 + posts,
      cupd_payloads_delivered_total: 3 * 4 + posts,
      'cupd_drops_total{reason="not_open"}': 0,
      'cupd_drops_total{reason="slow_consumer"}': 1,
      'cupd_drops_total{reason="rate_limited"}': 1,
      'cupd_closes_total{code="4003"}': 1,
      'cupd_closes_total{code="4501"}': 1,
      'cupd_server_closes_total{reason="too_many_connections"}': 1,
      'cupd_server_closes_total{reason="uid_mismatch"}': 1,
      'cupd_server_closes_total{reason="slow_consumer"}': 1,
      'cupd_errors_total{code="too_many_connections"}': 1,
      'cupd_errors_total{code="invalid_json"}': 1,
      'cupd_errors_total{code="binary_not_supported"}': 1,
      'cupd_errors_total{code="unknown_type"}': 1,
      'cupd_errors_total{code="uid_mismatch"}': 1,
      'cupd_errors_total{code="rate_limited"}': 1,
      'cupd_auth_failures_total{via="ws"}': 1,
      cupd_bus_messages_in_total: 0,
      cupd_bus_messages_out_total: published,
    },
  );
  strictEqual(m.get("process_resident_memory_bytes")! > 0, true);
  strictEqual(m.get("cupd_last_value_read_failures_total"), 0);
  strictEqual(m.get("cupd_last_value_write_failures_total"), 0);

  const remoteMetrics = await scrape(b.http);
  strictEqual(remoteMetrics.get("cupd_bus_messages_in_total"), 4);
  strictEqual(remoteMetrics.get("cupd_payloads_delivered_total"), 4);
  strictEqual(remote.frames.filter((f) => f.type === "data").length, 4);

  // Every close is counted once, and no socket is left in a role.
  stuck.abort();
  await Promise.all([...widgets, feed, hog, remote].map((c) => c.close()));
  await eventually(() => a.relay.connections.size === 0);
  const after = await scrape(a.http);
  const closes = [...after].filter(([k]) => k.startsWith("cupd_closes_total"));
  strictEqual(closes.reduce((total, [, n]) => total + n, 0), 8);
  for (const role of ["new", "provider", "widget"]) {
    strictEqual(after.get(`cupd_connections{role="${role}"}`), 0);
  }
  await a.close();
  await b.close();
});
