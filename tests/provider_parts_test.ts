import {
  deepStrictEqual as same,
  strictEqual as equal,
  throws,
} from "node:assert/strict";
import { backoffDelay } from "../src/client/backoff.ts";
import { BoundedQueue } from "../src/client/bounded_queue.ts";

const BOUNDS = { minDelayMs: 100, maxDelayMs: 1000 };

Deno.test("backoff doubles from the minimum up to the cap", () => {
  const ceilings = [0, 1, 2, 3, 4, 5, 40].map((attempt) =>
    backoffDelay(attempt, BOUNDS, () => 1)
  );
  same(ceilings, [100, 200, 400, 800, 1000, 1000, 1000]);
});

Deno.test("backoff jitter keeps at least half the ceiling", () => {
  equal(backoffDelay(2, BOUNDS, () => 0), 200);
  equal(backoffDelay(2, BOUNDS, () => 0.5), 300);
});

Deno.test("bounded queue drops its oldest items when full", () => {
  const queue = new BoundedQueue<number>(3);
  const dropped = [1, 2, 3, 4, 5].map((n) => queue.push(n));
  same(dropped, [0, 0, 0, 1, 1]);
  same(queue.drain(), [3, 4, 5]);
  equal(queue.size, 0);
});

Deno.test("bounded queue of limit 0 keeps nothing", () => {
  const queue = new BoundedQueue<number>(0);
  equal(queue.push(1), 1);
  equal(queue.size, 0);
});

Deno.test("bounded queue refuses a negative limit", () => {
  throws(() => new BoundedQueue(-1), RangeError);
});
