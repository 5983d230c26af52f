/** A real `redis-server` for tests, on a free port, restartable. */

import {
  freePort,
  type RelayProcess,
  startRelayProcess,
  type TestClient,
} from "./helpers.ts";

/**
 * Whether `redis-server` can be started here. When it cannot, and `what`
 * names the tests that need it, say that they are skipped and why.
 */
export async function redisAvailable(what?: string): Promise<boolean> {
  const available = await canStartRedis();
  if (!available && what) {
    // deno-lint-ignore no-console
    console.warn(
      `skipping ${what}: redis-server is missing ` +
        "(Debian: apt-get install redis-server)",
    );
  }
  return available;
}

async function canStartRedis(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("redis-server", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/** One `redis-server` process with persistence off. */
export class RedisServer {
  readonly port = freePort();
  readonly url = `redis://127.0.0.1:${this.port}`;
  #child?: Deno.ChildProcess;

  /** Start (or start again on the same port) and wait until it answers. */
  async start(): Promise<void> {
    this.#child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const conn = await Deno.connect({ port: this.port });
        await conn.write(new TextEncoder().encode("PING\r\n"));
        const buffer = new Uint8Array(16);
        const n = await conn.read(buffer);
        conn.close();
        if (
          n && new TextDecoder().decode(buffer.subarray(0, n)) === "+PONG\r\n"
        ) {
          return;
        }
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error("redis-server did not start");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Freeze the server: connections stay open, nothing is answered. */
  pause(): void {
    this.#child?.kill("SIGSTOP");
  }

  /** Let a frozen server go on. */
  resume(): void {
    this.#child?.kill("SIGCONT");
  }

  /** Stop the server and wait until it has exited. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child) return;
    child.kill("SIGKILL");
    await child.status;
  }
}

/** Run `body` with a fresh Redis, stopped afterwards whatever happens. */
export async function withRedis(
  body: (redis: RedisServer) => Promise<void>,
): Promise<void> {
  const redis = new RedisServer();
  await redis.start();
  try {
    await body(redis);
  } finally {
    await redis.stop();
  }
}

/**
 * Send one command to Redis over a fresh connection and return its raw
 * RESP answer, so tests can inspect Redis (`PUBSUB NUMSUB`) or publish
 * stray messages without another client library.
 */
export async function redisCommand(
  port: number,
  ...args: string[]
): Promise<string> {
  const encoder = new TextEncoder();
  const request = `*${args.length}\r\n` +
    args.map((arg) => `$${encoder.encode(arg).length}\r\n${arg}\r\n`).join("");
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(encoder.encode(request));
    const buffer = new Uint8Array(64 * 1024);
    const n = await conn.read(buffer);
    return new TextDecoder().decode(buffer.subarray(0, n ?? 0));
  } finally {
    conn.close();
  }
}

/** Subscribers of `channel`, as `PUBSUB NUMSUB` counts them. */
export async function subscribers(
  port: number,
  channel: string,
): Promise<number> {
  const answer = await redisCommand(port, "PUBSUB", "NUMSUB", channel);
  const match = answer.match(/:(\d+)\r\n$/);
  if (!match) throw new Error(`unexpected NUMSUB answer: ${answer}`);
  return Number(match[1]);
}

/**
 * Run `body` with a Redis and two relay processes (`deno run main.ts`, as
 * behind a load balancer) joined through it, started with `env`; stop all
 * of them afterwards.
 */
export async function withTwoNodes(
  env: Record<string, string>,
  body: (nodes: RelayProcess[], redis: RedisServer) => Promise<void>,
): Promise<void> {
  await withRedis(async (redis) => {
    const nodes: RelayProcess[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        nodes.push(await startRelayProcess({ ...env, REDIS_URL: redis.url }));
      }
      await body(nodes, redis);
    } finally {
      await Promise.all(nodes.map((node) => node.stop()));
    }
  });
}

/** Read `count` data frames and return their payloads. */
export async function payloads(
  widget: TestClient,
  count: number,
): Promise<unknown[]> {
  const values: unknown[] = [];
  for (let i = 0; i < count; i++) values.push((await widget.next()).data);
  return values;
}

/**
 * Wait until every widget receives the provider's payloads (the bus
 * subscriptions are in place), then read the probes away.
 */
export async function widgetsReady(
  provider: TestClient,
  widgets: TestClient[],
): Promise<void> {
  let probe = 0;
  const arrived = () =>
    widgets.every((w) => w.unread.some((f) => f.data?.probe === probe));
  for (; probe < 100; probe++) {
    provider.send({ type: "data", data: { probe } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (arrived()) break;
  }
  for (const widget of widgets) {
    while ((await widget.next()).data?.probe !== probe);
  }
}

/**
 * Send several commands to Redis in one write, so Redis runs them back to
 * back, and return the raw answers. Reads until one line per command has
 * come, so it suits commands answering with a status or an integer.
 */
export async function redisPipeline(
  port: number,
  commands: string[][],
): Promise<string> {
  const encoder = new TextEncoder();
  const request = commands.map((args) =>
    `*${args.length}\r\n` +
    args.map((arg) => `$${encoder.encode(arg).length}\r\n${arg}\r\n`).join("")
  ).join("");
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(encoder.encode(request));
    let answers = "";
    const buffer = new Uint8Array(64 * 1024);
    while (answers.split("\r\n").length <= commands.length) {
      const n = await conn.read(buffer);
      if (n === null) break;
      answers += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return answers;
  } finally {
    conn.close();
  }
}
