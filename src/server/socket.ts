/**
 * The glue between a Deno WebSocket and a {@linkcode Session}: the only
 * module that touches socket objects. It feeds frames to the session and
 * carries out the effects it returns against the hub and the socket.
 *
 * @module
 */

import type { AuthPolicy } from "../auth/policy.ts";
import type { Verdict } from "../protocol/access.ts";
import type { Effect } from "../protocol/session.ts";
import { Session, type SessionLimits } from "../protocol/session.ts";
import { CloseCode } from "../protocol/codes.ts";
import { encode } from "../protocol/messages.ts";
import type { Hub, Sink } from "../relay/hub.ts";
import type { Audience } from "../relay/audience.ts";
import type { Census } from "../relay/census.ts";
import type { Logger } from "../observe/log.ts";

/** What every socket of an isolate shares. */
export interface SocketContext {
  hub: Hub;
  /** Widget counts over every isolate; kept up to date by each socket. */
  census: Census;
  /** Tells providers their audience. */
  audience: Audience;
  log: Logger;
  limits: SessionLimits;
  handshakeTimeoutMs: number;
  isolate: string;
  connections: Connections;
  /** Who may publish and watch which app. */
  auth: AuthPolicy;
}

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
export function attachSocket(socket: WebSocket, ctx: SocketContext): void {
  const uid = crypto.randomUUID().replaceAll("-", "").toUpperCase();
  const session = new Session(uid, ctx.limits, (name) => ctx.auth.access(name));
  let log = ctx.log.child({ uid });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let unwatch: (() => void) | undefined;
  // Apps subscribed by the current batch of effects, awaiting their
  // acknowledgement, after which their last value is sent.
  const fresh = new Set<string>();

  const sink: Sink = {
    send(frame) {
      if (socket.readyState === WebSocket.OPEN) socket.send(frame);
    },
  };

  const apply = (effects: readonly Effect[]) => {
    for (const effect of effects) {
      switch (effect.kind) {
        case "send":
          sink.send(encode(effect.frame));
          // Audience frames start once the provider has read its
          // acknowledgement, whichever check led to it.
          if (effect.frame.type === "authenticated") {
            unwatch = ctx.audience.watch(effect.frame.name, sink);
          }
          if (
            effect.frame.type === "subscribed" &&
            fresh.delete(effect.frame.name)
          ) {
            ctx.hub.replay(effect.frame.name, sink);
          }
          break;
        case "close":
          log.debug("closing socket", {
            code: effect.code,
            why: effect.reason,
          });
          socket.close(effect.code, effect.reason);
          break;
        case "authenticate":
          log = log.child({ role: "provider", app: effect.name });
          log.debug("provider authenticated");
          break;
        case "subscribe":
          ctx.hub.subscribe(effect.name, sink);
          fresh.add(effect.name);
          ctx.census.setLocal(effect.name, ctx.hub.widgets(effect.name));
          break;
        case "unsubscribe":
          ctx.hub.unsubscribe(effect.name, sink);
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
  };

  const fail = (what: string, error: unknown) => {
    log.error("socket handler failed", { what, error });
    apply(session.close());
    socket.close(CloseCode.internalError, "internal_error");
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
      sink.send(encode(session.welcome(ctx.isolate)));
      timer = setTimeout(
        () => guard("handshake", () => apply(session.handshakeExpired())),
        ctx.handshakeTimeoutMs,
      );
    });

  socket.onmessage = (event: MessageEvent) =>
    guard("message", () => {
      if (log.enabled("trace")) log.trace("frame in", { frame: event.data });
      if (typeof event.data === "string") {
        apply(session.receiveText(event.data));
      } else {
        apply(session.receiveBinary());
      }
      if (session.state.kind !== "greeted") clearTimeout(timer);
    });

  socket.onclose = (event: CloseEvent) =>
    guard("close", () => {
      clearTimeout(timer);
      ctx.connections.delete(socket);
      unwatch?.();
      apply(session.close());
      log.debug("socket closed", { code: event.code });
    });

  socket.onerror = (event) => {
    const message = event instanceof ErrorEvent ? event.message : "error";
    log.debug("socket error", { message });
  };
}
