/** The entry point as users start it: `deno run main.ts`. */

import { ok, strictEqual } from "node:assert/strict";
import { freePort, TestClient } from "./helpers.ts";

const ROOT = new URL("../", import.meta.url);

function runMain(env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--unstable-kv", "main.ts"],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("deno run main.ts serves on PORT and drains on SIGTERM with 4000", async () => {
  const port = freePort();
  const child = runMain({ PORT: String(port), LOG_LEVEL: "info" });
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();

  const url = `ws://127.0.0.1:${port}/ws`;
  let widget: TestClient | undefined;
  for (let attempt = 0; !widget && attempt < 200; attempt++) {
    try {
      widget = await TestClient.widget(url, "app");
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  ok(widget, "relay started");

  child.kill("SIGTERM");
  const event = await widget.closed;
  strictEqual(event.code, 4000);
  strictEqual((await child.status).code, 0);
  await stderr;

  const lines = (await stdout).trim().split("\n").map((l) => JSON.parse(l));
  ok(lines.some((l) => l.msg === "listening" && l.port === port));
  ok(lines.some((l) => l.msg === "shutting down" && l.level === "info"));
});

Deno.test("a bad environment value stops the relay naming the variable", async () => {
  const child = runMain({ CUPD_MAX_SUBSCRIPTIONS: "many" });
  const [status, stderr] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
    child.stdout.cancel(),
  ]);
  strictEqual(status.code, 1);
  const line = JSON.parse(stderr.trim().split("\n").at(-1)!);
  strictEqual(line.level, "error");
  strictEqual(line.variable, "CUPD_MAX_SUBSCRIPTIONS");
  ok(line.msg.startsWith("Invalid CUPD_MAX_SUBSCRIPTIONS"));
});
