import {
  deepStrictEqual as same,
  strictEqual as assertEquals,
} from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { importSigningKey, parseKeyFile } from "../src/auth/key_file.ts";
import { signAuth } from "../src/auth/signature.ts";
import { startRelay, TestClient } from "./helpers.ts";

const CONFIG = fileURLToPath(new URL("../deno.json", import.meta.url));

/**
 * Run `deno task <args>` from `cwd`, as a user would from a shell. When
 * these tests run under `deno task test`, INIT_CWD is already set, and a
 * nested `deno task` keeps it; a shell has none.
 */
async function task(
  cwd: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "--config", CONFIG, ...args],
    cwd,
    clearEnv: true,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout).trim(),
    stderr: text.decode(output.stderr).trim(),
  };
}

/** Run `body` in a fresh temporary directory. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("keygen writes a private key file only its owner can read", async () => {
  await inTempDir(async (dir) => {
    const run = await task(dir, "keygen", "--app", "meteo", "--private");
    assertEquals(run.code, 0, run.stderr);

    const path = `${dir}/meteo.key.json`;
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    const file = parseKeyFile(await Deno.readTextFile(path));
    assertEquals(file.kid, "meteo");
    same(JSON.parse(run.stdout), {
      meteo: { publicKey: file.x, private: true },
    });

    const again = await task(dir, "keygen", "--app", "meteo");
    assertEquals(again.code, 1);
    assertEquals(again.stderr.includes("already exists"), true);
  });
});

Deno.test("keygen's entry and key file get a provider accepted", async () => {
  await inTempDir(async (dir) => {
    const run = await task(dir, "keygen", "--app", "meteo", "--out", "k.json");
    const relay = startRelay({ CUPD_AUTH: "strict", CUPD_APPS: run.stdout });
    try {
      const file = parseKeyFile(await Deno.readTextFile(`${dir}/k.json`));
      const key = await importSigningKey(file);
      const provider = await TestClient.connect(relay.url);
      const signature = await signAuth(key, provider.uid, "meteo");
      provider.send({
        type: "auth",
        uid: provider.uid,
        name: "meteo",
        signature,
      });
      await provider.expect({ type: "authenticated", name: "meteo" });
      await provider.close();
    } finally {
      await relay.close();
    }
  });
});

Deno.test("token task mints tokens a private widget and HTTP publish accept", async () => {
  await inTempDir(async (dir) => {
    const entry = await task(dir, "keygen", "--app", "vault", "--private");
    const mint = (scope: string) =>
      task(
        dir,
        "token",
        "--app",
        "vault",
        "--key",
        "vault.key.json",
        "--scope",
        scope,
        "--ttl",
        "120",
      );
    const watch = await mint("subscribe");
    const publish = await mint("publish");
    assertEquals(watch.code, 0, watch.stderr);

    const relay = startRelay({ CUPD_APPS: entry.stdout });
    try {
      const widget = await TestClient.connect(relay.url);
      widget.send({ type: "subscribe", name: "vault", token: watch.stdout });
      await widget.expect({ type: "subscribed", name: "vault" });

      const response = await fetch(`${relay.http}/apps/vault/data`, {
        method: "POST",
        headers: { authorization: `Bearer ${publish.stdout}` },
        body: '{"gold":1}',
      });
      assertEquals(response.status, 202);
      await response.body?.cancel();
      same(await widget.next(), {
        type: "data",
        name: "vault",
        data: { gold: 1 },
      });
      await widget.close();
    } finally {
      await relay.close();
    }
  });
});

Deno.test("token task refuses a key of another app and a bad scope", async () => {
  await inTempDir(async (dir) => {
    await task(dir, "keygen", "--app", "mine");
    const other = await task(
      dir,
      "token",
      "--app",
      "yours",
      "--key",
      "mine.key.json",
      "--scope",
      "publish",
    );
    assertEquals(other.code, 1);
    assertEquals(other.stderr.includes('"mine", not "yours"'), true);

    const scope = await task(
      dir,
      "token",
      "--app",
      "mine",
      "--key",
      "mine.key.json",
      "--scope",
      "admin",
    );
    assertEquals(scope.code, 2);
    assertEquals(scope.stderr.includes("--scope must be one of"), true);
  });
});

Deno.test("keygen and token print their usage on --help", async () => {
  for (const name of ["keygen", "token"]) {
    const run = await task(Deno.cwd(), name, "--help");
    assertEquals(run.code, 0);
    assertEquals(run.stdout.startsWith(`Usage: deno task ${name}`), true);
  }
});
