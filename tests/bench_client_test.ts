import { deepStrictEqual as same, strictEqual } from "node:assert/strict";
import { RawSocket } from "../bench/raw_socket.ts";
import { freePort, TestClient, withRelay } from "./helpers.ts";

const ROOT = new URL("../", import.meta.url);

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** A widget on the bench's raw client, subscribed to `name`. */
async function rawWidget(port: number, name: string): Promise<RawSocket> {
  const socket = await RawSocket.connect(port);
  strictEqual(JSON.parse(await socket.nextText(5000)).type, "welcome");
  await socket.send(JSON.stringify({ type: "subscribe", name }));
  same(JSON.parse(await socket.nextText(5000)), { type: "subscribed", name });
  return socket;
}

Deno.test("bench client reads frames of every length the relay sends", async () => {
  await withRelay({ CUPD_MAX_FRAME_BYTES: "262144" }, async (relay) => {
    const widget = await rawWidget(portOf(relay.url), "sizes");
    const provider = await TestClient.provider(relay.url, "sizes");
    try {
      // Lengths that take the 7-bit, 16-bit and 64-bit length forms.
      const values = ["x", "y".repeat(1000), "z".repeat(100_000)];
      for (const value of values) provider.send({ type: "data", data: value });
      for (const value of values) {
        const frame = JSON.parse(await widget.nextText(5000));
        same(frame, { type: "data", name: "sizes", data: value });
      }
    } finally {
      widget.close();
      await provider.close();
    }
  });
});

Deno.test("bench client answers pings, so idle widgets stay connected", async () => {
  await withRelay({ CUPD_IDLE_TIMEOUT_MS: "1000" }, async (relay) => {
    const widget = await rawWidget(portOf(relay.url), "idle");
    const received: string[] = [];
    const decoder = new TextDecoder();
    widget.onFrame = (_op, buf, start, end) =>
      received.push(decoder.decode(buf.subarray(start, end)));
    const reading = widget.run();
    const provider = await TestClient.provider(relay.url, "idle");
    try {
      // Long enough for the server to ping and to give up on silence.
      await new Promise((resolve) => setTimeout(resolve, 3500));
      strictEqual(widget.closed, false);
      provider.send({ type: "data", data: 1 });
      const deadline = Date.now() + 5000;
      while (received.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      same(received.map((text) => JSON.parse(text)), [
        { type: "data", name: "idle", data: 1 },
      ]);
    } finally {
      widget.close();
      await reading;
      await provider.close();
    }
  });
});

Deno.test("baseline relay sends widgets the very frames cupd sends", async () => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "bench/baseline_relay.ts"],
    cwd: ROOT,
    env: { PORT: String(port) },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const payload = { t: 12, n: [1, 2.5, "three"], p: { nested: true } };
  const seen: string[] = [];
  try {
    await withRelay({}, async (relay) => {
      for (const url of [relay.url, `ws://127.0.0.1:${port}/ws`]) {
        const widget = await retry(() => rawWidget(portOf(url), "same"));
        const provider = await TestClient.provider(url, "same");
        provider.send({ type: "data", data: payload });
        seen.push(await widget.nextText(5000));
        widget.close();
        await provider.close();
      }
    });
    strictEqual(seen[1], seen[0]);
    same(JSON.parse(seen[0]), { type: "data", name: "same", data: payload });
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
});

/** The baseline starts in the background: try until it listens (≤ 20 s). */
async function retry<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 20_000;
  while (true) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
