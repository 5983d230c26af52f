import { strictEqual as equal } from "node:assert/strict";
import { Throttle } from "../src/relay/throttle.ts";
import { ManualClock } from "./manual_clock.ts";

function counting(gapMs: number) {
  const clock = new ManualClock();
  const runs: number[] = [];
  const throttle = new Throttle(clock, gapMs, () => {
    runs.push(clock.now());
    return true;
  });
  return { clock, runs, throttle };
}

Deno.test("throttle runs the first poke at once", () => {
  const { runs, throttle } = counting(100);
  throttle.poke();
  equal(runs.join(), "0");
});

Deno.test("throttle folds pokes inside the gap into one trailing run", () => {
  const { clock, runs, throttle } = counting(100);
  throttle.poke();
  clock.advance(10);
  throttle.poke();
  clock.advance(10);
  throttle.poke();
  clock.advance(200);
  equal(runs.join(), "0,100");
});

Deno.test("throttle runs at once again after a quiet gap", () => {
  const { clock, runs, throttle } = counting(100);
  throttle.poke();
  clock.advance(150);
  throttle.poke();
  equal(runs.join(), "0,150");
});

Deno.test("throttle cancel drops the trailing run", () => {
  const { clock, runs, throttle } = counting(100);
  throttle.poke();
  throttle.poke();
  throttle.cancel();
  clock.advance(500);
  equal(runs.join(), "0");
  equal(clock.pending, 0);
});

Deno.test("throttle starts no gap after a run that did nothing", () => {
  const clock = new ManualClock();
  let acted = 0;
  let act = false;
  const throttle = new Throttle(clock, 100, () => {
    if (act) acted++;
    return act;
  });
  throttle.poke();
  act = true;
  throttle.poke();
  equal(acted, 1);
  equal(clock.pending, 0);
});
