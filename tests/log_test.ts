import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { Logger } from "../src/observe/log.ts";

Deno.test("logger writes one JSON object per line with child fields", () => {
  const lines: string[] = [];
  const log = new Logger("info", (line) => lines.push(line)).child({ a: 1 });
  log.info("hello", { b: 2 });
  strictEqual(lines.length, 1);
  const { time, ...rest } = JSON.parse(lines[0]);
  strictEqual(typeof time, "string");
  deepStrictEqual(rest, { level: "info", msg: "hello", a: 1, b: 2 });
});

Deno.test("logger writes nothing below its level", () => {
  const lines: string[] = [];
  const log = new Logger("warn", (line) => lines.push(line));
  log.debug("no");
  log.info("no");
  log.warn("yes");
  strictEqual(log.enabled("info"), false);
  strictEqual(lines.length, 1);
  strictEqual(new Logger("silent").enabled("error"), false);
});

Deno.test("logger records errors with message and stack", () => {
  const lines: string[] = [];
  new Logger("error", (line) => lines.push(line)).error("failed", {
    error: new TypeError("boom"),
  });
  const { error } = JSON.parse(lines[0]);
  strictEqual(error.name, "TypeError");
  strictEqual(error.message, "boom");
});
