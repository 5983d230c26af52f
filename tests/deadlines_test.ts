import {
  deepStrictEqual as same,
  ok,
  strictEqual as equal,
  throws,
} from "node:assert/strict";
import { Deadlines } from "../src/server/deadlines.ts";
import { ManualClock } from "./manual_clock.ts";

Deno.test("each deadline runs once, when it falls due, in order", () => {
  const clock = new ManualClock();
  const deadlines = new Deadlines(clock, 100);
  const ran: string[] = [];
  deadlines.add(() => ran.push(`a@${clock.now()}`));
  clock.advance(30);
  deadlines.add(() => ran.push(`b@${clock.now()}`));
  clock.advance(60);
  deadlines.add(() => ran.push(`c@${clock.now()}`));
  equal(clock.pending, 1, "one timer, whatever the number of deadlines");
  equal(deadlines.pending, 3);

  clock.advance(9);
  same(ran, []);
  clock.advance(1);
  same(ran, ["a@100"]);
  clock.advance(1000);
  same(ran, ["a@100", "b@130", "c@190"]);
  equal(deadlines.pending, 0);
  equal(clock.pending, 0, "no timer is left once nothing is pending");
});

Deno.test("a cancelled deadline never runs; cancelling all clears the timer", () => {
  const clock = new ManualClock();
  const deadlines = new Deadlines(clock, 100);
  const ran: string[] = [];
  const a = deadlines.add(() => ran.push("a"));
  const b = deadlines.add(() => ran.push("b"));
  a.cancel();
  a.cancel(); // twice is harmless
  equal(deadlines.pending, 1);
  clock.advance(100);
  same(ran, ["b"]);
  b.cancel(); // after it ran: nothing to do
  equal(deadlines.pending, 0);

  const c = deadlines.add(() => ran.push("c"));
  const d = deadlines.add(() => ran.push("d"));
  c.cancel();
  d.cancel();
  equal(clock.pending, 0, "a stopped relay holds no timer");
  clock.advance(1000);
  same(ran, ["b"]);

  deadlines.add(() => ran.push("e"));
  clock.advance(100);
  same(ran, ["b", "e"], "usable again after everything was cancelled");
});

Deno.test("the timer waits for the oldest deadline still pending", () => {
  const clock = new ManualClock();
  const deadlines = new Deadlines(clock, 100);
  const ran: number[] = [];
  const first = deadlines.add(() => ran.push(0));
  clock.advance(50);
  deadlines.add(() => ran.push(clock.now()));
  first.cancel();
  clock.advance(50); // the first one's time: nothing to run
  same(ran, []);
  clock.advance(49);
  same(ran, []);
  clock.advance(1);
  same(ran, [150]);
});

Deno.test("a deadline may add and cancel others while it runs", () => {
  const clock = new ManualClock();
  const deadlines = new Deadlines(clock, 100);
  const ran: string[] = [];
  deadlines.add(() => {
    ran.push("a");
    later.cancel();
    deadlines.add(() => ran.push(`c@${clock.now()}`));
  });
  const later = deadlines.add(() => ran.push("b"));
  clock.advance(100);
  same(ran, ["a"], "b was due too, but a cancelled it first");
  clock.advance(100);
  same(ran, ["a", "c@200"]);
  equal(clock.pending, 0);
});

Deno.test("one added while others run does not delay those due sooner", () => {
  const clock = new ManualClock();
  const deadlines = new Deadlines(clock, 100);
  const ran: string[] = [];
  deadlines.add(() => {
    ran.push(`a@${clock.now()}`);
    deadlines.add(() => ran.push(`c@${clock.now()}`));
  });
  clock.advance(50);
  deadlines.add(() => ran.push(`b@${clock.now()}`));
  clock.advance(50);
  same(ran, ["a@100"]);
  equal(clock.pending, 1, "one timer, for b");
  clock.advance(1000);
  same(ran, ["a@100", "b@150", "c@200"]);
  equal(clock.pending, 0);
});

/** A manual clock that counts the timers it was asked for. */
class CountingClock extends ManualClock {
  timers = 0;
  override setTimeout(run: () => void, ms: number) {
    this.timers++;
    return super.setTimeout(run, ms);
  }
}

Deno.test("cancelled deadlines ahead of a pending one cost no wake", () => {
  const clock = new CountingClock();
  const deadlines = new Deadlines(clock, 1000);
  const ran: number[] = [];
  deadlines.add(() => ran.push(clock.now()));
  for (let i = 0; i < 40; i++) {
    clock.advance(10);
    // Identified in time, as most sockets are.
    deadlines.add(() => ran.push(-1)).cancel();
  }
  clock.advance(100);
  deadlines.add(() => ran.push(clock.now()));
  clock.advance(2000);
  same(ran, [1000, 1500]);
  equal(clock.timers, 2, "one wake for each deadline that ran");
});

/**
 * A manual clock that, like the runtime's timers, drops the fraction of a
 * delay, so a timer may fire up to a millisecond early.
 */
class TruncatingClock extends CountingClock {
  override setTimeout(run: () => void, ms: number) {
    // A deadline that keeps waking before its time would spin forever.
    if (this.timers >= 100) throw new Error("timer set again and again");
    return super.setTimeout(run, Math.trunc(ms));
  }
}

Deno.test("a deadline never runs early, even when timers fire early", () => {
  const clock = new TruncatingClock();
  const deadlines = new Deadlines(clock, 100);
  const ran: number[] = [];
  deadlines.add(() => ran.push(clock.now()));
  clock.advance(30.5);
  deadlines.add(() => ran.push(clock.now()));
  clock.advance(1000);
  equal(ran.length, 2);
  ok(ran[0] >= 100 && ran[0] < 101, `ran at ${ran[0]}`);
  ok(ran[1] >= 130.5 && ran[1] < 132, `ran at ${ran[1]}`);
  equal(clock.pending, 0);
});

Deno.test("a throwing deadline does not stop the others due with it", () => {
  const clock = new ManualClock();
  const deadlines = new Deadlines(clock, 100);
  const ran: string[] = [];
  deadlines.add(() => {
    throw new Error("first");
  });
  deadlines.add(() => ran.push("second"));
  deadlines.add(() => {
    throw new Error("third");
  });
  clock.advance(50);
  deadlines.add(() => ran.push(`later@${clock.now()}`));
  throws(() => clock.advance(50), /first/);
  same(ran, ["second"]);
  equal(deadlines.pending, 1);
  equal(clock.pending, 1, "still waiting for the later one");
  clock.advance(50);
  same(ran, ["second", "later@150"]);
  equal(clock.pending, 0);
});

Deno.test("thousands of deadlines, most cancelled, run exactly the rest", () => {
  const clock = new ManualClock();
  const deadlines = new Deadlines(clock, 1000);
  const ran: number[] = [];
  const all = [];
  for (let i = 0; i < 5000; i++) {
    all.push(deadlines.add(() => ran.push(i)));
    clock.advance(1);
    // Most sockets identify in time: their deadline is cancelled.
    if (i % 10 !== 0) all[i].cancel();
  }
  // At 5,000 ms the uncancelled ones added up to 4,000 ms have run.
  equal(ran.length, 401);
  equal(deadlines.pending, 99);
  clock.advance(10_000);
  same(ran, Array.from({ length: 500 }, (_, k) => k * 10));
  equal(deadlines.pending, 0);
  equal(clock.pending, 0);
});
