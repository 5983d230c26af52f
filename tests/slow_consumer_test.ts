import { strictEqual } from "node:assert/strict";
import { RelayMetrics } from "../src/observe/relay_metrics.ts";
import { Outbox } from "../src/server/outbox.ts";
import { eventually, startRelay, TestClient } from "./helpers.ts";
import { ManualClock } from "./manual_clock.ts";
import { RawSocket } from "./raw_ws.ts";

/** A socket whose buffer the test sets by hand. */
class FakeSocket {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  sent = 0;
  send(): void {
    this.sent++;
  }
}

function outbox(limit: number, ms: number) {
  const socket = new FakeSocket();
  const clock = new ManualClock();
  const found: number[] = [];
  const metrics = new RelayMetrics();
  const box = new Outbox(
    socket as unknown as WebSocket,
    { bytes: limit, ms, clock },
    (buffered) => found.push(buffered),
    metrics,
  );
  const drops = {
    notOpen: metrics.drops.get("not_open"),
    slow: metrics.drops.get("slow_consumer"),
  };
  const sendMany = (n: number) => {
    for (let i = 0; i < n; i++) box.send("x");
  };
  return { socket, clock, found, drops, box, sendMany };
}

Deno.test("outbox closes a socket that stays over the limit for the grace time", () => {
  const { socket, clock, found, sendMany, drops } = outbox(1000, 500);
  socket.bufferedAmount = 2000;
  sendMany(8);
  strictEqual(found.length, 0, "suspect, not yet slow");
  clock.advance(500);
  strictEqual(found.length, 1);
  sendMany(3);
  strictEqual(socket.sent, 8, "nothing sent once found slow");
  strictEqual(drops.slow.value, 3);
});

Deno.test("outbox spares a socket whose buffer drains within the grace time", () => {
  const { socket, clock, found, sendMany } = outbox(1000, 500);
  socket.bufferedAmount = 2000;
  sendMany(8);
  socket.bufferedAmount = 10;
  clock.advance(500);
  sendMany(16);
  strictEqual(found.length, 0);
  strictEqual(socket.sent, 24);
});

Deno.test("outbox closes at once past four times the limit", () => {
  const { socket, found, sendMany } = outbox(1000, 60_000);
  socket.bufferedAmount = 2000;
  sendMany(8);
  socket.bufferedAmount = 4001;
  sendMany(1);
  strictEqual(found.length, 1);
});

Deno.test("outbox with no grace time closes at the first check over the limit", () => {
  const { socket, found, sendMany } = outbox(1000, 0);
  socket.bufferedAmount = 1001;
  sendMany(8);
  strictEqual(found.length, 1);
  strictEqual(socket.sent, 7, "the checked frame is dropped");
});

Deno.test("outbox counts frames for a socket that is no longer open", () => {
  const { socket, sendMany, drops } = outbox(1000, 0);
  socket.readyState = WebSocket.CLOSING;
  sendMany(2);
  strictEqual(socket.sent, 0);
  strictEqual(drops.notOpen.value, 2);
});

Deno.test("slow widget is closed while others keep receiving", async () => {
  const relay = startRelay({
    CUPD_MAX_FRAME_BYTES: "1048576",
    CUPD_SLOW_CONSUMER_BYTES: "262144",
    CUPD_SLOW_CONSUMER_MS: "200",
    CUPD_PROVIDER_RATE: "0",
    CUPD_PROVIDER_BYTE_RATE: "0",
    CUPD_APP_RATE: "0",
    CUPD_APP_BYTE_RATE: "0",
  });
  // A widget that subscribes by hand and then never reads again.
  const stuck = await RawSocket.connect(relay.url);
  await stuck.read();
  await stuck.sendText(JSON.stringify({ type: "subscribe", name: "feed" }));
  await eventually(() => relay.relay.hub.widgets("feed") === 1);
  const widget = await TestClient.widget(relay.url, "feed");
  const provider = await TestClient.provider(relay.url, "feed");

  // 100 payloads of 200 KB: far more than the kernel buffers of the stuck
  // socket hold, so its relay-side buffer must grow.
  const COUNT = 100;
  const filler = "x".repeat(200_000);
  let worst = 0;
  const received = (async () => {
    for (let i = 0; i < COUNT; i++) {
      const frame = await widget.next(30_000);
      strictEqual(frame.data.i, i);
      worst = Math.max(worst, Date.now() - frame.data.at);
    }
  })();
  for (let i = 0; i < COUNT; i++) {
    provider.send({ type: "data", data: { i, at: Date.now(), filler } });
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await received;

  // Bound for a loaded 2-core machine; a blocked fan-out would take the
  // whole run (seconds) or never finish.
  strictEqual(worst < 3000, true, `worst delay ${worst} ms`);
  await eventually(() => relay.relay.hub.widgets("feed") === 1);
  const { metrics } = relay.relay;
  strictEqual(metrics.serverCloses.value("slow_consumer"), 1);
  strictEqual(metrics.drops.value("slow_consumer") >= 1, true);

  stuck.abort();
  await Promise.all([widget.close(), provider.close()]);
  await eventually(() => relay.relay.connections.size === 0, 10_000);
  await relay.close();
});
