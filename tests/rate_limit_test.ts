import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { AppRates, ProviderGate, RateLimit } from "../src/server/rate_limit.ts";
import { Session } from "../src/protocol/session.ts";
import { CloseCode, ErrorCode } from "../src/protocol/codes.ts";
import { ManualClock } from "./manual_clock.ts";
import { utf8Length } from "../src/observe/relay_metrics.ts";
import { startRelay, TestClient } from "./helpers.ts";

const UNLIMITED = { messagesPerSecond: 0, bytesPerSecond: 0 };

function gate(clock: ManualClock, options: {
  connection?: { messagesPerSecond: number; bytesPerSecond: number };
  app?: { messagesPerSecond: number; bytesPerSecond: number };
  strikes?: number;
}): ProviderGate {
  return new ProviderGate({
    connection: options.connection ?? UNLIMITED,
    apps: new AppRates(options.app ?? UNLIMITED, 1024, clock),
    strikes: options.strikes ?? 1000,
    maxFrameBytes: 1024,
    clock,
  });
}

Deno.test("message bucket allows a second's worth, then refills with time", () => {
  const clock = new ManualClock();
  const limit = new RateLimit(
    { messagesPerSecond: 10, bytesPerSecond: 0 },
    0,
    0,
  );
  for (let i = 0; i < 10; i++) strictEqual(limit.admit(1, clock.now()), true);
  strictEqual(limit.admit(1, clock.now()), false);

  clock.advance(100); // one token back
  strictEqual(limit.admit(1, clock.now()), true);
  strictEqual(limit.admit(1, clock.now()), false);
});

Deno.test("byte bucket refuses a frame over the bytes left", () => {
  const limit = new RateLimit(
    { messagesPerSecond: 0, bytesPerSecond: 1000 },
    0,
    0,
  );
  strictEqual(limit.admit(900, 0), true);
  strictEqual(limit.admit(200, 0), false);
  strictEqual(limit.admit(100, 0), true);
  strictEqual(limit.admit(100, 100), true); // 100 ms refilled 100 bytes
  strictEqual(limit.admit(1, 100), false);
});

Deno.test("byte bucket always holds one frame of the largest size", () => {
  const limit = new RateLimit(
    { messagesPerSecond: 0, bytesPerSecond: 10 },
    4096,
    0,
  );
  strictEqual(limit.admit(4096, 0), true);
  strictEqual(limit.admit(1, 0), false);
});

Deno.test("UTF-8 length counts bytes, not UTF-16 units", () => {
  deepStrictEqual(
    ["abc", "é", "€", "😀", "\ud800", "a\udc00b"].map(utf8Length),
    [3, 2, 3, 4, 3, 5],
  );
  strictEqual(
    utf8Length("é".repeat(600)),
    new TextEncoder().encode("é".repeat(600)).length,
  );
});

Deno.test("UTF-8 length of long text never splits a surrogate pair", () => {
  for (
    const text of ["😀".repeat(20_000), "a" + "😀".repeat(20_000) + "\ud800"]
  ) {
    strictEqual(utf8Length(text), new TextEncoder().encode(text).length);
  }
});

Deno.test("app budget is shared by every provider of the app", () => {
  const clock = new ManualClock();
  const apps = new AppRates(
    { messagesPerSecond: 3, bytesPerSecond: 0 },
    0,
    clock,
  );
  const options = {
    connection: UNLIMITED,
    apps,
    strikes: 100,
    maxFrameBytes: 1024,
    clock,
  };
  const one = new ProviderGate(options);
  const two = new ProviderGate(options);
  deepStrictEqual(
    [
      one.admit("a", 1),
      two.admit("a", 1),
      one.admit("a", 1),
      two.admit("a", 1),
    ],
    ["ok", "ok", "ok", "limited"],
  );
  strictEqual(one.admit("b", 1), "ok", "another app has its own budget");
});

Deno.test("a frame refused by the app's budget leaves the connection's intact", () => {
  const clock = new ManualClock();
  const g = gate(clock, {
    connection: { messagesPerSecond: 2, bytesPerSecond: 0 },
    app: { messagesPerSecond: 1, bytesPerSecond: 0 },
  });
  strictEqual(g.admit("a", 1), "ok");
  strictEqual(g.admit("a", 1), "limited");
  strictEqual(g.admit("b", 1), "ok", "connection still had a token");
});

Deno.test("more strikes than allowed in the window is abuse", () => {
  const clock = new ManualClock();
  const g = gate(clock, {
    connection: { messagesPerSecond: 1, bytesPerSecond: 0 },
    strikes: 2,
  });
  strictEqual(g.admit("a", 1), "ok");
  strictEqual(g.admit("a", 1), "limited");
  strictEqual(g.admit("a", 1), "limited");
  strictEqual(g.admit("a", 1), "abusive");
});

Deno.test("strikes are forgotten after the window", () => {
  const clock = new ManualClock();
  const g = gate(clock, {
    connection: { messagesPerSecond: 0.01, bytesPerSecond: 0 },
    strikes: 1,
  });
  strictEqual(g.admit("a", 1), "ok");
  strictEqual(g.admit("a", 1), "limited");
  clock.advance(10_000);
  strictEqual(g.admit("a", 1), "limited", "a new window");
  strictEqual(g.admit("a", 1), "abusive");
});

Deno.test("app buckets that refilled are forgotten when many apps exist", () => {
  const clock = new ManualClock();
  const apps = new AppRates(
    { messagesPerSecond: 1, bytesPerSecond: 0 },
    0,
    clock,
  );
  for (let i = 0; i < 5000; i++) apps.admit(`app${i}`, 1);
  clock.advance(2000);
  apps.admit("late", 1);
  strictEqual(apps.size < 1000, true, `${apps.size} buckets kept`);
});

Deno.test("session drops a limited data frame with rate_limited and stays open", () => {
  const verdicts = ["ok", "limited", "ok"] as const;
  let call = 0;
  const session = new Session(
    "U",
    { maxFrameBytes: 1024, maxSubscriptions: 1, maxErrors: 0 },
    undefined,
    () => verdicts[call++],
  );
  session.receiveText(JSON.stringify({ type: "auth", uid: "U", name: "a" }));
  const data = JSON.stringify({ type: "data", data: 1 });

  strictEqual(session.receiveText(data)[0].kind, "publish");
  const limited = session.receiveText(data);
  strictEqual(limited.length, 1);
  const effect = limited[0];
  strictEqual(
    effect.kind === "send" && effect.frame.type === "error" &&
      effect.frame.code,
    ErrorCode.rateLimited,
  );
  strictEqual(
    session.receiveText(data)[0].kind,
    "publish",
    "maxErrors 0 spared it",
  );
});

Deno.test("session closes an abusive provider with 4004", () => {
  const session = new Session(
    "U",
    { maxFrameBytes: 1024, maxSubscriptions: 1, maxErrors: 10 },
    undefined,
    () => "abusive",
  );
  session.receiveText(JSON.stringify({ type: "auth", uid: "U", name: "a" }));
  const effects = session.receiveText(
    JSON.stringify({ type: "data", data: 1 }),
  );
  const close = effects.find((effect) => effect.kind === "close");
  deepStrictEqual(close, {
    kind: "close",
    code: CloseCode.rateLimited,
    reason: ErrorCode.rateLimited,
  });
  strictEqual(session.state.kind, "closed");
});

Deno.test("provider over its rate gets rate_limited while another provider is unaffected", async () => {
  const relay = startRelay({
    CUPD_PROVIDER_RATE: "5",
    CUPD_APP_RATE: "0",
    CUPD_RATE_LIMIT_STRIKES: "1000",
  });
  const widget = await TestClient.widget(relay.url, "fast", "calm");
  const fast = await TestClient.provider(relay.url, "fast");
  const calm = await TestClient.provider(relay.url, "calm");

  for (let i = 0; i < 20; i++) fast.send({ type: "data", data: i });
  calm.send({ type: "data", data: "calm" });
  fast.send({ type: "ping" });
  const limited = [];
  for (let frame = await fast.next(); frame.type !== "pong";) {
    limited.push(frame);
    frame = await fast.next();
  }
  strictEqual(limited.every((f) => f.code === "rate_limited"), true);
  strictEqual(limited.length >= 10, true, `${limited.length} limited`);
  const received: unknown[] = [];
  for (let i = 0; i < 20 - limited.length + 1; i++) {
    received.push((await widget.next()).data);
  }
  strictEqual(received.includes("calm"), true);
  strictEqual(received.length, 20 - limited.length + 1);
  strictEqual(relay.relay.metrics.errors.value("rate_limited"), limited.length);
  await Promise.all([widget.close(), fast.close(), calm.close()]);
  await relay.close();
});

Deno.test("provider that keeps sending over its rate is closed with 4004", async () => {
  const relay = startRelay({
    CUPD_PROVIDER_RATE: "2",
    CUPD_RATE_LIMIT_STRIKES: "3",
  });
  const widget = await TestClient.widget(relay.url, "flood");
  const provider = await TestClient.provider(relay.url, "flood");
  provider.send({ type: "data", data: 1 });
  provider.send({ type: "data", data: 2 });
  // One at a time: frames sent after the close would make the runtime
  // reset the connection instead of completing the close.
  for (let strike = 1; strike <= 4; strike++) {
    provider.send({ type: "data", data: "over" });
    await provider.expect({ type: "error", code: "rate_limited" });
  }
  const event = await provider.closed;
  strictEqual(event.code, 4004);
  strictEqual(event.reason, "rate_limited");
  await widget.expect({ data: 1 });
  await widget.expect({ data: 2 });
  await widget.close();
  await relay.close();
});

Deno.test("HTTP publish answers 429 rate_limited over the app's rate", async () => {
  const relay = startRelay({ CUPD_APP_RATE: "2" });
  const statuses: number[] = [];
  let body: Record<string, unknown> = {};
  let retryAfter: string | null = null;
  for (let i = 0; i < 3; i++) {
    const response = await fetch(`${relay.http}/apps/busy/data`, {
      method: "POST",
      body: JSON.stringify(i),
    });
    statuses.push(response.status);
    body = await response.json();
    retryAfter = response.headers.get("retry-after");
  }
  deepStrictEqual(statuses, [202, 202, 429]);
  strictEqual(body.error, "rate_limited");
  strictEqual(retryAfter, "1");
  await relay.close();
});
