import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { loadConfig } from "../src/config.ts";
import { Logger } from "../src/observe/log.ts";
import { MemoryBus, MemoryNetwork } from "../src/relay/bus_memory.ts";
import { Hub, type Sink } from "../src/relay/hub.ts";
import { MemoryPresence } from "../src/relay/presence_memory.ts";
import { createRelay, type Relay } from "../src/server/relay.ts";
import { eventually, startRelay, TestClient } from "./helpers.ts";

class Recorder implements Sink {
  readonly frames: string[] = [];
  send(frame: string): void {
    this.frames.push(frame);
  }
}

const throwing: Sink = {
  send() {
    throw new Error("sink exploded");
  },
};

Deno.test("a throwing sink does not keep a payload from the other widgets", () => {
  const faults: string[] = [];
  const hub = new Hub(new MemoryBus(), {
    onFault: (where) => faults.push(where),
  });
  const before = new Recorder();
  const after = new Recorder();
  hub.subscribe("app", before);
  hub.subscribe("app", throwing);
  hub.subscribe("app", after);

  hub.publish("app", 1);
  hub.publish("app", 2);

  strictEqual(before.frames.length, 2);
  strictEqual(after.frames.length, 2);
  deepStrictEqual(faults, ["sink", "sink"]);
});

Deno.test("a throwing sink on another isolate never reaches the publisher", () => {
  const network = new MemoryNetwork();
  const publisher = new Hub(new MemoryBus(network));
  const receiver = new Hub(new MemoryBus(network));
  const good = new Recorder();
  receiver.subscribe("app", throwing);
  receiver.subscribe("app", good);

  strictEqual(publisher.publish("app", "x"), 0);
  strictEqual(good.frames.length, 1);
});

Deno.test("a failing bus publish is contained and local widgets still receive", () => {
  const bus = new MemoryBus();
  bus.publish = () => {
    throw new Error("bus down");
  };
  const faults: string[] = [];
  const hub = new Hub(bus, { onFault: (where) => faults.push(where) });
  const widget = new Recorder();
  hub.subscribe("app", widget);

  strictEqual(hub.publish("app", 1), 1);
  strictEqual(widget.frames.length, 1);
  deepStrictEqual(faults, ["bus"]);
});

Deno.test("an exception in one socket's handling closes only that socket", async () => {
  const relay = startRelay();
  const hub = relay.relay.hub;
  const subscribe = hub.subscribe.bind(hub);
  hub.subscribe = (app, sink) => {
    if (app === "boom") throw new Error("subscribe exploded");
    subscribe(app, sink);
  };
  const widget = await TestClient.widget(relay.url, "calm");
  const provider = await TestClient.provider(relay.url, "calm");

  const victim = await TestClient.connect(relay.url);
  victim.send({ type: "subscribe", name: "boom" });
  const event = await victim.closed;
  strictEqual(event.code, 4006);
  strictEqual(event.reason, "internal_error");

  provider.send({ type: "data", data: "still flowing" });
  await widget.expect({ type: "data", data: "still flowing" });
  strictEqual(relay.relay.metrics.faults.value("socket"), 1);
  await Promise.all([widget.close(), provider.close()]);
  await relay.close();
});

/** A relay whose error log lines the test reads. */
function loggedRelay(): { relay: Relay; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = new Logger("error", (line) => lines.push(JSON.parse(line)));
  const relay = createRelay({
    config: loadConfig({ LOG_LEVEL: "error" }),
    log,
    bus: new MemoryBus(),
    presence: new MemoryPresence(),
  });
  return { relay, lines };
}

Deno.test("an unhandled rejection is logged, counted and the isolate lives", async () => {
  const { relay, lines } = loggedRelay();
  Promise.reject(new Error("nobody waited for me"));
  await eventually(() =>
    relay.metrics.faults.value("unhandled_rejection") === 1
  );

  const line = lines.find((l) => l.msg === "unhandled rejection");
  const error = line?.error as { message: string } | undefined;
  strictEqual(error?.message, "nobody waited for me");
  strictEqual(typeof line?.isolate, "string", "logged with the isolate");
  const health = await relay.fetch(new Request("http://relay/healthz"));
  strictEqual(health.status, 200);
  await health.body?.cancel();
  await relay.shutdown();
});

Deno.test("an error thrown from a timer is logged, counted and the isolate lives", async () => {
  const { relay, lines } = loggedRelay();
  setTimeout(() => {
    throw new Error("timer exploded");
  }, 0);
  await eventually(() => relay.metrics.faults.value("uncaught_error") === 1);
  strictEqual(lines.some((l) => l.msg === "uncaught error"), true);
  await relay.shutdown();
});
