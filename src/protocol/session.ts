/**
 * The handshake state machine of one socket, free of any runtime: it takes
 * plain values (text frames, a binary marker, a timer firing) and answers
 * with {@linkcode Effect}s for the socket glue to carry out.
 *
 * A socket starts `greeted` (welcome sent, role unknown). Its first `auth`
 * makes it a provider, its first `subscribe` a widget. `closed` is final and
 * swallows everything.
 *
 * @module
 */

import { CloseCode, ErrorCode } from "./codes.ts";
import {
  APP_NAME,
  type ClientFrame,
  type FrameError,
  parseClientFrame,
  type ServerFrame,
} from "./messages.ts";

/** Limits a session enforces itself. */
export interface SessionLimits {
  /** Largest accepted text frame, in UTF-8 bytes. */
  maxFrameBytes: number;
  /** Most apps one widget socket may subscribe to. */
  maxSubscriptions: number;
  /** Non-fatal errors tolerated before the socket is closed. */
  maxErrors: number;
}

/** The role-and-progress of a socket. */
export type SessionState =
  | { kind: "greeted" }
  | { kind: "provider"; name: string }
  | { kind: "widget"; names: Set<string> }
  | { kind: "closed" };

/** What the glue must do in answer to an input. */
export type Effect =
  | { kind: "send"; frame: ServerFrame }
  | { kind: "close"; code: CloseCode; reason: string }
  | { kind: "authenticate"; name: string }
  | { kind: "subscribe"; name: string }
  | { kind: "unsubscribe"; name: string }
  | { kind: "publish"; name: string; data: unknown };

const NONE: readonly Effect[] = Object.freeze([]);

/** One socket's protocol state. */
export class Session {
  #state: SessionState = { kind: "greeted" };
  #errors = 0;
  readonly uid: string;
  readonly #limits: SessionLimits;

  constructor(uid: string, limits: SessionLimits) {
    this.uid = uid;
    this.#limits = limits;
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

    if (tooLarge(text, this.#limits.maxFrameBytes)) {
      const message =
        `Frame exceeds ${this.#limits.maxFrameBytes} bytes and was dropped`;
      return this.#fatal(
        { code: ErrorCode.payloadTooLarge, message },
        CloseCode.frameTooLarge,
      );
    }

    const parsed = parseClientFrame(text);
    if (!parsed.ok) return this.#reject(parsed.error);
    return this.#dispatch(parsed.frame);
  }

  /** Handle one binary frame: the protocol is JSON text only. */
  receiveBinary(): readonly Effect[] {
    if (this.#state.kind === "closed") return NONE;
    return this.#reject({
      code: ErrorCode.binaryNotSupported,
      message: "Binary frames are not supported; send JSON text",
    });
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
    if (state.kind !== "widget") return NONE;
    return [...state.names].map((name) => ({ kind: "unsubscribe", name }));
  }

  #dispatch(frame: ClientFrame): readonly Effect[] {
    switch (frame.type) {
      case "ping":
        return [{ kind: "send", frame: { type: "pong" } }];
      case "auth":
        return this.#auth(frame.uid, frame.name);
      case "data":
        return this.#data(frame.uid, frame.data);
      case "subscribe":
        return this.#subscribe(frame.uid, frame.name);
      case "unsubscribe":
        return this.#unsubscribe(frame.uid, frame.name);
    }
  }

  #auth(uid: string, name: string): readonly Effect[] {
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
    return [{ kind: "publish", name: state.name, data }];
  }

  #subscribe(uid: string | undefined, name: string): readonly Effect[] {
    const state = this.#state;
    if (state.kind === "provider") {
      return this.#wrongState("subscribe", "providers do not subscribe");
    }
    if (uid !== undefined && uid !== this.uid) return this.#uidMismatch();
    if (!APP_NAME.test(name)) return this.#reject(invalidName(name));

    const names = state.kind === "widget" ? state.names : new Set<string>();
    const ack: Effect = { kind: "send", frame: { type: "subscribed", name } };
    if (names.has(name)) return [ack];
    if (names.size >= this.#limits.maxSubscriptions) {
      return this.#reject({
        code: ErrorCode.tooManySubscriptions,
        message:
          `A socket may subscribe to ${this.#limits.maxSubscriptions} apps`,
      });
    }

    names.add(name);
    this.#state = { kind: "widget", names };
    return [{ kind: "subscribe", name }, ack];
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

function invalidName(name: string): FrameError {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return {
    code: ErrorCode.invalidName,
    message: `App name "${shown}" must match ${APP_NAME.source}`,
  };
}

/**
 * Whether `text` is over `max` UTF-8 bytes. UTF-8 never takes fewer bytes
 * than UTF-16 code units nor more than three per unit, so most frames are
 * decided without encoding them.
 */
function tooLarge(text: string, max: number): boolean {
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  return new TextEncoder().encode(text).length > max;
}
