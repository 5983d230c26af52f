import {
  deepStrictEqual as same,
  strictEqual as equal,
} from "node:assert/strict";
import { Census } from "../src/relay/census.ts";
import { parseAnnouncement } from "../src/relay/presence.ts";
import {
  MemoryPresence,
  MemoryPresenceNetwork,
} from "../src/relay/presence_memory.ts";
import { ManualClock } from "./manual_clock.ts";

const TIMING = { announceEveryMs: 1000, forgetAfterMs: 3000, changeGapMs: 100 };

/** Isolates joined by one in-memory network, sharing one clock. */
function isolates(count: number) {
  const clock = new ManualClock();
  const network = new MemoryPresenceNetwork();
  const changes: string[][] = [];
  const members = Array.from({ length: count }, (_, i) => {
    const channel = new MemoryPresence(network);
    const census = new Census({
      ...TIMING,
      isolate: `iso${i}`,
      channel,
      clock,
      onChange: (apps) => changes.push([`iso${i}`, ...apps]),
    });
    return { census, channel };
  });
  return { clock, changes, members };
}

Deno.test("census sums widget counts over isolates", () => {
  const { members: [a, b, c] } = isolates(3);
  a.census.setLocal("app", 2);
  b.census.setLocal("app", 3);
  c.census.setLocal("other", 1);

  for (const { census } of [a, b, c]) {
    equal(census.total("app"), 5);
    equal(census.total("other"), 1);
  }
});

Deno.test("census reports changed apps of every isolate", () => {
  const { changes, members: [a] } = isolates(2);
  a.census.setLocal("app", 1);
  same(changes, [["iso0", "app"], ["iso1", "app"]]);
});

Deno.test("census announces changes inside the gap once, at its end", () => {
  const { clock, members: [a, b] } = isolates(2);
  a.census.setLocal("app", 1);
  a.census.setLocal("app", 2);
  a.census.setLocal("app", 3);
  equal(b.census.total("app"), 1);

  clock.advance(TIMING.changeGapMs);
  equal(b.census.total("app"), 3);
});

Deno.test("census drops an app whose widgets all left", () => {
  const { clock, members: [a, b] } = isolates(2);
  a.census.setLocal("app", 2);
  clock.advance(TIMING.changeGapMs);
  a.census.setLocal("app", 0);
  clock.advance(TIMING.changeGapMs);

  equal(b.census.total("app"), 0);
  same(a.channel.sent.at(-1)?.counts, {});
});

Deno.test("census forgets an isolate that stops announcing", () => {
  const { clock, members: [a, b] } = isolates(2);
  a.census.setLocal("app", 4);
  equal(b.census.total("app"), 4);

  a.channel.cut();
  clock.advance(TIMING.forgetAfterMs - 1);
  equal(b.census.total("app"), 4);
  clock.advance(TIMING.announceEveryMs + 1);
  equal(b.census.total("app"), 0);
  equal(b.census.members, 0);
});

Deno.test("census keeps an isolate that keeps announcing", () => {
  const { clock, members: [a, b] } = isolates(2);
  a.census.setLocal("app", 4);
  clock.advance(TIMING.forgetAfterMs * 5);
  equal(b.census.total("app"), 4);
});

Deno.test("census forgets an isolate at once when it says goodbye", async () => {
  const { members: [a, b] } = isolates(2);
  a.census.setLocal("app", 4);
  await a.census.close();
  equal(b.census.total("app"), 0);
});

Deno.test("census stops its timers on close", async () => {
  const { clock, members } = isolates(2);
  members[0].census.setLocal("app", 1);
  members[0].census.setLocal("app", 2);
  for (const { census } of members) await census.close();
  equal(clock.pending, 0);
});

Deno.test("census counts app names that are object properties", () => {
  const { clock, members: [a, b] } = isolates(2);
  a.census.setLocal("constructor", 1);
  a.census.setLocal("__proto__", 2);
  clock.advance(TIMING.changeGapMs);
  equal(b.census.total("constructor"), 1);
  equal(b.census.total("__proto__"), 2);
  equal(b.census.total("toString"), 0);
});

Deno.test("announcements parse back and drop bad counts", () => {
  const text = '{"isolate":"x","counts":' +
    '{"a":2,"b":-1,"c":1.5,"d":"3","__proto__":1}}';
  const parsed = parseAnnouncement(text);
  equal(parsed?.isolate, "x");
  same(Object.entries(parsed?.counts ?? {}), [["a", 2], ["__proto__", 1]]);
  equal(parseAnnouncement("{}"), undefined);
  equal(parseAnnouncement("not json"), undefined);
  equal(parseAnnouncement(7), undefined);
});
