import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { Hub, type Sink } from "../src/relay/hub.ts";
import { MemoryBus, MemoryNetwork } from "../src/relay/bus_memory.ts";

class Recorder implements Sink {
  readonly frames: string[] = [];
  send(frame: string): void {
    this.frames.push(frame);
  }
}

Deno.test("hub sends the same serialized string to every local widget", () => {
  const hub = new Hub(new MemoryBus());
  const sinks = [new Recorder(), new Recorder(), new Recorder()];
  for (const sink of sinks) hub.subscribe("app", sink);

  strictEqual(hub.publish("app", { v: [1, "two"] }), 3);

  const expected = '{"type":"data","name":"app","data":{"v":[1,"two"]}}';
  for (const sink of sinks) deepStrictEqual(sink.frames, [expected]);
});

Deno.test("hub never delivers one app's payloads to another app", () => {
  const hub = new Hub(new MemoryBus());
  const a = new Recorder();
  const b = new Recorder();
  hub.subscribe("a", a);
  hub.subscribe("b", b);

  hub.publish("a", 1);

  strictEqual(a.frames.length, 1);
  strictEqual(b.frames.length, 0);
});

Deno.test("hubs on a shared bus deliver every payload exactly once", () => {
  const network = new MemoryNetwork();
  const hubs = [0, 1, 2].map(() => new Hub(new MemoryBus(network)));
  const sinks = hubs.map((hub) => {
    const sink = new Recorder();
    hub.subscribe("app", sink);
    return sink;
  });

  hubs[0].publish("app", "first");
  hubs[2].publish("app", "second");

  for (const sink of sinks) {
    deepStrictEqual(sink.frames.map((f) => JSON.parse(f).data), [
      "first",
      "second",
    ]);
  }
});

Deno.test("hub holds a bus subscription only while it has local widgets", () => {
  const bus = new MemoryBus();
  const hub = new Hub(bus);
  const one = new Recorder();
  const two = new Recorder();

  hub.subscribe("app", one);
  hub.subscribe("app", two);
  deepStrictEqual(bus.apps, ["app"]);

  hub.unsubscribe("app", one);
  deepStrictEqual(bus.apps, ["app"]);
  hub.unsubscribe("app", two);
  deepStrictEqual(bus.apps, []);
  deepStrictEqual(hub.stats(), { apps: 0, subscriptions: 0 });
});

Deno.test("hub publishes to the bus even without local widgets", () => {
  const network = new MemoryNetwork();
  const hub = new Hub(new MemoryBus(network));
  strictEqual(hub.publish("app", null), 0);
  deepStrictEqual(network.published, [
    { app: "app", frame: '{"type":"data","name":"app","data":null}' },
  ]);
});

Deno.test("hub subscribe and unsubscribe are idempotent", () => {
  const hub = new Hub(new MemoryBus());
  const sink = new Recorder();
  hub.subscribe("app", sink);
  hub.subscribe("app", sink);
  strictEqual(hub.widgets("app"), 1);
  hub.unsubscribe("app", sink);
  hub.unsubscribe("app", sink);
  hub.unsubscribe("other", sink);
  deepStrictEqual(hub.stats(), { apps: 0, subscriptions: 0 });
});
