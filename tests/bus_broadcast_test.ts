import { deepStrictEqual } from "node:assert/strict";
import { BroadcastBus } from "../src/relay/bus_broadcast.ts";
import { eventually } from "./helpers.ts";

Deno.test("broadcast bus delivers to other instances, never to the sender", async () => {
  const prefix = `test-${crypto.randomUUID()}:`;
  const sender = new BroadcastBus(prefix);
  const receiver = new BroadcastBus(prefix);
  const sent: string[] = [];
  const received: string[] = [];
  sender.subscribe("app", (frame) => sent.push(frame));
  receiver.subscribe("app", (frame) => received.push(frame));

  for (let i = 0; i < 100; i++) sender.publish("app", `f${i}`);
  sender.publish("other", "elsewhere");

  await eventually(() => received.length >= 100);
  await receiver.close();
  await sender.close();
  deepStrictEqual(received, Array.from({ length: 100 }, (_, i) => `f${i}`));
  deepStrictEqual(sent, []);
});

Deno.test("broadcast bus stops delivering after unsubscribe", async () => {
  const prefix = `test-${crypto.randomUUID()}:`;
  const sender = new BroadcastBus(prefix);
  const receiver = new BroadcastBus(prefix);
  const received: string[] = [];
  receiver.subscribe("app", (frame) => received.push(frame));
  sender.publish("app", "before");
  await eventually(() => received.length === 1);

  receiver.unsubscribe("app");
  sender.publish("app", "after");
  receiver.subscribe("probe", (frame) => received.push(frame));
  sender.publish("probe", "probe");
  await eventually(() => received.length === 2);

  await receiver.close();
  await sender.close();
  deepStrictEqual(received, ["before", "probe"]);
});
