import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { loadConfig } from "../src/config.ts";
import { Logger } from "../src/observe/log.ts";
import { MemoryBus } from "../src/relay/bus_memory.ts";
import { MemoryPresence } from "../src/relay/presence_memory.ts";
import { Admission } from "../src/server/admission.ts";
import { createRelay } from "../src/server/relay.ts";
import { eventually, startRelay, TestClient } from "./helpers.ts";
import { closeOf, Opcode, RawSocket } from "./raw_ws.ts";

Deno.test("admission counts addresses apart and frees a slot on release", () => {
  const admission = new Admission({
    maxConnections: 3,
    maxConnectionsPerAddress: 2,
  });
  const a1 = admission.admit("a");
  const a2 = admission.admit("a");
  strictEqual(admission.admit("a"), "address");
  const b1 = admission.admit("b");
  strictEqual(admission.admit("c"), "isolate");

  if (typeof a1 === "string") throw new Error("a1 refused");
  a1.release();
  a1.release(); // a second release is ignored
  strictEqual(admission.size, 2);
  strictEqual(typeof admission.admit("a"), "object");
  strictEqual(typeof a2, "object");
  strictEqual(typeof b1, "object");
});

/** The error frame and close of a refused socket. */
async function refusal(socket: RawSocket) {
  const error = JSON.parse(
    new TextDecoder().decode((await socket.read())!.payload),
  );
  const close = await socket.read();
  strictEqual(close?.opcode, Opcode.close);
  socket.abort();
  return { code: error.code, close: closeOf(close!) };
}

Deno.test("relay refuses sockets over the isolate limit with 4003", async () => {
  const relay = startRelay({ CUPD_MAX_CONNECTIONS: "2" });
  const one = await TestClient.widget(relay.url, "a");
  const two = await TestClient.connect(relay.url);

  deepStrictEqual(await refusal(await RawSocket.connect(relay.url)), {
    code: "too_many_connections",
    close: { code: 4003, reason: "too_many_connections" },
  });
  strictEqual(relay.relay.metrics.refused.value("isolate"), 1);

  await one.close();
  await eventually(() => relay.relay.connections.size === 1);
  const three = await TestClient.widget(relay.url, "a");
  await Promise.all([two.close(), three.close()]);
  await relay.close();
});

Deno.test("relay refuses sockets over the per-address limit with 4003", async () => {
  const relay = startRelay({ CUPD_MAX_CONNECTIONS_PER_ADDRESS: "2" });
  const held = [
    await TestClient.connect(relay.url),
    await TestClient.connect(relay.url),
  ];
  const refused = await refusal(await RawSocket.connect(relay.url));
  strictEqual(refused.close.code, 4003);
  strictEqual(relay.relay.metrics.refused.value("address"), 1);
  await Promise.all(held.map((client) => client.close()));
  await relay.close();
});

Deno.test("per-address limit uses the address the server reports", async () => {
  const config = loadConfig({
    LOG_LEVEL: "silent",
    CUPD_MAX_CONNECTIONS_PER_ADDRESS: "1",
  });
  const relay = createRelay({
    config,
    log: new Logger("silent"),
    bus: new MemoryBus(),
    presence: new MemoryPresence(),
  });
  // Stand in for clients on other machines: the header picks the address
  // the handler is told, as a different peer would.
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (request, info) => {
      const hostname = request.headers.get("x-peer") ?? "";
      const remoteAddr = { ...info.remoteAddr, hostname };
      return relay.fetch(request, { ...info, remoteAddr });
    },
  );
  const url = `ws://127.0.0.1:${server.addr.port}/ws`;

  const a = await RawSocket.connect(url, { "x-peer": "192.0.2.1" });
  const b = await RawSocket.connect(url, { "x-peer": "192.0.2.2" });
  for (const socket of [a, b]) {
    const welcome = await socket.read();
    strictEqual(
      JSON.parse(new TextDecoder().decode(welcome!.payload)).type,
      "welcome",
    );
  }
  const again = await RawSocket.connect(url, { "x-peer": "192.0.2.1" });
  strictEqual((await refusal(again)).close.code, 4003);

  a.abort();
  b.abort();
  await eventually(() => relay.connections.size === 0);
  await relay.shutdown();
  await server.shutdown();
});

/** Send a GET /ws asking to upgrade but with no Sec-WebSocket-Key. */
async function badUpgrade(http: string): Promise<string> {
  const { hostname, port } = new URL(http);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const request = `GET /ws HTTP/1.1\r\nHost: ${hostname}\r\n` +
    "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Version: 13\r\nConnection: close\r\n\r\n";
  await conn.write(new TextEncoder().encode(request));
  const buffer = new Uint8Array(4096);
  const read = await conn.read(buffer);
  conn.close();
  return new TextDecoder().decode(buffer.subarray(0, read ?? 0));
}

Deno.test("a malformed upgrade is a 400 and holds no connection slot", async () => {
  const relay = startRelay({ CUPD_MAX_CONNECTIONS_PER_ADDRESS: "2" });
  for (let i = 0; i < 4; i++) {
    const answer = await badUpgrade(relay.http);
    strictEqual(answer.split("\r\n")[0], "HTTP/1.1 400 Bad Request");
    strictEqual(answer.includes('"error":"bad_upgrade"'), true, answer);
  }

  const widgets = [
    await TestClient.widget(relay.url, "a"),
    await TestClient.widget(relay.url, "a"),
  ];
  strictEqual(relay.relay.metrics.refused.value("address"), 0);
  strictEqual(relay.relay.metrics.faults.value("http"), 0);
  await Promise.all(widgets.map((widget) => widget.close()));
  await relay.close();
});
