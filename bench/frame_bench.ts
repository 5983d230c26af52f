/**
 * Micro-benchmarks of the per-frame path: what one provider `data` frame
 * costs from text in to the same string sent to every widget.
 *
 * Run: `deno task bench:micro`. The `raw` group is what a minimal relay
 * does (`JSON.parse`, `JSON.stringify`), for scale.
 *
 * @module
 */

import { encodeData, parseClientFrame } from "../src/protocol/messages.ts";
import { Session } from "../src/protocol/session.ts";
import type { Bus } from "../src/relay/bus.ts";
import { Hub, type Sink } from "../src/relay/hub.ts";

const UID = "ACA764FEF7ED43D3BF7D31472B952987";
const LIMITS = { maxFrameBytes: 65536, maxSubscriptions: 100, maxErrors: 10 };
const PAYLOAD = { t: 1234567890123, n: 4242, p: "x".repeat(32) };
const FRAME = JSON.stringify({ type: "data", data: PAYLOAD });
const NESTED = JSON.stringify({
  type: "data",
  data: {
    sensors: Array.from({ length: 20 }, (_, i) => ({ id: i, v: i * 1.5 })),
  },
});

/** A bus that drops everything: the cost of the bus is not measured here. */
const nullBus: Bus = {
  subscribe() {},
  unsubscribe() {},
  publish() {},
  close: () => Promise.resolve(),
};

/** Counts frames like a socket's `send` would take them. */
class CountingSink implements Sink {
  frames = 0;
  send(_frame: string): void {
    this.frames++;
  }
}

function providerSession(): Session {
  const session = new Session(UID, LIMITS);
  session.receiveText(JSON.stringify({ type: "auth", uid: UID, name: "app" }));
  return session;
}

function hubWith(widgets: number): Hub {
  const hub = new Hub(nullBus);
  for (let i = 0; i < widgets; i++) hub.subscribe("app", new CountingSink());
  return hub;
}

let sink: unknown;

Deno.bench("raw: JSON.parse a data frame", { group: "parse" }, () => {
  sink = JSON.parse(FRAME);
});

Deno.bench(
  "parseClientFrame (data)",
  { group: "parse", baseline: true },
  () => {
    sink = parseClientFrame(FRAME);
  },
);

Deno.bench("parseClientFrame (data, 20 nested objects)", {
  group: "parse",
}, () => {
  sink = parseClientFrame(NESTED);
});

const session = providerSession();
Deno.bench("Session.receiveText (provider data)", { group: "parse" }, () => {
  sink = session.receiveText(FRAME);
});

Deno.bench("raw: JSON.stringify a payload", { group: "encode" }, () => {
  sink = JSON.stringify(PAYLOAD);
});

Deno.bench("encodeData", { group: "encode", baseline: true }, () => {
  sink = encodeData("app", PAYLOAD);
});

for (const widgets of [1, 100, 1000]) {
  const hub = hubWith(widgets);
  Deno.bench(`Hub.publish to ${widgets} sinks`, {
    group: `fan-out ${widgets}`,
    baseline: true,
  }, () => {
    sink = hub.publish("app", PAYLOAD);
  });

  const sinks = Array.from({ length: widgets }, () => new CountingSink());
  const set = new Set(sinks);
  Deno.bench(`raw: stringify, loop over ${widgets} sinks`, {
    group: `fan-out ${widgets}`,
  }, () => {
    const frame = encodeData("app", PAYLOAD);
    for (const s of set) s.send(frame);
  });
}

const fullSession = providerSession();
const fullHub = hubWith(100);
Deno.bench("data frame in, 100 widgets out (session + hub)", {
  group: "path",
}, () => {
  for (const effect of fullSession.receiveText(FRAME)) {
    if (effect.kind === "publish") fullHub.publish(effect.name, effect.data);
  }
});

Deno.bench("raw: parse, stringify, 100 widgets out", { group: "path" }, () => {
  const frame = JSON.parse(FRAME);
  const text = encodeData("app", frame.data);
  for (let i = 0; i < 100; i++) sink = text;
});

// Keep results observable so nothing is optimized away.
globalThis.addEventListener("unload", () => {
  if (sink === Symbol.for("never")) throw new Error("unreachable");
});
