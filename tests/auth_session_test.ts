import {
  deepStrictEqual as same,
  strictEqual as assertEquals,
} from "node:assert/strict";
import type { AppAccess } from "../src/protocol/access.ts";
import { CloseCode, ErrorCode } from "../src/protocol/codes.ts";
import { Session } from "../src/protocol/session.ts";
import type { Effect } from "../src/protocol/session_types.ts";

const UID = "ACA764FEF7ED43D3BF7D31472B952987";
const LIMITS = { maxFrameBytes: 1024, maxSubscriptions: 3, maxErrors: 5 };

/** keyed: registered; vault: private; ghost: unknown; others: open. */
const ACCESS: Record<string, AppAccess> = {
  keyed: "keyed",
  vault: "private",
  ghost: "unknown",
};
const session = () =>
  new Session(UID, LIMITS, (name) => ACCESS[name] ?? "open");

const text = (frame: object) => JSON.stringify(frame);
const auth = (name: string, signature?: string) =>
  text({ type: "auth", uid: UID, name, signature });
const subscribe = (name: string, token?: string) =>
  text({ type: "subscribe", name, token });
const REFUSED = {
  ok: false,
  error: { code: ErrorCode.badSignature, message: "no" },
} as const;

/** Error frames reduced to their code, so tables compare codes only. */
function shape(effects: readonly Effect[]): unknown[] {
  return effects.map((effect) =>
    effect.kind === "send" && effect.frame.type === "error"
      ? { error: effect.frame.code }
      : effect
  );
}

Deno.test("session answers open names at once, with no check", () => {
  const s = session();
  same(shape(s.receiveText(auth("free"))), [
    { kind: "authenticate", name: "free" },
    { kind: "send", frame: { type: "authenticated", name: "free" } },
  ]);
});

Deno.test("session asks to verify a signed provider and holds later frames", () => {
  const s = session();
  same(s.receiveText(auth("keyed", "sig")), [
    { kind: "verify-provider", name: "keyed", signature: "sig" },
  ]);
  assertEquals(s.state.kind, "verifying");
  same(s.receiveText(text({ type: "data", data: 1 })), []);
  same(s.receiveText(text({ type: "ping" })), []);
  same(s.handshakeExpired(), []);

  same(s.verified({ ok: true }), [
    { kind: "authenticate", name: "keyed" },
    { kind: "send", frame: { type: "authenticated", name: "keyed" } },
    { kind: "publish", name: "keyed", data: 1 },
    { kind: "send", frame: { type: "pong" } },
  ]);
  assertEquals(s.state.kind, "provider");
});

Deno.test("session refuses a provider whose check failed and drops held frames", () => {
  const s = session();
  s.receiveText(auth("keyed", "sig"));
  s.receiveText(text({ type: "data", data: "forged" }));
  same(shape(s.verified(REFUSED)), [
    { error: ErrorCode.badSignature },
    { kind: "close", code: CloseCode.authFailed, reason: "bad_signature" },
  ]);
  assertEquals(s.state.kind, "closed");
});

Deno.test("session refuses unsigned auth for a keyed app without a check", () => {
  same(shape(session().receiveText(auth("keyed"))), [
    { error: ErrorCode.signatureRequired },
    {
      kind: "close",
      code: CloseCode.authFailed,
      reason: "signature_required",
    },
  ]);
});

Deno.test("session refuses unknown apps for providers and widgets", () => {
  for (const frame of [auth("ghost", "sig"), subscribe("ghost", "t")]) {
    same(shape(session().receiveText(frame)), [
      { error: ErrorCode.unknownApp },
      { kind: "close", code: CloseCode.unknownApp, reason: "unknown_app" },
    ]);
  }
});

Deno.test("session refuses a private subscribe without a token, closing", () => {
  const s = session();
  s.receiveText(subscribe("free"));
  same(shape(s.receiveText(subscribe("vault"))), [
    { error: ErrorCode.tokenRequired },
    { kind: "close", code: CloseCode.forbidden, reason: "token_required" },
    { kind: "unsubscribe", name: "free" },
  ]);
});

Deno.test("session subscribes a keyed app's widget without a token", () => {
  same(session().receiveText(subscribe("keyed")), [
    { kind: "subscribe", name: "keyed" },
    { kind: "send", frame: { type: "subscribed", name: "keyed" } },
  ]);
});

Deno.test("session checks a private subscribe, then replays held frames in order", () => {
  const s = session();
  same(s.receiveText(subscribe("vault", "jwt")), [
    { kind: "verify-widget", name: "vault", token: "jwt" },
  ]);
  s.receiveText(subscribe("free"));
  s.receiveText(subscribe("vault", "jwt"));
  same(s.verified({ ok: true }), [
    { kind: "subscribe", name: "vault" },
    { kind: "send", frame: { type: "subscribed", name: "vault" } },
    { kind: "subscribe", name: "free" },
    { kind: "send", frame: { type: "subscribed", name: "free" } },
    { kind: "send", frame: { type: "subscribed", name: "vault" } },
  ]);
  same(s.state, { kind: "widget", names: new Set(["vault", "free"]) });
});

Deno.test("session stops replaying at a second check and resumes after it", () => {
  const s = session();
  s.receiveText(subscribe("vault", "one"));
  s.receiveText(text({ type: "unsubscribe", name: "vault" }));
  s.receiveText(subscribe("vault", "two"));
  s.receiveText(text({ type: "ping" }));
  same(s.verified({ ok: true }).at(-1), {
    kind: "verify-widget",
    name: "vault",
    token: "two",
  });
  same(s.verified({ ok: true }), [
    { kind: "subscribe", name: "vault" },
    { kind: "send", frame: { type: "subscribed", name: "vault" } },
    { kind: "send", frame: { type: "pong" } },
  ]);
});

Deno.test("session refusing a widget's token releases its earlier subscriptions", () => {
  const s = session();
  s.receiveText(subscribe("free"));
  s.receiveText(subscribe("vault", "jwt"));
  same(shape(s.verified(REFUSED)), [
    { error: ErrorCode.badSignature },
    { kind: "close", code: CloseCode.forbidden, reason: "bad_signature" },
    { kind: "unsubscribe", name: "free" },
  ]);
});

Deno.test("session ignores a verdict arriving after the socket closed", () => {
  const s = session();
  s.receiveText(subscribe("free"));
  s.receiveText(subscribe("vault", "jwt"));
  same(s.close(), [{ kind: "unsubscribe", name: "free" }]);
  same(s.verified({ ok: true }), []);
  assertEquals(s.state.kind, "closed");
});

Deno.test("session reports held oversize and binary frames in order", () => {
  const s = session();
  s.receiveText(auth("keyed", "sig"));
  s.receiveBinary();
  s.receiveText(text({ type: "data", data: "x".repeat(2000) }));
  s.receiveText(text({ type: "ping" }));
  same(shape(s.verified({ ok: true })), [
    { kind: "authenticate", name: "keyed" },
    { kind: "send", frame: { type: "authenticated", name: "keyed" } },
    { error: ErrorCode.binaryNotSupported },
    { error: ErrorCode.payloadTooLarge },
    {
      kind: "close",
      code: CloseCode.frameTooLarge,
      reason: "payload_too_large",
    },
  ]);
});

Deno.test("session closes a socket that floods while a check runs", () => {
  const s = session();
  s.receiveText(auth("keyed", "sig"));
  const frame = text({ type: "data", data: "y".repeat(900) });
  let effects: readonly Effect[] = [];
  for (let i = 0; i < 2000 && effects.length === 0; i++) {
    effects = s.receiveText(frame);
  }
  same(shape(effects), [
    { error: ErrorCode.backlogFull },
    { kind: "close", code: CloseCode.protocolError, reason: "backlog_full" },
  ]);
  same(s.verified({ ok: true }), []);
});
