import {
  deepStrictEqual as same,
  strictEqual as assertEquals,
  throws,
} from "node:assert/strict";
import { ConfigError, loadConfig } from "../src/config.ts";
import { makeApp, registryJson } from "./auth_helpers.ts";

const one = await makeApp("one");
const two = await makeApp("two");

/** Run `body` with a temporary file holding `text`. */
async function withFile(
  text: string,
  body: (path: string) => void | Promise<void>,
): Promise<void> {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, text);
    await body(path);
  } finally {
    await Deno.remove(path);
  }
}

/** Expect loadConfig(env) to stop with a message naming `variable`. */
function refuses(
  env: Record<string, string>,
  variable: string,
  words: string[],
): void {
  throws(() => loadConfig(env), (error) => {
    if (!(error instanceof ConfigError)) return false;
    assertEquals(error.variable, variable);
    for (const word of words) {
      if (!error.message.includes(word)) {
        throw new Error(`"${error.message}" lacks "${word}"`);
      }
    }
    return true;
  });
}

Deno.test("config defaults to open mode with an empty registry", () => {
  const config = loadConfig({});
  assertEquals(config.authMode, "open");
  assertEquals(config.apps.size, 0);
});

Deno.test("config merges the registry from CUPD_APPS and CUPD_APPS_FILE", async () => {
  await withFile(registryJson([two], [two]), (path) => {
    const config = loadConfig({
      CUPD_AUTH: "strict",
      CUPD_APPS: registryJson([one]),
      CUPD_APPS_FILE: path,
    });
    assertEquals(config.authMode, "strict");
    same([...config.apps.keys()], ["one", "two"]);
    same(config.apps.get("one"), { publicKey: one.publicKey, private: false });
    same(config.apps.get("two"), { publicKey: two.publicKey, private: true });
  });
});

Deno.test("config refuses an app defined in both sources, naming it", async () => {
  await withFile(registryJson([one]), (path) => {
    refuses(
      { CUPD_APPS: registryJson([one, two]), CUPD_APPS_FILE: path },
      "CUPD_APPS_FILE",
      ['app "one"', "CUPD_APPS"],
    );
  });
});

Deno.test("config refuses registry entries that are unusable, naming the app", () => {
  const key = one.file.x;
  const cases: [string, unknown, string][] = [
    ["short", { publicKey: key.slice(0, 40) }, "32-byte"],
    ["padded", { publicKey: `${key}=` }, "base64url"],
    ["nokey", { private: true }, "publicKey"],
    ["typo", { publicKey: key, privat: true }, "privat"],
    ["flag", { publicKey: key, private: "yes" }, "private"],
    ["bad name", { publicKey: key }, "must match"],
    ["list", [key], "object"],
  ];
  for (const [name, entry, detail] of cases) {
    refuses(
      { CUPD_APPS: JSON.stringify({ [name]: entry }) },
      "CUPD_APPS",
      [`app "${name}"`, detail],
    );
  }
});

Deno.test("config refuses a registry that is not a JSON object", () => {
  refuses({ CUPD_APPS: "{nope" }, "CUPD_APPS", ["not valid JSON"]);
  refuses({ CUPD_APPS: "[]" }, "CUPD_APPS", ["JSON object"]);
});

Deno.test("config refuses an unreadable CUPD_APPS_FILE and a bad CUPD_AUTH", () => {
  refuses(
    { CUPD_APPS_FILE: "/nonexistent/apps.json" },
    "CUPD_APPS_FILE",
    ["/nonexistent/apps.json"],
  );
  refuses({ CUPD_AUTH: "closed" }, "CUPD_AUTH", ["closed"]);
});

Deno.test("relay stops at start on a bad registry entry, naming the app", async () => {
  const apps = JSON.stringify({ weather: { publicKey: "too-short" } });
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--unstable-kv", "main.ts"],
    cwd: new URL("..", import.meta.url),
    env: { CUPD_APPS: apps, PORT: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(code, 1);
  const line = new TextDecoder().decode(stderr) +
    new TextDecoder().decode(stdout);
  if (!line.includes('app \\"weather\\"') || !line.includes("CUPD_APPS")) {
    throw new Error(`unexpected output: ${line}`);
  }
});
