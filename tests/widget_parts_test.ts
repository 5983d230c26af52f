/** The widget library's pure parts: delays, close codes, URLs. */

import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { closeAction, reconnectDelay, relayUrl } from "../src/client/widget.js";

const bounds = { minDelayMs: 100, maxDelayMs: 1000 };

Deno.test("reconnect delays double from minDelayMs, each within [ceiling/2, ceiling]", () => {
  const ceilings = [100, 200, 400, 800, 1000, 1000];
  ceilings.forEach((ceiling, i) => {
    strictEqual(reconnectDelay(i + 1, bounds, () => 0), ceiling / 2);
    strictEqual(reconnectDelay(i + 1, bounds, () => 0.999999), ceiling);
  });
});

Deno.test("reconnect delays never pass the cap, even after many attempts", () => {
  for (const attempt of [10, 31, 1000, Number.MAX_SAFE_INTEGER]) {
    const delay = reconnectDelay(attempt, bounds);
    ok(delay >= 500 && delay <= 1000, `attempt ${attempt}: ${delay}`);
  }
});

Deno.test("reconnect delays are jittered", () => {
  const delays = new Set(
    Array.from({ length: 50 }, () => reconnectDelay(4, bounds)),
  );
  ok(delays.size > 10, `only ${delays.size} distinct delays`);
});

Deno.test("reconnect delays default to half a second, capped at thirty", () => {
  strictEqual(reconnectDelay(1, {}, () => 0.999999), 500);
  strictEqual(reconnectDelay(100, {}, () => 0.999999), 30_000);
});

Deno.test("close codes 4500-4999 stop; relay 4000-4499 and standard codes reconnect", () => {
  const table: [number, "reconnect" | "stop"][] = [
    [1000, "reconnect"],
    [1001, "reconnect"],
    [1006, "reconnect"],
    [1011, "reconnect"],
    [3000, "reconnect"],
    [4000, "reconnect"],
    [4001, "reconnect"],
    [4006, "reconnect"],
    [4499, "reconnect"],
    [4500, "stop"],
    [4501, "stop"],
    [4503, "stop"],
    [4504, "stop"],
    [4999, "stop"],
  ];
  deepStrictEqual(
    table.map(([code]) => [code, closeAction(code)]),
    table,
  );
});

Deno.test("relay URLs map http to ws and https to wss", () => {
  strictEqual(relayUrl("http://example.com/ws"), "ws://example.com/ws");
  strictEqual(relayUrl("https://example.com/ws"), "wss://example.com/ws");
  strictEqual(
    relayUrl("wss://example.com:8443/ws"),
    "wss://example.com:8443/ws",
  );
  strictEqual(relayUrl(new URL("http://[::1]:8000/ws")), "ws://[::1]:8000/ws");
});

Deno.test("a relay URL is needed outside a page, and must be ws or http", () => {
  throws(() => relayUrl(), /needs a URL outside a web page/);
  throws(() => relayUrl("ftp://example.com/"), /not ws or http/);
});
