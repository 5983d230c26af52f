import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  HandshakeSweep,
  SWEEP_GRAIN_MS,
} from "../src/server/handshake_sweep.ts";
import { eventually } from "./helpers.ts";

// Real timers: the sweep's contract is about when its one timer runs.

Deno.test("handshake sweep expires each wait once, never early", async () => {
  const sweep = new HandshakeSweep(40);
  const expired: [string, number][] = [];
  const started = performance.now();
  for (const name of ["a", "b", "c"]) {
    sweep.watch(() => expired.push([name, performance.now() - started]));
  }
  strictEqual(sweep.size, 3);
  await eventually(() => expired.length === 3);
  deepStrictEqual(expired.map(([name]) => name), ["a", "b", "c"]);
  for (const [, after] of expired) ok(after >= 40, `expired at ${after} ms`);
  strictEqual(sweep.size, 0);
  // Nothing expires twice.
  await new Promise((resolve) => setTimeout(resolve, 100));
  strictEqual(expired.length, 3);
});

Deno.test("handshake sweep spares forgotten waits and stops its timer", async () => {
  const sweep = new HandshakeSweep(30);
  const expired: string[] = [];
  const kept = sweep.watch(() => expired.push("kept"));
  const gone = sweep.watch(() => expired.push("gone"));
  sweep.forget(gone);
  sweep.forget(gone); // idempotent
  await eventually(() => expired.length === 1);
  deepStrictEqual(expired, ["kept"]);
  sweep.forget(kept); // already expired: no effect
});

Deno.test("handshake sweep leaves no timer once no socket waits", async () => {
  // A pending timer would keep this process up for a minute.
  const module = new URL("../src/server/handshake_sweep.ts", import.meta.url);
  const code = `
    const { HandshakeSweep } = await import(${JSON.stringify(module.href)});
    const sweep = new HandshakeSweep(60_000);
    const a = sweep.watch(() => {});
    const b = sweep.watch(() => {});
    sweep.forget(a);
    sweep.forget(b);
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill(), 20_000);
  const { code: exit, signal } = await child.output().then((o) => ({
    code: o.code,
    signal: o.signal,
  }));
  clearTimeout(timer);
  strictEqual(signal, null, "still running after 20 s");
  strictEqual(exit, 0);
});

Deno.test("handshake sweep serves later waits after an earlier sweep", async () => {
  const sweep = new HandshakeSweep(20);
  const expired: number[] = [];
  const first = performance.now();
  sweep.watch(() => expired.push(performance.now() - first));
  await eventually(() => expired.length === 1);
  // Watched just after a sweep: due by the grain at the latest (with
  // generous room for a loaded machine), not before its deadline.
  const second = performance.now();
  sweep.watch(() => expired.push(performance.now() - second));
  await eventually(() => expired.length === 2);
  ok(expired[1] >= 20, `expired at ${expired[1]} ms`);
  ok(expired[1] < 20 + SWEEP_GRAIN_MS + 2000, `expired at ${expired[1]} ms`);
});
