/**
 * The handshake state machine of one socket, free of any runtime: it takes
 * plain values (text frames, a binary marker, a timer firing) and answers
 * with {@linkcode Effect}s for the socket glue to carry out.
 *
 * A socket starts `greeted` (welcome sent, role unknown). Its first `auth`
 * makes it a provider, its first `subscribe` a widget. `closed` is final and
 * swallows everything.
 *
 * When an app is registered, proving the right to it needs an asynchronous
 * check (a signature, a token). The session stays synchronous: it returns a
 * `verify-provider` or `verify-widget` effect and waits in `verifying`; the
 * glue runs the check and hands the outcome to {@linkcode Session.verified}.
 * Inputs arriving meanwhile are held by the session itself, not the glue,
 * and handled in arrival order right after the outcome, so a provider may
 * send `data` straight after `auth` without waiting for the answer.
 *
 * @module
 */

import { type AccessLookup, OPEN_ACCESS, type Verdict } from "./access.ts";
import { Backlog, type HeldInput } from "./backlog.ts";
import { invalidName, tooLarge, unknownApp } from "./frame_errors.ts";
import { CloseCode, ErrorCode } from "./codes.ts";
import {
  APP_NAME,
  type ClientFrame,
  type FrameError,
  parseClientFrame,
  type ServerFrame,
} from "./messages.ts";
import type {
  DataGate,
  Effect,
  SessionLimits,
  SessionState,
} from "./session_types.ts";

const UNLIMITED: DataGate = () => "ok";

/**
 * Most text (in UTF-16 code units, about bytes) held while a check runs.
 * A check takes well under a millisecond; a client that sends a megabyte in
 * that time is not waiting for anything and is cut off.
 */
const BACKLOG_LIMIT = 1 << 20;

const NONE: readonly Effect[] = Object.freeze([]);

/** One socket's protocol state. */
export class Session {
  #state: SessionState = { kind: "greeted" };
  #errors = 0;
  readonly uid: string;
  readonly #limits: SessionLimits;
  readonly #access: AccessLookup;
  readonly #backlog: Backlog;
  readonly #gate: DataGate;
  /** The text frame being handled, for the rate limit of data frames. */
  #text = "";

  /**
   * `access` defaults to every name open, as with no registry; `gate`
   * defaults to no rate limit.
   */
  constructor(
    uid: string,
    limits: SessionLimits,
    access: AccessLookup = OPEN_ACCESS,
    gate: DataGate = UNLIMITED,
  ) {
    this.uid = uid;
    this.#limits = limits;
    this.#access = access;
    this.#gate = gate;
    this.#backlog = new Backlog(Math.max(BACKLOG_LIMIT, limits.maxFrameBytes));
  }

  /** The current state. Treat it as read-only. */
  get state(): SessionState {
    return this.#state;
  }

  /** The frame to send when the socket opens. */
  welcome(isolate: string): ServerFrame {
    return { type: "welcome", uid: this.uid, isolate };
  }

  /** Handle one text frame. */
  receiveText(text: string): readonly Effect[] {
    if (this.#state.kind === "closed") return NONE;

    // Measured on arrival so an oversize frame is never held in memory.
    const input: HeldInput = tooLarge(text, this.#limits.maxFrameBytes)
      ? { kind: "oversize" }
      : { kind: "text", text };
    if (this.#state.kind === "verifying") return this.#hold(input);
    return this.#handle(input);
  }

  /** Handle one binary frame: the protocol is JSON text only. */
  receiveBinary(): readonly Effect[] {
    if (this.#state.kind === "closed") return NONE;
    if (this.#state.kind === "verifying") return this.#hold({ kind: "binary" });
    return this.#handle({ kind: "binary" });
  }

  /**
   * The check asked for by the last `verify-*` effect has finished. Admits
   * or refuses, then handles the inputs that arrived meanwhile, in order.
   * Ignored unless the session is `verifying` (the socket may have closed).
   */
  verified(verdict: Verdict): readonly Effect[] {
    const state = this.#state;
    if (state.kind !== "verifying") return NONE;

    const effects: Effect[] = [
      ...(verdict.ok ? this.#admit(state) : this.#refuse(state, verdict.error)),
    ];
    while (this.#state.kind !== "verifying" && this.#state.kind !== "closed") {
      const input = this.#backlog.shift();
      if (!input) break;
      effects.push(...this.#handle(input));
    }
    if (this.#state.kind === "closed") this.#backlog.clear();
    return effects;
  }

  /** The handshake timer fired: close if the socket never identified. */
  handshakeExpired(): readonly Effect[] {
    if (this.#state.kind !== "greeted") return NONE;
    return this.#fatal(
      {
        code: ErrorCode.handshakeTimeout,
        message: "No auth or subscribe frame in time",
      },
      CloseCode.handshakeTimeout,
    );
  }

  /**
   * The socket went away. Returns the cleanup the glue must do: one
   * `unsubscribe` per subscribed app.
   */
  close(): readonly Effect[] {
    const state = this.#state;
    this.#state = { kind: "closed" };
    this.#backlog.clear();
    if (state.kind !== "widget" && state.kind !== "verifying") return NONE;
    return [...state.names].map((name) => ({ kind: "unsubscribe", name }));
  }

  #handle(input: HeldInput): readonly Effect[] {
    if (input.kind === "binary") {
      return this.#reject({
        code: ErrorCode.binaryNotSupported,
        message: "Binary frames are not supported; send JSON text",
      });
    }
    if (input.kind === "oversize") {
      const message =
        `Frame exceeds ${this.#limits.maxFrameBytes} bytes and was dropped`;
      return this.#fatal(
        { code: ErrorCode.payloadTooLarge, message },
        CloseCode.frameTooLarge,
      );
    }

    const parsed = parseClientFrame(input.text);
    if (!parsed.ok) return this.#reject(parsed.error);
    this.#text = input.text;
    const effects = this.#dispatch(parsed.frame);
    // Kept for the gate only while the frame is handled, so an idle socket
    // does not pin the last frame it sent.
    this.#text = "";
    return effects;
  }

  #hold(input: HeldInput): readonly Effect[] {
    if (this.#backlog.push(input)) return NONE;
    return this.#fatal(
      {
        code: ErrorCode.backlogFull,
        message: "Too much sent before the handshake was verified",
      },
      CloseCode.protocolError,
    );
  }

  #dispatch(frame: ClientFrame): readonly Effect[] {
    switch (frame.type) {
      case "ping":
        return [{ kind: "send", frame: { type: "pong" } }];
      case "auth":
        return this.#auth(frame.uid, frame.name, frame.signature);
      case "data":
        return this.#data(frame.uid, frame.data);
      case "subscribe":
        return this.#subscribe(frame.uid, frame.name, frame.token);
      case "unsubscribe":
        return this.#unsubscribe(frame.uid, frame.name);
    }
  }

  #auth(
    uid: string,
    name: string,
    signature: string | undefined,
  ): readonly Effect[] {
    if (this.#state.kind !== "greeted") {
      return this.#wrongState("auth", "the socket already has a role");
    }
    if (uid !== this.uid) {
      return this.#fatal(
        { code: ErrorCode.uidMismatch, message: "uid is not this socket's" },
        CloseCode.authFailed,
      );
    }
    if (!APP_NAME.test(name)) {
      return this.#fatal(invalidName(name), CloseCode.authFailed);
    }

    const access = this.#access(name);
    if (access === "open") return this.#becomeProvider(name);
    if (access === "unknown") {
      return this.#fatal(unknownApp(name), CloseCode.unknownApp);
    }
    if (signature === undefined) {
      return this.#fatal({
        code: ErrorCode.signatureRequired,
        message: `App "${name}" is registered: sign the auth frame`,
      }, CloseCode.authFailed);
    }

    this.#state = {
      kind: "verifying",
      role: "provider",
      name,
      names: new Set(),
    };
    return [{ kind: "verify-provider", name, signature }];
  }

  #becomeProvider(name: string): readonly Effect[] {
    this.#state = { kind: "provider", name };
    return [
      { kind: "authenticate", name },
      { kind: "send", frame: { type: "authenticated", name } },
    ];
  }

  #data(uid: string | undefined, data: unknown): readonly Effect[] {
    const state = this.#state;
    if (state.kind !== "provider") {
      return this.#wrongState("data", "only an authenticated provider sends");
    }
    if (uid !== undefined && uid !== this.uid) return this.#uidMismatch();

    const verdict = this.#gate(state.name, this.#text);
    if (verdict === "ok") return [{ kind: "publish", name: state.name, data }];
    const error = {
      code: ErrorCode.rateLimited,
      message: "Over the rate limit: the data frame was dropped",
    };
    // Not counted toward maxErrors: the frame was fine, only too early.
    if (verdict === "limited") {
      return [{ kind: "send", frame: { type: "error", ...error } }];
    }
    return this.#fatal(
      { ...error, message: "Too many frames over the rate limit" },
      CloseCode.rateLimited,
    );
  }

  #subscribe(
    uid: string | undefined,
    name: string,
    token: string | undefined,
  ): readonly Effect[] {
    const state = this.#state;
    if (state.kind === "provider") {
      return this.#wrongState("subscribe", "providers do not subscribe");
    }
    if (uid !== undefined && uid !== this.uid) return this.#uidMismatch();
    if (!APP_NAME.test(name)) return this.#reject(invalidName(name));

    const names = state.kind === "widget" ? state.names : new Set<string>();
    if (names.has(name)) {
      return [{ kind: "send", frame: { type: "subscribed", name } }];
    }
    if (names.size >= this.#limits.maxSubscriptions) {
      return this.#reject({
        code: ErrorCode.tooManySubscriptions,
        message:
          `A socket may subscribe to ${this.#limits.maxSubscriptions} apps`,
      });
    }
    return this.#subscribeTo(names, name, token);
  }

  /** Subscribe to a new app, checking its token first when it is private. */
  #subscribeTo(
    names: Set<string>,
    name: string,
    token: string | undefined,
  ): readonly Effect[] {
    const access = this.#access(name);
    if (access === "unknown") {
      return this.#fatal(unknownApp(name), CloseCode.unknownApp);
    }
    if (access === "private") {
      if (token === undefined) {
        return this.#fatal({
          code: ErrorCode.tokenRequired,
          message: `App "${name}" is private: subscribe with a token`,
        }, CloseCode.forbidden);
      }
      this.#state = { kind: "verifying", role: "widget", name, names };
      return [{ kind: "verify-widget", name, token }];
    }
    return this.#becomeWidget(names, name);
  }

  #becomeWidget(names: Set<string>, name: string): readonly Effect[] {
    names.add(name);
    this.#state = { kind: "widget", names };
    return [
      { kind: "subscribe", name },
      { kind: "send", frame: { type: "subscribed", name } },
    ];
  }

  #admit(state: SessionState & { kind: "verifying" }): readonly Effect[] {
    if (state.role === "provider") return this.#becomeProvider(state.name);
    return this.#becomeWidget(state.names, state.name);
  }

  /** A refused check ends the socket: retrying cannot make it pass. */
  #refuse(
    state: SessionState & { kind: "verifying" },
    error: FrameError,
  ): readonly Effect[] {
    const code = state.role === "provider"
      ? CloseCode.authFailed
      : CloseCode.forbidden;
    return this.#fatal(error, code);
  }

  #unsubscribe(uid: string | undefined, name: string): readonly Effect[] {
    const state = this.#state;
    if (state.kind !== "widget") {
      return this.#wrongState("unsubscribe", "only a widget subscribes");
    }
    if (uid !== undefined && uid !== this.uid) return this.#uidMismatch();

    const ack: Effect = { kind: "send", frame: { type: "unsubscribed", name } };
    if (!state.names.delete(name)) return [ack];
    return [{ kind: "unsubscribe", name }, ack];
  }

  #uidMismatch(): readonly Effect[] {
    return this.#reject({
      code: ErrorCode.uidMismatch,
      message: "uid is not this socket's",
    });
  }

  #wrongState(type: string, why: string): readonly Effect[] {
    return this.#reject({
      code: ErrorCode.wrongState,
      message: `Cannot accept "${type}" as ${this.#role()}: ${why}`,
    });
  }

  #role(): string {
    return this.#state.kind === "greeted" ? "a new socket" : this.#state.kind;
  }

  /** A harmless mistake: answer with an error, close only on repetition. */
  #reject(error: FrameError): readonly Effect[] {
    this.#errors++;
    if (this.#errors <= this.#limits.maxErrors) {
      return [{ kind: "send", frame: { type: "error", ...error } }];
    }
    return this.#fatal(
      {
        code: ErrorCode.tooManyErrors,
        message: `More than ${this.#limits.maxErrors} bad frames`,
      },
      CloseCode.protocolError,
      error,
    );
  }

  #fatal(
    error: FrameError,
    code: CloseCode,
    cause?: FrameError,
  ): readonly Effect[] {
    const effects: Effect[] = [];
    if (cause) {
      effects.push({ kind: "send", frame: { type: "error", ...cause } });
    }
    effects.push(
      { kind: "send", frame: { type: "error", ...error } },
      { kind: "close", code, reason: error.code },
      ...this.close(),
    );
    return effects;
  }
}
