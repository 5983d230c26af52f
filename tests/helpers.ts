/**
 * Test helpers: a real relay on port 0 and a WebSocket client that queues
 * what it receives, so tests can await frames in order.
 *
 * @module
 */

import { type Config, loadConfig } from "../src/config.ts";
import { Logger } from "../src/observe/log.ts";
import type { Bus } from "../src/relay/bus.ts";
import { MemoryBus } from "../src/relay/bus_memory.ts";
import { createRelay, type Relay } from "../src/server/relay.ts";
import type { LastValueStore } from "../src/relay/last_value.ts";
import type { PresenceChannel } from "../src/relay/presence.ts";
import { MemoryPresence } from "../src/relay/presence_memory.ts";

/** A relay listening on a free loopback port. */
export interface TestRelay {
  relay: Relay;
  config: Config;
  /** `ws://127.0.0.1:<port>/ws` */
  url: string;
  /** `http://127.0.0.1:<port>` */
  http: string;
  close(): Promise<void>;
}

/**
 * Start a relay with `env` overrides, on port 0 unless `env.PORT` is set.
 * Presence is in memory, so relays of one test process never count each
 * other's widgets unless they share a network. Last values are kept in
 * memory unless `env.CUPD_STORE` asks for another store.
 */
export function startRelay(
  env: Record<string, string> = {},
  bus: Bus = new MemoryBus(),
  presence: PresenceChannel = new MemoryPresence(),
  store?: LastValueStore,
): TestRelay {
  const config = loadConfig({
    LOG_LEVEL: "silent",
    CUPD_STORE: "memory",
    ...env,
  });
  const log = new Logger(config.logLevel);
  const relay = createRelay({ config, log, bus, presence, store });
  const port = env.PORT ? config.port : 0;
  const server = Deno.serve(
    { port, hostname: "127.0.0.1", onListen: () => {} },
    relay.fetch,
  );
  return {
    relay,
    config,
    url: `ws://127.0.0.1:${server.addr.port}/ws`,
    http: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      await relay.shutdown();
      await server.shutdown();
    },
  };
}

/** A frame as the test sees it. */
// deno-lint-ignore no-explicit-any
export type Frame = Record<string, any>;

/**
 * A WebSocket client with an awaitable inbox. Audience frames arrive
 * whenever counts change, in no fixed order with other frames, so they are
 * kept apart in {@linkcode TestClient.audience} rather than in the inbox.
 */
export class TestClient {
  readonly socket: WebSocket;
  readonly frames: Frame[] = [];
  /** Widget counts from audience frames, in order of arrival. */
  readonly audience: number[] = [];
  readonly closed: Promise<CloseEvent>;
  #waiters: (() => void)[] = [];
  #read = 0;

  private constructor(url: string) {
    this.socket = new WebSocket(url);
    this.socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "audience") this.audience.push(frame.widgets);
      else this.frames.push(frame);
      this.#wake();
    };
    this.closed = new Promise((resolve) => {
      this.socket.addEventListener("close", (event) => {
        resolve(event);
        this.#wake();
      });
    });
  }

  /** Connect and read the welcome frame. */
  static async connect(url: string): Promise<TestClient & { uid: string }> {
    const client = new TestClient(url);
    const welcome = await client.next();
    if (welcome.type !== "welcome") throw new Error("expected welcome");
    return Object.assign(client, { uid: welcome.uid as string });
  }

  /** Connect as a provider of `name`. */
  static async provider(url: string, name: string): Promise<TestClient> {
    const client = await TestClient.connect(url);
    client.send({ type: "auth", uid: client.uid, name });
    await client.expect({ type: "authenticated", name });
    return client;
  }

  /** Connect as a widget of `names`. */
  static async widget(url: string, ...names: string[]): Promise<TestClient> {
    const client = await TestClient.connect(url);
    for (const name of names) {
      client.send({ type: "subscribe", name });
      await client.expect({ type: "subscribed", name });
    }
    return client;
  }

  get isolate(): string {
    return this.frames[0].isolate;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The next unread frame; fails after `ms`. */
  async next(ms = 5000): Promise<Frame> {
    const deadline = Date.now() + ms;
    while (this.#read >= this.frames.length) {
      if (this.socket.readyState === WebSocket.CLOSED) {
        throw new Error("socket closed while waiting for a frame");
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames[this.#read++];
  }

  /** Read the next frame and check it has every field of `fields`. */
  async expect(fields: Frame): Promise<Frame> {
    const frame = await this.next();
    for (const [key, value] of Object.entries(fields)) {
      if (JSON.stringify(frame[key]) !== JSON.stringify(value)) {
        throw new Error(
          `expected ${JSON.stringify(fields)}, got ${JSON.stringify(frame)}`,
        );
      }
    }
    return frame;
  }

  /** Frames received but not read yet. */
  get unread(): Frame[] {
    return this.frames.slice(this.#read);
  }

  /** Round-trip a ping so every earlier frame has been processed. */
  async sync(): Promise<void> {
    this.send({ type: "ping" });
    await this.expect({ type: "pong" });
  }

  async close(): Promise<void> {
    if (this.socket.readyState < WebSocket.CLOSING) this.socket.close();
    await this.closed;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Wait until `check` holds, polling; fails after `ms`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  ms = 5000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const ROOT = new URL("../", import.meta.url);

/**
 * Relay processes keep last values in memory unless a test asks otherwise,
 * so no run sees values left by an earlier one in the default KV file.
 */
export const MEMORY_STORE: Record<string, string> = { CUPD_STORE: "memory" };

/** A free loopback port, found by binding port 0 and letting it go. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A relay started as users start it: `deno run main.ts`. */
export interface RelayProcess {
  child: Deno.ChildProcess;
  url: string;
  http: string;
  /** SIGTERM, then wait for exit; returns stderr. */
  stop(): Promise<string>;
}

/**
 * Start `deno run main.ts` on `port` (a free one by default) and wait until
 * it serves.
 */
export async function startRelayProcess(
  env: Record<string, string> = {},
  port: number = freePort(),
): Promise<RelayProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--unstable-kv", "main.ts"],
    cwd: ROOT,
    env: { LOG_LEVEL: "warn", ...MEMORY_STORE, ...env, PORT: String(port) },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const http = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    return await stderr;
  };

  await waitForHealth(http, async () => `relay did not start: ${await stop()}`);
  return { child, url: `ws://127.0.0.1:${port}/ws`, http, stop };
}

/**
 * Poll `GET /healthz` until it answers 200; after `ms`, throw with the
 * message `giveUp` returns (after cleaning up).
 */
export async function waitForHealth(
  http: string,
  giveUp: () => Promise<string>,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const response = await fetch(`${http}/healthz`);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      if (Date.now() > deadline) throw new Error(await giveUp());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Run `body` against a relay started with `env`, and always close it. */
export async function withRelay(
  env: Record<string, string>,
  body: (relay: TestRelay) => Promise<void>,
): Promise<void> {
  const relay = startRelay(env);
  try {
    await body(relay);
  } finally {
    await relay.close();
  }
}
