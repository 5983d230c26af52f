import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { ConfigError, loadConfig } from "../src/config.ts";

function refused(env: Record<string, string>, variable: string): void {
  throws(
    () => loadConfig(env),
    (error: unknown) =>
      error instanceof ConfigError && error.variable === variable &&
      error.message.startsWith(`Invalid ${variable}:`),
  );
}

Deno.test("the store defaults to kv, and to redis when REDIS_URL is set", () => {
  strictEqual(loadConfig({}).store, "kv");
  strictEqual(
    loadConfig({ REDIS_URL: "redis://127.0.0.1:6379" }).store,
    "redis",
  );
  strictEqual(
    loadConfig({ REDIS_URL: "redis://127.0.0.1:6379", CUPD_STORE: "kv" })
      .store,
    "kv",
  );
});

Deno.test("last-value settings are read from the environment", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const config = loadConfig({
      CUPD_STORE: "kv",
      CUPD_KV_PATH: `${dir}/last.sqlite3`,
      CUPD_LAST_VALUE_TTL_MS: "0",
      CUPD_LAST_VALUE_FLUSH_MS: "20",
    });
    deepStrictEqual(
      [config.kvPath, config.lastValueTtlMs, config.lastValueFlushMs],
      [`${dir}/last.sqlite3`, 0, 20],
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("an unknown store is refused naming CUPD_STORE", () => {
  refused({ CUPD_STORE: "postgres" }, "CUPD_STORE");
});

Deno.test("the redis store without REDIS_URL is refused naming CUPD_STORE", () => {
  refused({ CUPD_STORE: "redis" }, "CUPD_STORE");
});

Deno.test("a KV path in a missing directory is refused naming CUPD_KV_PATH", () => {
  refused({ CUPD_KV_PATH: "/nonexistent/cupd/last.sqlite3" }, "CUPD_KV_PATH");
});

Deno.test("bad last-value times are refused naming the variable", () => {
  refused({ CUPD_LAST_VALUE_TTL_MS: "-1" }, "CUPD_LAST_VALUE_TTL_MS");
  refused({ CUPD_LAST_VALUE_TTL_MS: "a day" }, "CUPD_LAST_VALUE_TTL_MS");
  refused({ CUPD_LAST_VALUE_FLUSH_MS: "0" }, "CUPD_LAST_VALUE_FLUSH_MS");
});

Deno.test("other stores ignore CUPD_KV_PATH", () => {
  const config = loadConfig({
    CUPD_STORE: "memory",
    CUPD_KV_PATH: "/nonexistent/cupd/last.sqlite3",
  });
  strictEqual(config.store, "memory");
});
