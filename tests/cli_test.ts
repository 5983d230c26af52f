import {
  deepStrictEqual as same,
  match,
  strictEqual as equal,
} from "node:assert/strict";
import { connectProvider } from "../src/client/provider.ts";
import { eventually, startRelay, TestClient } from "./helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** `deno task <name> <args>` from the repository, as a user runs it. */
function task(name: string, args: string[], stdin: "piped" | "null" = "null") {
  return new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", name, ...args],
    cwd: ROOT,
    stdin,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Wait for a process and decode what it printed. */
async function finished(child: Deno.ChildProcess) {
  const { code, stdout, stderr } = await child.output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

async function payloads(widget: TestClient, count: number) {
  const values = [];
  for (let i = 0; i < count; i++) {
    values.push((await widget.expect({ type: "data", name: "app" })).data);
  }
  return values;
}

Deno.test("publish task delivers good lines and reports bad ones by number", async () => {
  const relay = startRelay();
  const widget = await TestClient.widget(relay.url, "app");
  const file = await Deno.makeTempFile({ suffix: ".jsonl" });
  await Deno.writeTextFile(
    file,
    ['{"n":1}', "not json", "", "[2, 3]", '{"n":', '"four"', ""].join("\n"),
  );

  const run = await finished(
    task("publish", ["--url", relay.url, "--app", "app", file]),
  );

  equal(run.code, 1);
  same(
    run.stderr.split("\n").filter((line) => line.startsWith("line ")).map(
      (line) => line.split(":")[0],
    ),
    ["line 2", "line 5"],
  );
  match(run.stderr, /3 published, 2 rejected/);
  same(await payloads(widget, 3), [{ n: 1 }, [2, 3], "four"]);

  await Deno.remove(file);
  await widget.close();
  await relay.close();
});

Deno.test("publish task reads stdin and exits 0 when all lines pass", async () => {
  const relay = startRelay();
  const widget = await TestClient.widget(relay.url, "app");
  const child = task("publish", ["--url", relay.url, "--app", "app"], "piped");
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("1\r\n2\n3"));
  await writer.close();

  const run = await finished(child);
  equal(run.code, 0, run.stderr);
  same(await payloads(widget, 3), [1, 2, 3]);

  await widget.close();
  await relay.close();
});

Deno.test("publish task exits 3 when the relay cannot be reached", async () => {
  const relay = startRelay();
  await relay.close();
  const run = await finished(
    task("publish", ["--url", relay.url, "--app", "app", "--timeout", "0.5"]),
  );
  equal(run.code, 3);
  match(run.stderr, /cannot publish as "app"/);
});

Deno.test("publish task exits 2 on a bad command line", async () => {
  const run = await finished(task("publish", ["--url", "ws://x/ws"]));
  equal(run.code, 2);
  match(run.stderr, /Missing --app/);
});

Deno.test("watch task prints each payload a provider sent as a JSON line", async () => {
  const relay = startRelay({ CUPD_AUDIENCE_INTERVAL_MS: "10" });
  const provider = connectProvider({ url: relay.url, app: "app" });
  const watch = task("watch", [
    "--url",
    relay.url,
    "--app",
    "app",
    "--count",
    "3",
  ]);

  // The watcher is subscribed once the provider's audience counts it.
  await eventually(() => provider.audience === 1, 15_000);
  const values = [{ t: 21.5, unit: "°C" }, "text", [1, [2]]];
  for (const value of values) provider.publish(value);

  const run = await finished(watch);
  equal(run.code, 0, run.stderr);
  same(
    run.stdout.trimEnd().split("\n").map((line) => JSON.parse(line)),
    values,
  );
  same(run.stdout.trimEnd().split("\n"), values.map((v) => JSON.stringify(v)));

  await provider.close();
  await relay.close();
});

Deno.test("watch task exits 3 when the relay refuses the subscription", async () => {
  const relay = startRelay();
  const run = await finished(
    task("watch", ["--url", relay.url, "--app", "not a name"]),
  );
  equal(run.code, 3);
  match(run.stderr, /invalid_name/);
  await relay.close();
});

Deno.test("publish and watch explain themselves with --help", async () => {
  for (const name of ["publish", "watch"]) {
    const run = await finished(task(name, ["--help"]));
    equal(run.code, 0);
    match(
      run.stdout,
      new RegExp(`deno task ${name} --url <ws url> --app <name>`),
    );
    match(run.stdout, /Exit status:/);
  }
});
