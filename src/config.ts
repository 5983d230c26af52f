/**
 * Configuration from environment variables, validated once at start.
 *
 * A bad value is a {@linkcode ConfigError} that names the variable, so the
 * process stops with a message an operator can act on.
 *
 * @module
 */

import { z } from "zod";
import {
  AUTH_MODES,
  type AuthMode,
  loadRegistry,
  type Registry,
  RegistryError,
} from "./auth/registry.ts";
import { type Level, LEVELS } from "./observe/log.ts";

/** Everything the relay reads from its environment. */
export interface Config {
  /** TCP port for `deno run` (`deno serve` takes `--port`). */
  port: number;
  /** Lowest log level written. */
  logLevel: Level;
  /** Largest accepted text frame, in UTF-8 bytes. */
  maxFrameBytes: number;
  /** Time a new socket has to send `auth` or `subscribe`. */
  handshakeTimeoutMs: number;
  /** Silence after which the server pings, and closes if no pong. */
  idleTimeoutMs: number;
  /** Most apps one widget socket may subscribe to. */
  maxSubscriptions: number;
  /** Bad frames tolerated on one socket before it is closed. */
  maxErrors: number;
  /** Redis to join other relays through; unset keeps the embedded bus. */
  redisUrl?: string;
  /** `open` accepts unregistered app names, `strict` refuses them. */
  authMode: AuthMode;
  /** The registry as inline JSON, as given (may be empty). */
  appsJson: string;
  /** Path of a registry JSON file, as given (may be empty). */
  appsFile: string;
  /** The registry built from `appsJson` and `appsFile`. */
  apps: Registry;
  /** Least time between two audience frames for one app. */
  audienceIntervalMs: number;
  /** Time between two announcements of an isolate's widget counts. */
  presenceIntervalMs: number;
  /** Silence after which an isolate's widget counts are forgotten. */
  presenceTtlMs: number;
  /** Where last values are kept; see {@linkcode STORES}. */
  store: Store;
  /** Deno KV file for the `kv` store; empty takes `Deno.openKv()`'s. */
  kvPath: string;
  /** Time a last value is kept after its publish; 0 keeps it for ever. */
  lastValueTtlMs: number;
  /** Time payloads wait before their app's last value is written. */
  lastValueFlushMs: number;
}

/** Kinds of last-value store. */
export const STORES = ["kv", "memory", "redis", "none"] as const;

/** One of {@linkcode STORES}. */
export type Store = typeof STORES[number];

/** One environment variable: its name, default and meaning. */
interface Variable {
  key: keyof Config;
  env: string;
  schema: z.ZodType;
  /** Value when unset; no fallback makes the variable optional. */
  fallback?: string;
}

const int = (min: number, max: number) =>
  z.coerce.number().int().min(min).max(max);

/** Every variable, in the order the README lists them. */
export const VARIABLES: readonly Variable[] = [
  { key: "port", env: "PORT", schema: int(0, 65535), fallback: "8000" },
  {
    key: "logLevel",
    env: "LOG_LEVEL",
    schema: z.enum(LEVELS),
    fallback: "info",
  },
  {
    key: "maxFrameBytes",
    env: "CUPD_MAX_FRAME_BYTES",
    schema: int(256, 64 * 1024 * 1024),
    fallback: "65536",
  },
  {
    key: "handshakeTimeoutMs",
    env: "CUPD_HANDSHAKE_TIMEOUT_MS",
    schema: int(1, 3_600_000),
    fallback: "10000",
  },
  {
    key: "idleTimeoutMs",
    env: "CUPD_IDLE_TIMEOUT_MS",
    schema: int(0, 3_600_000),
    fallback: "30000",
  },
  {
    key: "maxSubscriptions",
    env: "CUPD_MAX_SUBSCRIPTIONS",
    schema: int(1, 100_000),
    fallback: "100",
  },
  {
    key: "maxErrors",
    env: "CUPD_MAX_ERRORS",
    schema: int(0, 1_000_000),
    fallback: "10",
  },
  {
    key: "redisUrl",
    env: "REDIS_URL",
    schema: z.url({ protocol: /^rediss?$/ }),
  },
  // open: unregistered app names work; strict: they are refused.
  {
    key: "authMode",
    env: "CUPD_AUTH",
    schema: z.enum(AUTH_MODES),
    fallback: "open",
  },
  // Registry JSON: {"<app>": {"publicKey": "<base64url>", "private": false}}.
  { key: "appsJson", env: "CUPD_APPS", schema: z.string(), fallback: "" },
  // Path of a file holding registry JSON like CUPD_APPS.
  { key: "appsFile", env: "CUPD_APPS_FILE", schema: z.string(), fallback: "" },
  {
    key: "audienceIntervalMs",
    env: "CUPD_AUDIENCE_INTERVAL_MS",
    schema: int(0, 60_000),
    fallback: "250",
  },
  {
    key: "presenceIntervalMs",
    env: "CUPD_PRESENCE_INTERVAL_MS",
    schema: int(10, 60_000),
    fallback: "1000",
  },
  {
    key: "presenceTtlMs",
    env: "CUPD_PRESENCE_TTL_MS",
    schema: int(20, 600_000),
    fallback: "3000",
  },
  // kv, memory, redis or none; unset: redis with REDIS_URL, else kv.
  { key: "store", env: "CUPD_STORE", schema: z.enum(STORES) },
  { key: "kvPath", env: "CUPD_KV_PATH", schema: z.string(), fallback: "" },
  {
    key: "lastValueTtlMs",
    env: "CUPD_LAST_VALUE_TTL_MS",
    schema: int(0, 31_536_000_000),
    fallback: "86400000",
  },
  {
    key: "lastValueFlushMs",
    env: "CUPD_LAST_VALUE_FLUSH_MS",
    schema: int(1, 60_000),
    fallback: "250",
  },
];

/** A configuration value that cannot be used. */
export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`Invalid ${variable}: ${detail}`);
    this.name = "ConfigError";
  }
}

/**
 * Build the configuration from `env` (by default the process environment).
 * Empty values count as unset.
 *
 * @throws {ConfigError} naming the first variable with a bad value.
 */
export function loadConfig(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Config {
  const config: Record<string, unknown> = {};
  for (const variable of VARIABLES) {
    const raw = env[variable.env]?.trim() || variable.fallback;
    if (raw === undefined) continue;
    const result = variable.schema.safeParse(raw);
    if (!result.success) {
      const detail = result.error.issues[0].message;
      throw new ConfigError(variable.env, `${detail} (got "${raw}")`);
    }
    config[variable.key] = result.data;
  }
  config.apps = registryOf(config as unknown as Config);
  checkPresence(config as unknown as Config);
  checkStore(config as unknown as Config);
  return config as unknown as Config;
}

function registryOf(config: Config): Registry {
  try {
    return loadRegistry(config.appsJson, config.appsFile);
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error;
    throw new ConfigError(error.variable, error.message);
  }
}

/** Counts must outlive at least one missed announcement, or they flicker. */
function checkPresence(config: Config): void {
  if (config.presenceTtlMs >= 2 * config.presenceIntervalMs) return;
  throw new ConfigError(
    "CUPD_PRESENCE_TTL_MS",
    `must be at least twice CUPD_PRESENCE_INTERVAL_MS (got ${config.presenceTtlMs} and ${config.presenceIntervalMs})`,
  );
}

/** Pick the default store, and refuse one that cannot work here. */
function checkStore(config: Config): void {
  config.store ??= config.redisUrl ? "redis" : "kv";
  if (config.store === "redis" && !config.redisUrl) {
    throw new ConfigError("CUPD_STORE", "redis needs REDIS_URL");
  }
  if (config.store !== "kv") return;

  if (typeof Deno.openKv !== "function") {
    throw new ConfigError(
      "CUPD_STORE",
      "kv needs Deno KV: run with --unstable-kv, or choose memory, redis or none",
    );
  }
  const dir = parentOf(config.kvPath);
  if (dir !== undefined && !isDirectory(dir)) {
    throw new ConfigError(
      "CUPD_KV_PATH",
      `directory "${dir}" does not exist (got "${config.kvPath}")`,
    );
  }
}

/** The directory a KV file would be created in; none for special paths. */
function parentOf(path: string): string | undefined {
  if (path === "" || path === ":memory:") return undefined;
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  if (cut < 0) return ".";
  return cut === 0 ? "/" : path.slice(0, cut);
}

/** Whether `path` is a directory; true when it cannot be checked. */
function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.NotADirectory);
  }
}
