import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { eventually, startRelay, TestClient } from "./helpers.ts";

/**
 * Run `misbehave` on one socket while a provider streams to a widget, and
 * check that the pair loses nothing.
 */
async function withBystanders(
  env: Record<string, string>,
  misbehave: (url: string) => Promise<void>,
): Promise<void> {
  const relay = startRelay(env);
  const widget = await TestClient.widget(relay.url, "calm");
  const provider = await TestClient.provider(relay.url, "calm");

  provider.send({ type: "data", data: "before" });
  await misbehave(relay.url);
  provider.send({ type: "data", data: "after" });

  await widget.expect({ type: "data", data: "before" });
  await widget.expect({ type: "data", data: "after" });
  await Promise.all([widget.close(), provider.close()]);
  await relay.close();
}

/** Frames that get an error and leave the socket open, per state. */
const HARMLESS: [string, "greeted" | "provider" | "widget", unknown, string][] =
  [
    ["invalid JSON", "greeted", "{not json", "invalid_json"],
    ["a JSON array", "provider", "[1]", "invalid_message"],
    ["a bare number", "widget", "42", "invalid_message"],
    ["a frame without type", "greeted", { name: "x" }, "invalid_message"],
    ["an unknown type", "widget", { type: "publish" }, "unknown_type"],
    ["data before auth", "greeted", { type: "data", data: 1 }, "wrong_state"],
    ["data from a widget", "widget", { type: "data", data: 1 }, "wrong_state"],
    [
      "a second auth",
      "provider",
      { type: "auth", uid: "", name: "x" },
      "wrong_state",
    ],
    [
      "subscribe from a provider",
      "provider",
      { type: "subscribe", name: "a" },
      "wrong_state",
    ],
    [
      "data with another uid",
      "provider",
      { type: "data", uid: "AB", data: 1 },
      "uid_mismatch",
    ],
    [
      "subscribe to a bad name",
      "widget",
      { type: "subscribe", name: "a b" },
      "invalid_name",
    ],
  ];

async function inState(
  url: string,
  state: "greeted" | "provider" | "widget",
): Promise<TestClient> {
  if (state === "provider") return await TestClient.provider(url, "noisy");
  if (state === "widget") return await TestClient.widget(url, "noisy");
  return await TestClient.connect(url);
}

for (const [what, state, frame, code] of HARMLESS) {
  Deno.test(`relay answers ${what} with ${code} and keeps the socket`, async () => {
    await withBystanders({}, async (url) => {
      const client = await inState(url, state);
      client.send(frame);
      const error = await client.expect({ type: "error", code });
      strictEqual(typeof error.message, "string");
      await client.sync();
      await client.close();
    });
  });
}

Deno.test("relay answers a binary frame with binary_not_supported", async () => {
  await withBystanders({}, async (url) => {
    const client = await TestClient.widget(url, "noisy");
    client.socket.send(new Uint8Array([1, 2, 3]));
    await client.expect({ type: "error", code: "binary_not_supported" });
    await client.sync();
    await client.close();
  });
});

Deno.test("relay closes with 4504 on an oversize frame", async () => {
  await withBystanders({ CUPD_MAX_FRAME_BYTES: "1024" }, async (url) => {
    const client = await TestClient.provider(url, "noisy");
    client.send({ type: "data", data: "x".repeat(2000) });
    await client.expect({ type: "error", code: "payload_too_large" });
    const event = await client.closed;
    strictEqual(event.code, 4504);
    strictEqual(event.reason, "payload_too_large");
  });
});

Deno.test("relay closes with 4501 on auth with a wrong uid", async () => {
  await withBystanders({}, async (url) => {
    const client = await TestClient.connect(url);
    client.send({ type: "auth", uid: "0".repeat(32), name: "calm" });
    await client.expect({ type: "error", code: "uid_mismatch" });
    strictEqual((await client.closed).code, 4501);
  });
});

Deno.test("relay closes with 4501 on auth with an invalid app name", async () => {
  await withBystanders({}, async (url) => {
    const client = await TestClient.connect(url);
    client.send({ type: "auth", uid: client.uid, name: "no/slashes" });
    await client.expect({ type: "error", code: "invalid_name" });
    strictEqual((await client.closed).code, 4501);
  });
});

Deno.test("relay closes with 4500 after too many bad frames", async () => {
  await withBystanders({ CUPD_MAX_ERRORS: "3" }, async (url) => {
    const client = await TestClient.widget(url, "noisy");
    for (let i = 0; i < 4; i++) client.send("nope");
    for (let i = 0; i < 4; i++) {
      await client.expect({ type: "error", code: "invalid_json" });
    }
    await client.expect({ type: "error", code: "too_many_errors" });
    strictEqual((await client.closed).code, 4500);
  });
});

Deno.test("relay refuses subscriptions over the per-socket limit", async () => {
  await withBystanders({ CUPD_MAX_SUBSCRIPTIONS: "2" }, async (url) => {
    const client = await TestClient.widget(url, "one", "two");
    client.send({ type: "subscribe", name: "three" });
    await client.expect({ type: "error", code: "too_many_subscriptions" });
    await client.sync();
    await client.close();
  });
});

Deno.test("handshake timeout closes a silent socket with 4001", async () => {
  await withBystanders({ CUPD_HANDSHAKE_TIMEOUT_MS: "200" }, async (url) => {
    const silent = await TestClient.connect(url);
    await silent.expect({ type: "error", code: "handshake_timeout" });
    const event = await silent.closed;
    strictEqual(event.code, 4001);
  });
});

Deno.test("handshake timeout spares sockets that identified in time", async () => {
  const relay = startRelay({ CUPD_HANDSHAKE_TIMEOUT_MS: "100" });
  const widget = await TestClient.widget(relay.url, "app");
  const provider = await TestClient.provider(relay.url, "app");
  await new Promise((resolve) => setTimeout(resolve, 300));
  provider.send({ type: "data", data: "still here" });
  await widget.expect({ type: "data", data: "still here" });
  await Promise.all([widget.close(), provider.close()]);
  await relay.close();
});

Deno.test("idle timeout closes a client that never answers pings", async () => {
  const relay = startRelay({ CUPD_IDLE_TIMEOUT_MS: "1000" });
  const { port } = new URL(relay.url);
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port: +port });
  const key = btoa(
    String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))),
  );
  await tcp.write(new TextEncoder().encode(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
      `Sec-WebSocket-Version: 13\r\n\r\n`,
  ));

  // Read raw bytes, never answering the server's pings, until the server
  // gives up on us and the TCP stream ends.
  const opcodes: number[] = [];
  const started = Date.now();
  const buffer = new Uint8Array(65536);
  let seen = "";
  for (;;) {
    const n = await tcp.read(buffer);
    if (n === null) break;
    seen += String.fromCharCode(...buffer.subarray(0, n));
    const headerEnd = seen.indexOf("\r\n\r\n");
    if (headerEnd >= 0) {
      opcodes.push(...frameOpcodes(seen.slice(headerEnd + 4)));
    }
    if (Date.now() - started > 10_000) break;
  }
  tcp.close();

  const elapsed = Date.now() - started;
  strictEqual(opcodes.includes(0x9), true, "server sent a ping");
  strictEqual(elapsed < 10_000, true, `closed after ${elapsed} ms`);
  await eventually(() => relay.relay.connections.size === 0);
  await relay.close();
});

/** Opcodes of the server frames in `raw` (server frames are unmasked). */
function frameOpcodes(raw: string): number[] {
  const opcodes = [];
  let at = 0;
  while (at + 2 <= raw.length) {
    const opcode = raw.charCodeAt(at) & 0x0f;
    let length = raw.charCodeAt(at + 1) & 0x7f;
    let header = 2;
    if (length === 126) {
      length = (raw.charCodeAt(at + 2) << 8) | raw.charCodeAt(at + 3);
      header = 4;
    }
    if (at + header + length > raw.length) break;
    opcodes.push(opcode);
    at += header + length;
  }
  return opcodes;
}

Deno.test("a bad socket's close leaves nothing in the hub", async () => {
  const relay = startRelay({ CUPD_MAX_ERRORS: "0" });
  const widget = await TestClient.widget(relay.url, "a", "b");
  widget.send("garbage");
  strictEqual((await widget.closed).code, 4500);
  await eventually(() => relay.relay.connections.size === 0);
  deepStrictEqual(relay.relay.hub.stats(), { apps: 0, subscriptions: 0 });
  await relay.close();
});
