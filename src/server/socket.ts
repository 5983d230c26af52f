/**
 * The glue between a Deno WebSocket and a {@linkcode Session}: the only
 * module that touches socket objects. It feeds frames to the session and
 * carries out the effects it returns against the hub and the socket.
 *
 * @module
 */

import type { AuthPolicy } from "../auth/policy.ts";
import type { Verdict } from "../protocol/access.ts";
import { Session } from "../protocol/session.ts";
import type {
  Effect,
  SessionLimits,
  SessionState,
} from "../protocol/session_types.ts";
import { CloseCode, ErrorCode } from "../protocol/codes.ts";
import { encode, type ServerFrame } from "../protocol/messages.ts";
import type { Hub, Sink } from "../relay/hub.ts";
import type { Audience } from "../relay/audience.ts";
import type { Census } from "../relay/census.ts";
import type { Clock } from "../relay/clock.ts";
import type { Fields, Logger } from "../observe/log.ts";
import {
  type RelayMetrics,
  type Role,
  utf8Length,
} from "../observe/relay_metrics.ts";
import type { Deadline, Deadlines } from "./deadlines.ts";
import { Outbox } from "./outbox.ts";
import { type AppRates, ProviderGate, type Rate } from "./rate_limit.ts";

/** What every socket of an isolate shares. */
export interface SocketContext {
  hub: Hub;
  /** Widget counts over every isolate; kept up to date by each socket. */
  census: Census;
  /** Tells providers their audience. */
  audience: Audience;
  log: Logger;
  limits: SessionLimits;
  /** The handshake deadline of every socket. */
  handshakes: Deadlines;
  isolate: string;
  connections: Connections;
  /** Who may publish and watch which app. */
  auth: AuthPolicy;
  metrics: RelayMetrics;
  clock: Clock;
  /** A widget whose send buffer stays over `bytes` for `ms` is closed. */
  slowConsumer: { bytes: number; ms: number };
  /** Rate limit of each provider connection. */
  providerRate: Rate;
  /** Rate limits per app, shared with HTTP publish. */
  appRates: AppRates;
  /** Rate-limited frames per 10 s before a provider is closed. */
  rateLimitStrikes: number;
}

/** Close codes that mean a refused handshake, token or app. */
const AUTH_CLOSES: ReadonlySet<number> = new Set([
  CloseCode.authFailed,
  CloseCode.unknownApp,
  CloseCode.forbidden,
]);

/** The open sockets of an isolate, so shutdown can close them all. */
export class Connections {
  readonly #sockets = new Set<WebSocket>();

  get size(): number {
    return this.#sockets.size;
  }

  add(socket: WebSocket): void {
    this.#sockets.add(socket);
  }

  delete(socket: WebSocket): void {
    this.#sockets.delete(socket);
  }

  /** Close every socket with `code` and wait until all are closed. */
  async closeAll(code: number, reason: string, waitMs = 2000): Promise<void> {
    const closed = [...this.#sockets].map((socket) =>
      new Promise<void>((resolve) => {
        socket.addEventListener("close", () => resolve(), { once: true });
        if (socket.readyState >= WebSocket.CLOSING) resolve();
        else socket.close(code, reason);
      })
    );
    await Promise.race([
      Promise.all(closed),
      new Promise((resolve) => setTimeout(resolve, waitMs)),
    ]);
  }
}

/** Run the protocol on a freshly upgraded socket. */
export function attachSocket(
  socket: WebSocket,
  ctx: SocketContext,
  onClosed: () => void = () => {},
): void {
  const uid = crypto.randomUUID().replaceAll("-", "").toUpperCase();
  const { metrics } = ctx;
  let gate: ProviderGate | undefined;
  // The frame being handled is measured once, for metrics and the gate.
  let measured = "";
  let bytes = 0;
  const bytesOf = (text: string) => {
    if (text !== measured) {
      measured = text;
      bytes = utf8Length(text);
    }
    return bytes;
  };
  const session = new Session(
    uid,
    ctx.limits,
    (name) => ctx.auth.access(name),
    (name, text) => (gate ??= newGate(ctx)).admit(name, bytesOf(text)),
  );
  // Bound on first use: with debug off, most sockets never log a line.
  let fields: Fields = { uid };
  let bound: Logger | undefined;
  const log = () => bound ??= ctx.log.child(fields);
  const debug = ctx.log.enabled("debug");
  const trace = ctx.log.enabled("trace");
  let deadline: Deadline | undefined;
  let unwatch: (() => void) | undefined;
  // Apps subscribed by the current batch of effects, awaiting their
  // acknowledgement, after which their last value is sent.
  const fresh = new Set<string>();
  let role: Role | undefined;

  const outbox = new Outbox(
    socket,
    { ...ctx.slowConsumer, clock: ctx.clock },
    (buffered) => closeSlow(buffered),
    metrics,
  );

  // Frames the glue itself sends (acks, errors, audience) are counted
  // here; payloads are counted by the hub, once per fan-out.
  const sink: Sink = {
    send(text) {
      metrics.framesOut.value++;
      metrics.bytesOut.value += utf8Length(text);
      outbox.send(text);
    },
  };

  const track = () => {
    const next = roleOf(session.state, role);
    if (next === role) return;
    metrics.move(role, next);
    role = next;
  };

  const send = (frame: ServerFrame) => {
    if (frame.type === "error") {
      metrics.errors.get(frame.code).value++;
      if (frame.code === ErrorCode.rateLimited) {
        metrics.drops.get("rate_limited").value++;
      }
    }
    sink.send(encode(frame));
    // Audience frames start once the provider has read its
    // acknowledgement, whichever check led to it.
    if (frame.type === "authenticated") {
      unwatch = ctx.audience.watch(frame.name, sink);
    }
  };

  const closeWith = (code: number, reason: string) => {
    metrics.serverCloses.get(reason).value++;
    if (AUTH_CLOSES.has(code)) metrics.authFailures.get("ws").value++;
    socket.close(code, reason);
  };

  const apply = (effects: readonly Effect[]) => {
    for (const effect of effects) {
      switch (effect.kind) {
        case "send":
          send(effect.frame);
          if (
            effect.frame.type === "subscribed" &&
            fresh.delete(effect.frame.name)
          ) {
            ctx.hub.replay(effect.frame.name, outbox);
          }
          break;
        case "close":
          if (debug) {
            log().debug("closing socket", {
              code: effect.code,
              why: effect.reason,
            });
          }
          closeWith(effect.code, effect.reason);
          break;
        case "authenticate":
          fields = { ...fields, role: "provider", app: effect.name };
          bound = undefined;
          if (debug) log().debug("provider authenticated");
          break;
        case "subscribe":
          ctx.hub.subscribe(effect.name, outbox);
          fresh.add(effect.name);
          ctx.census.setLocal(effect.name, ctx.hub.widgets(effect.name));
          break;
        case "unsubscribe":
          ctx.hub.unsubscribe(effect.name, outbox);
          fresh.delete(effect.name);
          ctx.census.setLocal(effect.name, ctx.hub.widgets(effect.name));
          break;
        case "publish":
          ctx.hub.publish(effect.name, effect.data);
          break;
        case "verify-provider":
          settle(ctx.auth.verifyProvider(uid, effect.name, effect.signature));
          break;
        case "verify-widget":
          settle(ctx.auth.verifyWidget(effect.name, effect.token));
          break;
      }
    }
    track();
  };

  // Leave the hub at once: a socket stuck with a full buffer may take
  // long to report its close, and must receive nothing meanwhile.
  const release = () => {
    deadline?.cancel();
    deadline = undefined;
    outbox.dispose();
    unwatch?.();
    unwatch = undefined;
    apply(session.close());
  };

  const closeSlow = (buffered: number) => {
    if (debug) log().debug("closing slow consumer", { buffered });
    closeWith(CloseCode.slowConsumer, ErrorCode.slowConsumer);
    release();
  };

  const fail = (what: string, error: unknown) => {
    metrics.faults.get("socket").value++;
    log().error("socket handler failed", { what, error });
    try {
      release();
      if (socket.readyState < WebSocket.CLOSING) {
        closeWith(CloseCode.internalError, "internal_error");
      }
    } catch (again) {
      log().error("socket cleanup failed", { what, error: again });
    }
  };

  const guard = (what: string, run: () => void) => {
    try {
      run();
    } catch (error) {
      fail(what, error);
    }
  };

  // The session holds frames that arrive meanwhile and replays them, in
  // order, from `verified`; the glue only delivers the verdict.
  const settle = (check: Promise<Verdict>) => {
    check.then(
      (verdict) => guard("verify", () => apply(session.verified(verdict))),
      (error) => fail("verify", error),
    );
  };

  socket.onopen = () =>
    guard("open", () => {
      ctx.connections.add(socket);
      metrics.opened.value++;
      track();
      // Before the welcome, whose send may find the socket gone already.
      deadline = ctx.handshakes.add(() =>
        guard("handshake", () => apply(session.handshakeExpired()))
      );
      send(session.welcome(ctx.isolate));
    });

  socket.onmessage = (event: MessageEvent) =>
    guard("message", () => {
      if (trace) log().trace("frame in", { frame: event.data });
      if (typeof event.data === "string") {
        metrics.textIn.value++;
        metrics.bytesIn.value += bytesOf(event.data);
        apply(session.receiveText(event.data));
        // Forgotten once handled: an idle socket must not pin its last frame.
        measured = "";
      } else {
        metrics.binaryIn.value++;
        apply(session.receiveBinary());
      }
      if (deadline !== undefined && session.state.kind !== "greeted") {
        deadline.cancel();
        deadline = undefined;
      }
    });

  let closed = false;
  socket.onclose = (event: CloseEvent) => {
    if (closed) return; // a stuck socket may report its close twice
    closed = true;
    metrics.closes.get(event.code).value++;
    guard("close", () => {
      ctx.connections.delete(socket);
      release();
      if (debug) log().debug("socket closed", { code: event.code });
    });
    onClosed();
  };

  socket.onerror = (event) => {
    if (!debug) return;
    const message = event instanceof ErrorEvent ? event.message : "error";
    log().debug("socket error", { message });
  };
}

/** The metrics role of a session; `verifying` keeps the role it had. */
function roleOf(state: SessionState, was: Role | undefined): Role | undefined {
  switch (state.kind) {
    case "greeted":
      return "new";
    case "verifying":
      return was;
    case "closed":
      return undefined;
    default:
      return state.kind;
  }
}

function newGate(ctx: SocketContext): ProviderGate {
  return new ProviderGate({
    connection: ctx.providerRate,
    apps: ctx.appRates,
    strikes: ctx.rateLimitStrikes,
    maxFrameBytes: ctx.limits.maxFrameBytes,
    clock: ctx.clock,
  });
}
