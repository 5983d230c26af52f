/**
 * Soak run: starts a relay process (`deno run main.ts`) on loopback, streams
 * steady provider load to many widgets for a bounded time, then reports
 * frames lost, out of order, delivery latency percentiles (from a
 * timestamp inside each payload) and the relay's resident memory at start
 * and end (from `/metrics`).
 *
 *     deno task soak [--duration 120] [--widgets 200] [--rate 100]
 *                    [--bytes 256]
 *
 * Exits 1 when any frame was lost or reordered. Everything stops by itself.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import { freePort, waitForHealth } from "../helpers.ts";

const flags = parseFlags(Deno.args, {
  duration: 120,
  widgets: 200,
  rate: 100,
  bytes: 256,
});
const ROOT = new URL("../../", import.meta.url);
const APP = "soak";

/** Latency histogram: 0.1 ms buckets up to 10 s, the rest in the last. */
class Histogram {
  readonly #buckets = new Uint32Array(100_001);
  count = 0;
  max = 0;

  add(ms: number): void {
    const bucket = Math.min(this.#buckets.length - 1, Math.floor(ms * 10));
    this.#buckets[Math.max(0, bucket)]++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  percentile(p: number): number {
    const rank = Math.ceil(this.count * p);
    let seen = 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      seen += this.#buckets[i];
      if (seen >= rank) return (i + 1) / 10;
    }
    return Infinity;
  }
}

interface Widget {
  socket: WebSocket;
  next: number;
  received: number;
  disorder: number;
  closed: boolean;
}

async function main(): Promise<number> {
  const port = freePort();
  const http = `http://127.0.0.1:${port}`;
  const url = `ws://127.0.0.1:${port}/ws`;
  const relay = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--unstable-kv", "main.ts"],
    cwd: ROOT,
    // A fresh in-memory store: no last value of an earlier run reaches
    // the widgets.
    env: { PORT: String(port), LOG_LEVEL: "warn", CUPD_STORE: "memory" },
    stdout: "null",
    stderr: "inherit",
  }).spawn();

  try {
    await waitForHealth(
      http,
      () => Promise.resolve("relay did not start"),
      30_000,
    );
    const latency = new Histogram();
    const widgets: Widget[] = [];
    for (let i = 0; i < flags.widgets; i++) {
      widgets.push(await widget(url, latency));
    }
    const provider = await providerSocket(url);
    const rssStart = await rss(http);
    console.log(
      `relay on ${http}: ${flags.widgets} widgets, ${flags.rate} msg/s, ` +
        `${flags.bytes} B payloads, ${flags.duration} s; RSS ${mb(rssStart)}`,
    );

    const sent = await stream(provider, http, latency, widgets);
    const drained = await drain(widgets, sent, 15_000);
    const rssEnd = await rss(http);

    const lost = widgets.reduce((n, w) => n + (sent - w.received), 0);
    const disorder = widgets.reduce((n, w) => n + w.disorder, 0);
    const report = {
      sent,
      expected: sent * widgets.length,
      delivered: latency.count,
      lost,
      outOfOrder: disorder,
      widgetsClosed: widgets.filter((w) => w.closed).length,
      drained,
      latencyMs: {
        p50: latency.percentile(0.5),
        p90: latency.percentile(0.9),
        p99: latency.percentile(0.99),
        p999: latency.percentile(0.999),
        max: Math.round(latency.max * 10) / 10,
      },
      rssStart: mb(rssStart),
      rssEnd: mb(rssEnd),
    };
    console.log(JSON.stringify(report, null, 2));
    provider.close();
    for (const w of widgets) w.socket.close();
    return lost === 0 && disorder === 0 ? 0 : 1;
  } finally {
    try {
      relay.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await relay.status;
  }
}

/** Send at the target rate for the duration; returns payloads sent. */
async function stream(
  provider: WebSocket,
  http: string,
  latency: Histogram,
  widgets: Widget[],
): Promise<number> {
  const pad = "x".repeat(Math.max(0, flags.bytes - 40));
  const start = performance.now();
  const end = start + flags.duration * 1000;
  let sent = 0;
  let report = start + 10_000;
  while (performance.now() < end) {
    const due = Math.floor((performance.now() - start) * flags.rate / 1000);
    for (; sent < due; sent++) {
      const data = { seq: sent, t: performance.now(), pad };
      provider.send(JSON.stringify({ type: "data", data }));
    }
    if (performance.now() >= report) {
      report += 10_000;
      const behind = widgets.reduce((n, w) => n + (sent - w.received), 0);
      console.log(
        `${Math.round((performance.now() - start) / 1000)} s: sent ${sent}, ` +
          `p99 ${latency.percentile(0.99)} ms, in flight ${behind}, ` +
          `RSS ${mb(await rss(http))}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return sent;
}

/** Wait until every widget has every payload, or `ms` passed. */
async function drain(widgets: Widget[], sent: number, ms: number) {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (widgets.every((w) => w.received >= sent || w.closed)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

function widget(url: string, latency: Histogram): Promise<Widget> {
  const socket = new WebSocket(url);
  const state: Widget = {
    socket,
    next: 0,
    received: 0,
    disorder: 0,
    closed: false,
  };
  return new Promise((resolve, reject) => {
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "welcome") {
        socket.send(JSON.stringify({ type: "subscribe", name: APP }));
      } else if (frame.type === "subscribed") {
        resolve(state);
      } else if (frame.type === "data") {
        latency.add(performance.now() - frame.data.t);
        if (frame.data.seq !== state.next) state.disorder++;
        state.next = frame.data.seq + 1;
        state.received++;
      }
    };
    socket.onclose = () => {
      state.closed = true;
      reject(new Error("widget closed"));
    };
  });
}

function providerSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  return new Promise((resolve, reject) => {
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "welcome") {
        socket.send(
          JSON.stringify({ type: "auth", uid: frame.uid, name: APP }),
        );
      } else if (frame.type === "authenticated") {
        resolve(socket);
      } else if (frame.type === "error") {
        console.error("provider error", frame);
      }
    };
    socket.onclose = (event) =>
      reject(new Error(`provider closed ${event.code}`));
  });
}

async function rss(http: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const line = text.split("\n").find((l) =>
    l.startsWith("process_resident_memory_bytes ")
  );
  return Number(line?.split(" ")[1]);
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function parseFlags<T extends Record<string, number>>(
  args: string[],
  defaults: T,
): T {
  const values: Record<string, number> = { ...defaults };
  for (let i = 0; i < args.length; i++) {
    const key = args[i].replace(/^--/, "");
    if (!(key in defaults)) throw new Error(`unknown flag ${args[i]}`);
    const value = Number(args[++i]);
    if (!Number.isFinite(value) || value <= 0) {
      throw new Error(`--${key} needs a positive number`);
    }
    values[key] = value;
  }
  return values as T;
}

Deno.exit(await main());
