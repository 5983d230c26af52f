/**
 * Fuzzing: over 100,000 generated frames from a seeded generator, sent in
 * every state over real sockets to a real relay, plus the session alone for
 * volume. The pure {@linkcode Session} is the oracle: the relay must answer
 * each socket with exactly the frames and the close the session predicts.
 * Meanwhile a well-behaved provider streams to two widgets, which must lose
 * nothing, and at the end the hub must be empty.
 *
 * Set FUZZ_SEED to replay a run.
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { CloseCode, ErrorCode } from "../src/protocol/codes.ts";
import { encode } from "../src/protocol/messages.ts";
import { Session } from "../src/protocol/session.ts";
import type { Effect } from "../src/protocol/session_types.ts";
import { fuzzFrame, invalidUtf8, NAMES, Prng } from "./fuzz_frames.ts";
import { eventually, startRelay, TestClient } from "./helpers.ts";
import { Opcode, RawSocket } from "./raw_ws.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261204);
const SOCKET_FRAMES = 70_000;
const SESSION_FRAMES = 60_000;
const MAX_FRAME_BYTES = 8192;
const LIMITS = {
  maxFrameBytes: MAX_FRAME_BYTES,
  maxSubscriptions: 100,
  maxErrors: 1_000_000,
};
const ENV = {
  CUPD_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES),
  CUPD_MAX_ERRORS: String(LIMITS.maxErrors),
  CUPD_HANDSHAKE_TIMEOUT_MS: "600000",
  CUPD_PROVIDER_RATE: "0",
  CUPD_PROVIDER_BYTE_RATE: "0",
  CUPD_APP_RATE: "0",
  CUPD_APP_BYTE_RATE: "0",
};

const ERROR_CODES = new Set<string>(Object.values(ErrorCode));
const CLOSE_CODES = new Set<number>(Object.values(CloseCode));

type Start = "new" | "provider" | "widget";

/** What the relay must answer, from the session fed the same inputs. */
interface Prediction {
  frames: string[];
  close?: { code: number; reason: string };
  published: number;
}

function predict(effects: readonly Effect[], into: Prediction): void {
  for (const effect of effects) {
    if (effect.kind === "send") into.frames.push(encode(effect.frame));
    if (effect.kind === "close") {
      into.close = { code: effect.code, reason: effect.reason };
    }
    if (effect.kind === "publish") into.published++;
  }
}

/** Frames that answer this socket's own inputs (not deliveries). */
function answers(inbox: string[]): string[] {
  return inbox.slice(1).filter((text) =>
    !text.startsWith('{"type":"data"') &&
    !text.startsWith('{"type":"audience"')
  );
}

async function openSocket(url: string) {
  const socket = new WebSocket(url);
  const inbox: string[] = [];
  socket.onmessage = (event) => {
    inbox.push(typeof event.data === "string" ? event.data : "<binary>");
  };
  const closed = new Promise<CloseEvent>((resolve) => {
    socket.onclose = resolve;
  });
  await eventually(() => inbox.length > 0, 30_000);
  const uid = JSON.parse(inbox[0]).uid as string;
  return { socket, inbox, closed, uid };
}

/** Drive one socket with `count` frames from `start`; returns frames sent. */
async function fuzzSocket(
  url: string,
  rng: Prng,
  start: Start,
  count: number,
): Promise<{ sent: number; published: number }> {
  const { socket, inbox, closed, uid } = await openSocket(url);
  let closeEvent: CloseEvent | undefined;
  closed.then((event) => closeEvent = event);
  const model = new Session(uid, LIMITS);
  const expected: Prediction = { frames: [], published: 0 };
  const sendText = (text: string) => {
    predict(model.receiveText(text.toWellFormed()), expected);
    socket.send(text);
  };

  if (start === "provider") {
    sendText(
      JSON.stringify({ type: "auth", uid, name: rng.pick(NAMES.slice(0, 7)) }),
    );
  } else if (start === "widget") {
    sendText(
      JSON.stringify({ type: "subscribe", name: rng.pick(NAMES.slice(0, 7)) }),
    );
  }

  let sent = start === "new" ? 0 : 1;
  let extras = 0;
  while (sent < count) {
    const input = fuzzFrame(rng, uid, MAX_FRAME_BYTES);
    if (input.kind === "text") {
      sendText(input.text);
    } else {
      predict(model.receiveBinary(), expected);
      socket.send(input.bytes);
    }
    sent++;
    if (model.state.kind !== "closed") continue;

    // After the close: the relay must ignore these. The runtime may reset
    // the connection for them, so the tail of the answers can be lost.
    extras = rng.chance(0.5) ? 1 + rng.int(5) : 0;
    for (let i = 0; i < extras; i++) {
      predict(model.receiveText('{"type":"ping"}'), expected);
      socket.send('{"type":"ping"}');
    }
    sent += extras;
    break;
  }

  const closing = expected.close !== undefined;
  await eventually(
    () =>
      closeEvent !== undefined ||
      (!closing && answers(inbox).length >= expected.frames.length),
    30_000,
  );
  if (!closing) {
    socket.close();
    await closed;
  }

  const got = answers(inbox);
  const context = `seed ${SEED}, start ${start}`;
  if (extras > 0) {
    deepStrictEqual(got, expected.frames.slice(0, got.length), context);
    const code = closeEvent!.code;
    strictEqual(
      code === expected.close!.code || code === 1006 || code === 0,
      true,
      `${context}: close ${code} ${closeEvent!.reason}, expected ${
        expected.close!.code
      }`,
    );
  } else {
    deepStrictEqual(got, expected.frames, context);
    if (closing) {
      strictEqual(closeEvent!.code, expected.close!.code, context);
      strictEqual(closeEvent!.reason, expected.close!.reason, context);
    }
  }
  return { sent, published: expected.published };
}

/**
 * Text that is not UTF-8, sent raw: the runtime drops the connection
 * (no close frame; the relay counts close code 0) after the answers to
 * the frames before it.
 */
async function invalidUtf8Socket(url: string, rng: Prng): Promise<number> {
  const raw = await RawSocket.connect(url);
  await raw.read(); // welcome
  const before = rng.int(4);
  for (let i = 0; i < before; i++) await raw.sendText('{"type":"ping"}');
  await raw.send(Opcode.text, invalidUtf8(rng));
  const frames: string[] = [];
  for (let frame = await raw.read(); frame; frame = await raw.read()) {
    if (frame.opcode === Opcode.close) break;
    frames.push(new TextDecoder().decode(frame.payload));
  }
  raw.abort();
  strictEqual(frames.every((f) => f === '{"type":"pong"}'), true);
  return before + 1;
}

Deno.test("fuzzed frames over real sockets get exactly the session's answers", async () => {
  const relay = startRelay(ENV);
  const started = Date.now();

  // A well-behaved provider streams to two widgets throughout.
  const calmWidgets = [
    await TestClient.widget(relay.url, "calm-feed"),
    await TestClient.widget(relay.url, "calm-feed"),
  ];
  const calm = await TestClient.provider(relay.url, "calm-feed");
  let calmSent = 0;
  let fuzzing = true;
  const streaming = (async () => {
    while (fuzzing) {
      calm.send({ type: "data", data: { seq: calmSent++ } });
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();

  // Sockets in every start state, a few at a time, each with its own seed.
  let frames = 0;
  let published = 0;
  let next = 0;
  const starts: Start[] = ["new", "provider", "widget"];
  const worker = async () => {
    while (frames < SOCKET_FRAMES) {
      const index = next++;
      const rng = new Prng(SEED + index);
      const result = await fuzzSocket(
        relay.url,
        rng,
        starts[index % 3],
        50 + rng.int(600),
      );
      frames += result.sent;
      published += result.published;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const rng = new Prng(SEED - 1);
  for (let i = 0; i < 60; i++) {
    frames += await invalidUtf8Socket(relay.url, rng);
  }

  fuzzing = false;
  await streaming;
  for (const widget of calmWidgets) {
    for (let seq = 0; seq < calmSent; seq++) {
      const frame = await widget.next(30_000);
      deepStrictEqual(frame.data, { seq });
    }
  }
  await Promise.all([...calmWidgets, calm].map((client) => client.close()));
  await eventually(() => relay.relay.connections.size === 0, 30_000);

  strictEqual(frames >= SOCKET_FRAMES, true);
  deepStrictEqual(relay.relay.hub.stats(), { apps: 0, subscriptions: 0 });
  const { metrics } = relay.relay;
  deepStrictEqual(metrics.faults.entries(), [], "no handler ever threw");
  strictEqual(metrics.published.value, published + calmSent);
  for (const [code] of metrics.closes.entries()) {
    const known = CLOSE_CODES.has(+code) ||
      [0, 1000, 1005, 1006].includes(+code);
    strictEqual(known, true, `close code ${code}`);
  }
  for (const [code] of metrics.errors.entries()) {
    strictEqual(ERROR_CODES.has(code), true, `error code ${code}`);
  }
  const health = await fetch(`${relay.http}/healthz`);
  strictEqual(health.status, 200);
  await health.body?.cancel();
  await relay.close();
  // deno-lint-ignore no-console
  console.log(
    `fuzz: ${frames} frames on ${next} sockets in ${Date.now() - started} ms`,
    JSON.stringify({
      errors: Object.fromEntries(metrics.errors.entries()),
      closes: Object.fromEntries(metrics.closes.entries()),
    }),
  );
});

Deno.test("fuzzed frames fed to the session alone always get a documented outcome", () => {
  const rng = new Prng(SEED * 7);
  const uid = "ACA764FEF7ED43D3BF7D31472B952987";
  let session = new Session(uid, { ...LIMITS, maxErrors: 50 });
  for (let i = 0; i < SESSION_FRAMES; i++) {
    const input = fuzzFrame(rng, uid, MAX_FRAME_BYTES);
    const wasClosed = session.state.kind === "closed";
    const effects = input.kind === "text"
      ? session.receiveText(input.text)
      : session.receiveBinary();
    if (wasClosed) {
      strictEqual(effects.length, 0, "a closed session ignores everything");
      session = new Session(uid, { ...LIMITS, maxErrors: 50 });
      continue;
    }
    strictEqual(effects.length > 0, true, `frame ${i} got no outcome`);
    for (const effect of effects) {
      if (effect.kind === "send" && effect.frame.type === "error") {
        strictEqual(ERROR_CODES.has(effect.frame.code), true);
      }
      if (effect.kind === "close") {
        strictEqual(CLOSE_CODES.has(effect.code), true);
        strictEqual(
          new TextEncoder().encode(effect.reason).length <= 123,
          true,
        );
      }
    }
  }
});
