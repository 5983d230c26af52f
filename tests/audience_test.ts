import {
  deepStrictEqual as same,
  strictEqual as equal,
} from "node:assert/strict";
import { Audience } from "../src/relay/audience.ts";
import { ManualClock } from "./manual_clock.ts";

const GAP = 250;

/** An audience over totals the test sets by hand. */
function setup() {
  const clock = new ManualClock();
  const totals = new Map<string, number>();
  const audience = new Audience((app) => totals.get(app) ?? 0, clock, GAP);
  const set = (app: string, widgets: number) => {
    totals.set(app, widgets);
    audience.changed([app]);
  };
  return { clock, audience, set };
}

/** A provider socket that records the widget counts it is sent. */
function provider() {
  const seen: number[] = [];
  return {
    seen,
    send: (frame: string) => seen.push(JSON.parse(frame).widgets),
  };
}

Deno.test("audience tells a new provider the current total", () => {
  const { audience, set } = setup();
  set("app", 3);
  const p = provider();
  audience.watch("app", p);
  same(p.seen, [3]);
});

Deno.test("audience frame has the documented shape", () => {
  const { audience } = setup();
  const frames: string[] = [];
  audience.watch("app", { send: (frame) => frames.push(frame) });
  same(frames, ['{"type":"audience","widgets":0}']);
});

Deno.test("audience sends a change at once after a quiet gap", () => {
  const { audience, set } = setup();
  const p = provider();
  audience.watch("app", p);
  set("app", 1);
  same(p.seen, [0, 1]);
});

Deno.test("audience rate-limits and always sends the last total", () => {
  const { clock, audience, set } = setup();
  const p = provider();
  audience.watch("app", p);
  set("app", 1);
  set("app", 2);
  set("app", 3);
  same(p.seen, [0, 1]);

  clock.advance(GAP);
  same(p.seen, [0, 1, 3]);
});

Deno.test("audience does not repeat a total a provider was told", () => {
  const { clock, audience, set } = setup();
  const p = provider();
  audience.watch("app", p);
  set("app", 1);
  set("app", 2);
  set("app", 1);
  clock.advance(GAP);
  same(p.seen, [0, 1]);
});

Deno.test("audience tells only the providers of the changed app", () => {
  const { audience, set } = setup();
  const a = provider();
  const b = provider();
  audience.watch("a", a);
  audience.watch("b", b);
  set("a", 5);
  same(a.seen, [0, 5]);
  same(b.seen, [0]);
});

Deno.test("audience stops telling a provider that stopped watching", () => {
  const { clock, audience, set } = setup();
  const p = provider();
  const stop = audience.watch("app", p);
  set("app", 1);
  set("app", 2);
  stop();
  clock.advance(GAP);
  same(p.seen, [0, 1]);
  equal(audience.apps, 0);
  equal(clock.pending, 0);
});
