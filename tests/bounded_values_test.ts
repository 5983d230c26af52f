import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { BoundedValues } from "../src/relay/bounded_values.ts";

const value = (size: number, at = 0) => ({ frame: "x".repeat(size), at });

Deno.test("bounded values drop the least recently written past the size bound", () => {
  const dropped: string[] = [];
  const values = new BoundedValues(
    { maxEntries: 100, maxSize: 100 },
    (app) => dropped.push(app),
  );
  values.set("a", value(40));
  values.set("b", value(40));
  values.set("a", value(40, 1)); // rewritten: now the most recent
  values.set("c", value(40));

  deepStrictEqual(dropped, ["b"]);
  strictEqual(values.size, 80);
  strictEqual(values.get("a")?.at, 1);
  strictEqual(values.get("b"), undefined);
});

Deno.test("bounded values drop the least recently written past the count bound", () => {
  const dropped: string[] = [];
  const values = new BoundedValues(
    { maxEntries: 2, maxSize: 1000 },
    (app) => dropped.push(app),
  );
  for (const app of ["a", "b", "c", "d"]) values.set(app, value(1));
  deepStrictEqual(dropped, ["a", "b"]);
  strictEqual(values.count, 2);
});

Deno.test("bounded values never hold a single value larger than the bound", () => {
  const values = new BoundedValues({ maxEntries: 10, maxSize: 10 });
  values.set("big", value(11));
  strictEqual(values.get("big"), undefined);
  strictEqual(values.size, 0);
});
