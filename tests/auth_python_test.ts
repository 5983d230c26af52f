import {
  deepStrictEqual as same,
  strictEqual as assertEquals,
} from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { makeApp, registryJson, type TestApp } from "./auth_helpers.ts";
import { startRelay, TestClient } from "./helpers.ts";

const SCRIPT = fileURLToPath(
  new URL("./python/signed_provider.py", import.meta.url),
);

/**
 * Interpreters to try: the one on PATH first, then Debian's, which has
 * python3-websocket and python3-cryptography even when PATH leads to
 * another Python (pyenv, a virtualenv).
 */
const CANDIDATES = ["python3", "/usr/bin/python3"];

/** The first interpreter with both modules, or why there is none. */
function findPython(): { python: string } | { missing: string } {
  for (const python of CANDIDATES) {
    try {
      const probe = new Deno.Command(python, {
        args: ["-c", "import websocket, cryptography"],
        stdout: "null",
        stderr: "null",
      }).outputSync();
      if (probe.success) return { python };
    } catch {
      // not installed at this path; try the next
    }
  }
  return {
    missing: `no python3 with the websocket and cryptography modules (tried ${
      CANDIDATES.join(", ")
    })`,
  };
}

const found = findPython();
const missing = "missing" in found ? found.missing : undefined;
const python = "python" in found ? found.python : "python3";
if (missing) {
  // deno-lint-ignore no-console -- say why the Python tests are skipped
  console.warn(`Skipping Python provider tests: ${missing}`);
}

/** Run the Python provider for `app` with its key file and payloads. */
async function runPython(
  url: string,
  app: TestApp,
  keyOf: TestApp,
  payloads: unknown[],
): Promise<{ code: number; answer: Record<string, unknown> }> {
  const keyPath = await Deno.makeTempFile({ suffix: ".key.json" });
  try {
    // keyOf's private key, filed under app's name, as a thief would.
    await Deno.writeTextFile(
      keyPath,
      JSON.stringify({ ...keyOf.file, kid: app.name }),
    );
    const args = [SCRIPT, url, keyPath];
    args.push(...payloads.map((payload) => JSON.stringify(payload)));
    const output = await new Deno.Command(python, {
      args,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout).trim();
    if (!stdout) throw new Error(new TextDecoder().decode(output.stderr));
    return { code: output.code, answer: JSON.parse(stdout.split("\n")[0]) };
  } finally {
    await Deno.remove(keyPath);
  }
}

const weather = await makeApp("weather");
const intruder = await makeApp("intruder");

Deno.test({
  name: "Python provider signs its auth frame and is accepted",
  ignore: missing !== undefined,
  async fn() {
    const relay = startRelay({
      CUPD_AUTH: "strict",
      CUPD_APPS: registryJson([weather]),
    });
    try {
      const widget = await TestClient.widget(relay.url, "weather");
      const payloads = [{ celsius: 21.5 }, "drizzle", [1, 2, 3]];
      const run = await runPython(relay.url, weather, weather, payloads);
      assertEquals(run.code, 0);
      same(run.answer, { type: "authenticated", name: "weather" });
      for (const data of payloads) {
        same(await widget.next(), { type: "data", name: "weather", data });
      }
      await widget.close();
    } finally {
      await relay.close();
    }
  },
});

Deno.test({
  name: "Python provider signing with the wrong key is refused",
  ignore: missing !== undefined,
  async fn() {
    const relay = startRelay({ CUPD_APPS: registryJson([weather]) });
    try {
      const run = await runPython(relay.url, weather, intruder, ["x"]);
      assertEquals(run.code, 1);
      assertEquals(run.answer.type, "error");
      assertEquals(run.answer.code, "bad_signature");
    } finally {
      await relay.close();
    }
  },
});
