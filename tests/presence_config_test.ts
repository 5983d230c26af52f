import { strictEqual as equal, throws } from "node:assert/strict";
import { ConfigError, loadConfig } from "../src/config.ts";

Deno.test("config reads the presence and audience timings", () => {
  const config = loadConfig({
    CUPD_AUDIENCE_INTERVAL_MS: "100",
    CUPD_PRESENCE_INTERVAL_MS: "500",
    CUPD_PRESENCE_TTL_MS: "1500",
  });
  equal(config.audienceIntervalMs, 100);
  equal(config.presenceIntervalMs, 500);
  equal(config.presenceTtlMs, 1500);
});

Deno.test("config refuses a presence TTL under two intervals", () => {
  throws(
    () =>
      loadConfig({
        CUPD_PRESENCE_INTERVAL_MS: "1000",
        CUPD_PRESENCE_TTL_MS: "1500",
      }),
    (error) =>
      error instanceof ConfigError &&
      error.variable === "CUPD_PRESENCE_TTL_MS",
  );
});
