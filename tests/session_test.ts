import {
  deepStrictEqual as same,
  strictEqual as assertEquals,
} from "node:assert/strict";
import { CloseCode, ErrorCode } from "../src/protocol/codes.ts";
import { Session } from "../src/protocol/session.ts";
import type { Effect } from "../src/protocol/session_types.ts";

const UID = "ACA764FEF7ED43D3BF7D31472B952987";
const LIMITS = { maxFrameBytes: 1024, maxSubscriptions: 3, maxErrors: 5 };

type StateName = "greeted" | "provider" | "widget" | "closed";

function sessionIn(state: StateName): Session {
  const session = new Session(UID, LIMITS);
  if (state === "provider") {
    session.receiveText(JSON.stringify({ type: "auth", uid: UID, name: "a" }));
  }
  if (state === "widget") {
    session.receiveText(JSON.stringify({ type: "subscribe", name: "w" }));
  }
  if (state === "closed") session.close();
  assertEquals(session.state.kind, state);
  return session;
}

const FRAMES = {
  auth: { type: "auth", uid: UID, name: "b" },
  data: { type: "data", data: { n: 1 } },
  subscribe: { type: "subscribe", name: "x" },
  unsubscribe: { type: "unsubscribe", name: "w" },
  ping: { type: "ping" },
} as const;

const send = (frame: object): Effect => ({ kind: "send", frame } as Effect);
const error = (code: string) => send({ type: "error", code });

/** Drop messages from error frames: the table asserts codes. */
function shape(effects: readonly Effect[]): unknown[] {
  return effects.map((effect) => {
    if (effect.kind === "send" && effect.frame.type === "error") {
      return send({ type: "error", code: effect.frame.code });
    }
    return effect;
  });
}

/** Every client frame type in every state, with the outcome it must get. */
const TABLE: Record<StateName, Record<keyof typeof FRAMES, unknown[]>> = {
  greeted: {
    auth: [
      { kind: "authenticate", name: "b" },
      send({ type: "authenticated", name: "b" }),
    ],
    data: [error(ErrorCode.wrongState)],
    subscribe: [
      { kind: "subscribe", name: "x" },
      send({ type: "subscribed", name: "x" }),
    ],
    unsubscribe: [error(ErrorCode.wrongState)],
    ping: [send({ type: "pong" })],
  },
  provider: {
    auth: [error(ErrorCode.wrongState)],
    data: [{ kind: "publish", name: "a", data: { n: 1 } }],
    subscribe: [error(ErrorCode.wrongState)],
    unsubscribe: [error(ErrorCode.wrongState)],
    ping: [send({ type: "pong" })],
  },
  widget: {
    auth: [error(ErrorCode.wrongState)],
    data: [error(ErrorCode.wrongState)],
    subscribe: [
      { kind: "subscribe", name: "x" },
      send({ type: "subscribed", name: "x" }),
    ],
    unsubscribe: [
      { kind: "unsubscribe", name: "w" },
      send({ type: "unsubscribed", name: "w" }),
    ],
    ping: [send({ type: "pong" })],
  },
  closed: { auth: [], data: [], subscribe: [], unsubscribe: [], ping: [] },
};

for (const [state, row] of Object.entries(TABLE)) {
  for (const [type, expected] of Object.entries(row)) {
    Deno.test(`session in state ${state} answers "${type}" as specified`, () => {
      const session = sessionIn(state as StateName);
      const frame = FRAMES[type as keyof typeof FRAMES];
      same(shape(session.receiveText(JSON.stringify(frame))), expected);
    });
  }
}

/** Inputs that are not valid frames, with the code each gets when open. */
const BAD_INPUTS: [string, string, string][] = [
  ["invalid JSON", "{nope", ErrorCode.invalidJson],
  ["a JSON array", "[1,2]", ErrorCode.invalidMessage],
  ["a JSON string", '"auth"', ErrorCode.invalidMessage],
  ["null", "null", ErrorCode.invalidMessage],
  ["a frame without type", '{"uid":"x"}', ErrorCode.invalidMessage],
  ["a numeric type", '{"type":7}', ErrorCode.invalidMessage],
  ["an unknown type", '{"type":"hello"}', ErrorCode.unknownType],
  [
    "a type from Object.prototype",
    '{"type":"toString"}',
    ErrorCode.unknownType,
  ],
  ["auth without uid", '{"type":"auth","name":"a"}', ErrorCode.invalidMessage],
  [
    "subscribe with a numeric name",
    '{"type":"subscribe","name":1}',
    ErrorCode.invalidMessage,
  ],
  ["data without data", '{"type":"data"}', ErrorCode.invalidMessage],
];

for (const state of ["greeted", "provider", "widget"] as const) {
  for (const [what, text, code] of BAD_INPUTS) {
    Deno.test(`session in state ${state} answers ${what} with ${code}`, () => {
      const session = sessionIn(state);
      same(shape(session.receiveText(text)), [error(code)]);
      assertEquals(session.state.kind, state);
    });
  }

  Deno.test(`session in state ${state} refuses binary frames`, () => {
    const session = sessionIn(state);
    same(shape(session.receiveBinary()), [error(ErrorCode.binaryNotSupported)]);
    assertEquals(session.state.kind, state);
  });

  Deno.test(`session in state ${state} closes on an oversize frame`, () => {
    const session = sessionIn(state);
    const text = JSON.stringify({ type: "data", data: "x".repeat(2000) });
    const effects = shape(session.receiveText(text));
    same(effects.slice(0, 2), [
      error(ErrorCode.payloadTooLarge),
      {
        kind: "close",
        code: CloseCode.frameTooLarge,
        reason: ErrorCode.payloadTooLarge,
      },
    ]);
    assertEquals(session.state.kind, "closed");
  });
}

Deno.test("session in state closed ignores every input", () => {
  const session = sessionIn("closed");
  same(session.receiveText("{nope"), []);
  same(session.receiveBinary(), []);
  same(session.handshakeExpired(), []);
  same(session.close(), []);
});

Deno.test("session counts oversize frames in UTF-8 bytes", () => {
  const session = new Session(UID, LIMITS);
  session.receiveText(JSON.stringify({ type: "auth", uid: UID, name: "a" }));
  // 300 three-byte characters: 600 UTF-16 units, 900 bytes of payload.
  const fits = JSON.stringify({ type: "data", data: "€".repeat(300) });
  assertEquals(session.receiveText(fits)[0].kind, "publish");
  const over = JSON.stringify({ type: "data", data: "€".repeat(400) });
  assertEquals(session.receiveText(over).at(-1)?.kind, "close");
});

Deno.test("session rejects auth with another socket's uid and closes", () => {
  const session = new Session(UID, LIMITS);
  const effects = session.receiveText(
    JSON.stringify({ type: "auth", uid: "0".repeat(32), name: "a" }),
  );
  same(shape(effects), [
    error(ErrorCode.uidMismatch),
    { kind: "close", code: CloseCode.authFailed, reason: "uid_mismatch" },
  ]);
  assertEquals(session.state.kind, "closed");
});

Deno.test("session rejects auth with an invalid app name and closes", () => {
  for (const name of ["", "a b", "x".repeat(65), "ü", "a/b"]) {
    const session = new Session(UID, LIMITS);
    const effects = session.receiveText(
      JSON.stringify({ type: "auth", uid: UID, name }),
    );
    same(shape(effects), [
      error(ErrorCode.invalidName),
      { kind: "close", code: CloseCode.authFailed, reason: "invalid_name" },
    ]);
  }
});

Deno.test("session rejects data whose optional uid does not match", () => {
  const session = sessionIn("provider");
  const text = JSON.stringify({ type: "data", uid: "F".repeat(32), data: 1 });
  same(shape(session.receiveText(text)), [error(ErrorCode.uidMismatch)]);
  const good = JSON.stringify({ type: "data", uid: UID, data: 2 });
  same(session.receiveText(good), [{ kind: "publish", name: "a", data: 2 }]);
});

Deno.test("session publishes every kind of JSON value unchanged", () => {
  const session = sessionIn("provider");
  for (const data of ["s", 0, -1.5, true, false, null, [1, [2]], { a: {} }]) {
    const effects = session.receiveText(JSON.stringify({ type: "data", data }));
    same(effects, [{ kind: "publish", name: "a", data }]);
  }
});

Deno.test("session rejects subscribe to an invalid app name but lives", () => {
  const session = sessionIn("widget");
  const text = JSON.stringify({ type: "subscribe", name: "no spaces" });
  same(shape(session.receiveText(text)), [error(ErrorCode.invalidName)]);
  assertEquals(session.state.kind, "widget");
});

Deno.test("session acknowledges repeated subscribe and unsubscribe once", () => {
  const session = sessionIn("widget");
  const again = JSON.stringify({ type: "subscribe", name: "w" });
  same(session.receiveText(again), [send({ type: "subscribed", name: "w" })]);
  const off = JSON.stringify({ type: "unsubscribe", name: "w" });
  assertEquals(session.receiveText(off).length, 2);
  same(session.receiveText(off), [send({ type: "unsubscribed", name: "w" })]);
  assertEquals(session.state.kind, "widget");
});

Deno.test("session limits subscriptions per socket", () => {
  const session = sessionIn("widget");
  for (const name of ["b", "c"]) {
    session.receiveText(JSON.stringify({ type: "subscribe", name }));
  }
  const fourth = JSON.stringify({ type: "subscribe", name: "d" });
  same(shape(session.receiveText(fourth)), [
    error(ErrorCode.tooManySubscriptions),
  ]);
});

Deno.test("session close unsubscribes every app of a widget", () => {
  const session = sessionIn("widget");
  session.receiveText(JSON.stringify({ type: "subscribe", name: "x" }));
  same(session.close(), [
    { kind: "unsubscribe", name: "w" },
    { kind: "unsubscribe", name: "x" },
  ]);
});

Deno.test("session closes after too many bad frames", () => {
  const session = sessionIn("widget");
  for (let i = 0; i < LIMITS.maxErrors; i++) {
    same(shape(session.receiveText("{")), [error(ErrorCode.invalidJson)]);
  }
  same(shape(session.receiveText("{")), [
    error(ErrorCode.invalidJson),
    error(ErrorCode.tooManyErrors),
    { kind: "close", code: CloseCode.protocolError, reason: "too_many_errors" },
    { kind: "unsubscribe", name: "w" },
  ]);
  assertEquals(session.state.kind, "closed");
});

Deno.test("session handshake timer closes only a socket with no role", () => {
  same(shape(sessionIn("greeted").handshakeExpired()), [
    error(ErrorCode.handshakeTimeout),
    {
      kind: "close",
      code: CloseCode.handshakeTimeout,
      reason: "handshake_timeout",
    },
  ]);
  same(sessionIn("provider").handshakeExpired(), []);
  same(sessionIn("widget").handshakeExpired(), []);
});

Deno.test("session welcome carries the uid and the isolate", () => {
  same(new Session(UID, LIMITS).welcome("iso1"), {
    type: "welcome",
    uid: UID,
    isolate: "iso1",
  });
});
