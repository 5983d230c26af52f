/**
 * Last values through the hub: retained frames first, live frames never
 * overtaken or repeated, across hubs sharing a bus and a store as the
 * isolates of one process share BroadcastChannel and a KV file.
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { Logger } from "../src/observe/log.ts";
import { MemoryBus, MemoryNetwork } from "../src/relay/bus_memory.ts";
import { Hub, type Sink } from "../src/relay/hub.ts";
import type { LastValueStore } from "../src/relay/last_value.ts";
import { LastValueCache } from "../src/relay/last_value_cache.ts";
import { MemoryStore } from "../src/relay/last_value_memory.ts";
import { RelayMetrics, utf8Length } from "../src/observe/relay_metrics.ts";
import { ManualClock } from "./manual_clock.ts";
import { GatedStore } from "./test_stores.ts";

const FLUSH_MS = 100;
const TTL_MS = 60_000;
const READ_TIMEOUT_MS = 2000;

class Recorder implements Sink {
  readonly frames: string[] = [];
  send(frame: string): void {
    this.frames.push(frame);
  }
  /** Payloads, with `R:` before retained ones. */
  get seen(): string[] {
    return this.frames.map((text) => {
      const frame = JSON.parse(text);
      return (frame.retained ? "R:" : "") + frame.data;
    });
  }
}

/** Isolates sharing one bus network, one store and one clock. */
function world(wrap: (store: LastValueStore) => LastValueStore = (s) => s) {
  const clock = new ManualClock();
  const wall = { time: 1_700_000_000_000 };
  const store = wrap(new MemoryStore({ ttlMs: TTL_MS, now: () => wall.time }));
  const network = new MemoryNetwork();
  const isolate = (metrics?: RelayMetrics) => {
    const cache = new LastValueCache({
      store,
      clock,
      now: () => wall.time,
      ttlMs: TTL_MS,
      flushMs: FLUSH_MS,
      log: new Logger("silent"),
      readTimeoutMs: READ_TIMEOUT_MS,
    });
    return new Hub(new MemoryBus(network), { lastValues: cache, metrics });
  };
  return { clock, wall, isolate };
}

/** Subscribe as the socket glue does: subscribe, acknowledge, replay. */
function join(hub: Hub, app: string): Recorder {
  const sink = new Recorder();
  hub.subscribe(app, sink);
  hub.replay(app, sink);
  return sink;
}

/** Let store reads and their callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("a new widget receives the last value first, marked retained, then live frames", async () => {
  const { isolate } = world();
  const hub = isolate();
  hub.publish("app", "a");

  const widget = join(hub, "app");
  await settle();
  hub.publish("app", "b");

  deepStrictEqual(widget.seen, ["R:a", "b"]);
  deepStrictEqual(JSON.parse(widget.frames[0]), {
    type: "data",
    name: "app",
    data: "a",
    retained: true,
  });
});

Deno.test("a widget joining an app its isolate watches gets the value synchronously", () => {
  const { isolate } = world();
  const hub = isolate();
  join(hub, "app");
  hub.publish("app", { n: 1 });

  const late = join(hub, "app");
  deepStrictEqual(late.seen, ["R:[object Object]"]);
  deepStrictEqual(JSON.parse(late.frames[0]).data, { n: 1 });
});

Deno.test("no retained frame for an app that never published", async () => {
  const { isolate } = world();
  const hub = isolate();
  const widget = join(hub, "quiet");
  await settle();
  hub.publish("quiet", "first");
  deepStrictEqual(widget.seen, ["first"]);
});

Deno.test("a late widget on another isolate gets the value once it is flushed", async () => {
  const { clock, isolate } = world();
  const [a, b] = [isolate(), isolate()];
  a.publish("app", "v1");

  // Not written yet: the other isolate has nothing to give.
  const early = join(b, "app");
  await settle();
  deepStrictEqual(early.seen, []);
  b.unsubscribe("app", early);

  clock.advance(FLUSH_MS);
  await settle();
  const late = join(b, "app");
  await settle();
  deepStrictEqual(late.seen, ["R:v1"]);
});

Deno.test("live frames are held during the read and the older read value is dropped", async () => {
  let gate!: GatedStore;
  const { clock, isolate } = world((store) => gate = new GatedStore(store));
  const [a, b] = [isolate(), isolate()];
  a.publish("app", "v1");
  clock.advance(FLUSH_MS);
  await settle();

  const widget = join(b, "app");
  strictEqual(gate.waiting, 1);
  a.publish("app", "v2"); // crosses the bus while b still reads
  deepStrictEqual(widget.seen, [], "held until the read settles");

  gate.open();
  await settle();
  deepStrictEqual(widget.seen, ["v2"], "v1 is older than v2: not sent");

  a.publish("app", "v3");
  deepStrictEqual(widget.seen, ["v2", "v3"]);
});

Deno.test("the read value goes first when nothing newer came meanwhile", async () => {
  let gate!: GatedStore;
  const { clock, isolate } = world((store) => gate = new GatedStore(store));
  const [a, b] = [isolate(), isolate()];
  a.publish("app", "v1");
  clock.advance(FLUSH_MS);
  await settle();

  const widget = join(b, "app");
  gate.open();
  await settle();
  a.publish("app", "v2");
  deepStrictEqual(widget.seen, ["R:v1", "v2"]);
});

Deno.test("a widget that leaves during the read receives nothing", async () => {
  let gate!: GatedStore;
  const { isolate } = world((store) => gate = new GatedStore(store));
  const hub = isolate();
  hub.publish("app", "v1");
  const other = isolate();

  const widget = join(other, "app");
  other.unsubscribe("app", widget);
  gate.open();
  await settle();
  deepStrictEqual(widget.seen, []);
});

Deno.test("subscribing again during a read gives the value once", async () => {
  let gate!: GatedStore;
  const { clock, isolate } = world((store) => gate = new GatedStore(store));
  const [a, b] = [isolate(), isolate()];
  a.publish("app", "v1");
  clock.advance(FLUSH_MS);
  await settle();

  const widget = new Recorder();
  b.subscribe("app", widget);
  b.replay("app", widget);
  b.unsubscribe("app", widget);
  b.subscribe("app", widget);
  b.replay("app", widget);
  gate.open();
  await settle();
  deepStrictEqual(widget.seen, ["R:v1"]);
});

Deno.test("an expired last value is not replayed", async () => {
  const { clock, wall, isolate } = world();
  const [a, b] = [isolate(), isolate()];
  const watcher = join(a, "app");
  a.publish("app", "old");
  clock.advance(FLUSH_MS);
  await settle();

  wall.time += TTL_MS;
  deepStrictEqual(join(a, "app").seen, [], "from the isolate's copy");
  const remote = join(b, "app");
  await settle();
  deepStrictEqual(remote.seen, [], "from the store");
  deepStrictEqual(watcher.seen, ["old"]);
});

Deno.test("a store that does not answer delays live frames only until the read timeout", async () => {
  let gate!: GatedStore;
  const { clock, isolate } = world((store) => gate = new GatedStore(store));
  const [a, b] = [isolate(), isolate()];

  const widget = join(b, "app");
  a.publish("app", "live");
  deepStrictEqual(widget.seen, []);

  clock.advance(READ_TIMEOUT_MS);
  await settle();
  deepStrictEqual(widget.seen, ["live"]);
  gate.open();
  await settle();
  deepStrictEqual(widget.seen, ["live"], "the late answer is ignored");
});

Deno.test("a failed store read counts as no value", async () => {
  let gate!: GatedStore;
  const { isolate } = world((store) => gate = new GatedStore(store));
  const [a, b] = [isolate(), isolate()];

  const widget = join(b, "app");
  a.publish("app", "live");
  gate.fail();
  await settle();
  deepStrictEqual(widget.seen, ["live"]);
});

Deno.test("widgets joining during one read share a single store read", async () => {
  let gate!: GatedStore;
  const { isolate } = world((store) => gate = new GatedStore(store));
  const hub = isolate();
  const widgets = [join(hub, "app"), join(hub, "app"), join(hub, "app")];
  strictEqual(gate.waiting, 1);
  gate.open();
  await settle();
  for (const widget of widgets) deepStrictEqual(widget.seen, []);
});

/** What a hub's metrics say it sent. */
function sent(metrics: RelayMetrics) {
  return {
    delivered: metrics.delivered.value,
    framesOut: metrics.framesOut.value,
    bytesOut: metrics.bytesOut.value,
  };
}

Deno.test("frames held for a widget that leaves during the read are not counted as sent", async () => {
  let gate!: GatedStore;
  const { isolate } = world((store) => gate = new GatedStore(store));
  const metrics = new RelayMetrics();
  const [a, b] = [isolate(), isolate(metrics)];

  const widget = join(b, "app");
  a.publish("app", "held");
  b.unsubscribe("app", widget);
  gate.open();
  await settle();
  deepStrictEqual(widget.seen, []);
  deepStrictEqual(sent(metrics), { delivered: 0, framesOut: 0, bytesOut: 0 });
  strictEqual(metrics.busIn.value, 1);
});

Deno.test("held frames are counted once, when the read settles and they are sent", async () => {
  let gate!: GatedStore;
  const { isolate } = world((store) => gate = new GatedStore(store));
  const metrics = new RelayMetrics();
  const [a, b] = [isolate(), isolate(metrics)];
  const watcher = join(b, "app");
  gate.open();
  await settle();

  const widget = join(b, "app");
  a.publish("app", "live");
  const frame = watcher.frames[0];
  deepStrictEqual(sent(metrics), {
    delivered: 1,
    framesOut: 1,
    bytesOut: utf8Length(frame),
  }, "only the watcher has it yet");

  gate.open();
  await settle();
  deepStrictEqual(widget.frames, [frame]);
  deepStrictEqual(sent(metrics), {
    delivered: 2,
    framesOut: 2,
    bytesOut: 2 * utf8Length(frame),
  });
});
