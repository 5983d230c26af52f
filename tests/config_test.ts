import { deepStrictEqual, throws } from "node:assert/strict";
import { ConfigError, loadConfig } from "../src/config.ts";

Deno.test("config has documented defaults", () => {
  deepStrictEqual(loadConfig({}), {
    port: 8000,
    logLevel: "info",
    maxFrameBytes: 65536,
    handshakeTimeoutMs: 10000,
    idleTimeoutMs: 30000,
    maxSubscriptions: 100,
    maxErrors: 10,
    authMode: "open",
    appsJson: "",
    appsFile: "",
    apps: new Map(),
    audienceIntervalMs: 250,
    presenceIntervalMs: 1000,
    presenceTtlMs: 3000,
    store: "kv",
    kvPath: "",
    lastValueTtlMs: 86400000,
    lastValueFlushMs: 250,
  });
});

Deno.test("config reads overrides from the environment", () => {
  const config = loadConfig({
    PORT: "9001",
    LOG_LEVEL: "debug",
    CUPD_MAX_FRAME_BYTES: "1024",
    CUPD_MAX_SUBSCRIPTIONS: " 7 ",
  });
  deepStrictEqual(
    [
      config.port,
      config.logLevel,
      config.maxFrameBytes,
      config.maxSubscriptions,
    ],
    [9001, "debug", 1024, 7],
  );
});

Deno.test("config error names the variable with the bad value", () => {
  const cases: Record<string, string> = {
    PORT: "eighty",
    LOG_LEVEL: "loud",
    CUPD_MAX_FRAME_BYTES: "-1",
    CUPD_HANDSHAKE_TIMEOUT_MS: "1.5",
    CUPD_MAX_ERRORS: "lots",
  };
  for (const [variable, value] of Object.entries(cases)) {
    throws(
      () => loadConfig({ [variable]: value }),
      (error: unknown) =>
        error instanceof ConfigError && error.variable === variable &&
        error.message.startsWith(`Invalid ${variable}:`) &&
        error.message.includes(value),
    );
  }
});
