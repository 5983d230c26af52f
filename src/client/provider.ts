/**
 * The provider client: publish values to a cupd relay without writing any
 * protocol code.
 *
 * ```ts
 * const provider = connectProvider({ url: "ws://localhost:8000/ws", app: "weather" });
 * provider.on("audience", (widgets) => console.log(`${widgets} watching`));
 * provider.publish({ celsius: 21.5 });
 * ```
 *
 * It answers the welcome (signing the auth frame when given a private key),
 * reconnects by itself with jittered exponential backoff, and keeps values
 * published while disconnected in a bounded queue (oldest dropped first,
 * counted in {@linkcode Provider.dropped}) that is sent, in order, once the
 * relay has accepted the provider again. It gives up only on a close code
 * of the "do not reconnect" range (4500–4999), such as a refused signature.
 *
 * Delivery is at most once: values handed to a connection that then breaks
 * may be lost. Only standard APIs are used (WebSocket, WebCrypto), so the
 * module runs on Deno, Node ≥ 22 and in browsers.
 *
 * @module
 */

import { shouldReconnect } from "../protocol/codes.ts";
import {
  backoffDelay,
  type BackoffOptions,
  DEFAULT_BACKOFF,
} from "./backoff.ts";
import { BoundedQueue } from "./bounded_queue.ts";
import {
  importSigningKey,
  type PrivateKeyInput,
  signAuth,
} from "./signature.ts";

/** `WebSocket.CLOSED`, without needing the global (it may be injected). */
const CLOSED = 3;

/**
 * Where a provider stands. `connecting` and `authenticating` lead to
 * `ready`; a lost connection goes to `waiting` (for the next retry) and back
 * to `connecting`; `closed` is final.
 */
export type ProviderState =
  | "connecting"
  | "authenticating"
  | "ready"
  | "waiting"
  | "closed";

/** An error frame from the relay. */
export interface RelayError {
  code: string;
  message: string;
}

/** Why a provider closed for good. */
export interface ProviderClosed {
  /**
   * WebSocket close code: 1000 after {@linkcode Provider.close}, 0 when the
   * provider could not start (an unusable private key).
   */
  code: number;
  /** Close reason, or what went wrong before connecting. */
  reason: string;
}

/** Events and the value their listeners receive. */
export interface ProviderEvents {
  /** The state changed. */
  state: ProviderState;
  /** Widgets watching the app, over the whole relay. */
  audience: number;
  /** The relay reported an error (a refused frame, a failed handshake). */
  error: RelayError;
}

/** What {@linkcode connectProvider} needs. */
export interface ProviderOptions extends Partial<BackoffOptions> {
  /** The relay's WebSocket URL, such as `ws://localhost:8000/ws`. */
  url: string | URL;
  /** The app name to publish under. */
  app: string;
  /** Ed25519 private key (JWK object or text, or `CryptoKey`) to sign with. */
  privateKey?: PrivateKeyInput;
  /** Most values kept while disconnected; default 1000. */
  queueLimit?: number;
  /** WebSocket constructor, for runtimes without a global one. */
  WebSocket?: new (url: string | URL) => WebSocket;
}

/** A connected (or reconnecting) provider. */
export interface Provider {
  readonly app: string;
  readonly state: ProviderState;
  /** Last audience the relay reported; undefined until it reports one. */
  readonly audience: number | undefined;
  /** Values dropped because the queue was full. */
  readonly dropped: number;
  /** Values waiting for the connection. */
  readonly queued: number;
  /** Settles when first accepted by the relay; rejects if closed before. */
  readonly ready: Promise<void>;
  /** Settles when the provider is closed for good. */
  readonly closed: Promise<ProviderClosed>;
  /**
   * Publish one JSON value: sent now when ready, queued otherwise.
   *
   * @throws {TypeError} when the value has no JSON form (`undefined`, a
   * function, a `BigInt`).
   * @throws {Error} when the provider is closed.
   */
  publish(value: unknown): void;
  /**
   * Settles once the relay has processed everything published before,
   * queued values included (a ping answered by a pong). Rejects when the
   * connection that carried those values breaks first (they may be lost),
   * or when the provider closes.
   */
  flush(): Promise<void>;
  /** Listen to an event; returns the function that stops listening. */
  on<K extends keyof ProviderEvents>(
    event: K,
    listener: (value: ProviderEvents[K]) => void,
  ): () => void;
  /** Close for good, without reconnecting. Queued values are not sent. */
  close(): Promise<void>;
}

/** Connect a provider to a relay. It starts connecting at once. */
export function connectProvider(options: ProviderOptions): Provider {
  return new ProviderClient(options);
}

type Listeners = {
  [K in keyof ProviderEvents]: Set<(value: ProviderEvents[K]) => void>;
};

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

class ProviderClient implements Provider {
  readonly app: string;
  readonly ready: Promise<void>;
  readonly closed: Promise<ProviderClosed>;
  readonly #options: ProviderOptions;
  readonly #backoff: BackoffOptions;
  readonly #queue: BoundedQueue<string>;
  readonly #key: Promise<CryptoKey> | undefined;
  readonly #listeners: Listeners = {
    state: new Set(),
    audience: new Set(),
    error: new Set(),
  };
  #state: ProviderState = "connecting";
  #socket: WebSocket | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #audience: number | undefined;
  #dropped = 0;
  /** Flushes whose ping is on the wire, in sending order. */
  #pinged: Waiter[] = [];
  /** Flushes waiting for the connection to be ready. */
  #unpinged: Waiter[] = [];
  #settleReady!: Waiter;
  #settleClosed!: (closed: ProviderClosed) => void;

  constructor(options: ProviderOptions) {
    this.app = options.app;
    this.#options = options;
    this.#backoff = {
      minDelayMs: options.minDelayMs ?? DEFAULT_BACKOFF.minDelayMs,
      maxDelayMs: options.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs,
    };
    this.#queue = new BoundedQueue(options.queueLimit ?? 1000);
    this.ready = new Promise((resolve, reject) => {
      this.#settleReady = { resolve, reject };
    });
    this.ready.catch(() => {}); // Nobody has to await it.
    this.closed = new Promise((resolve) => this.#settleClosed = resolve);

    this.#key = options.privateKey === undefined
      ? undefined
      : importSigningKey(options.privateKey);
    this.#key?.catch((error) => this.#finish(0, String(error.message)));
    this.#connect();
  }

  get state(): ProviderState {
    return this.#state;
  }

  get audience(): number | undefined {
    return this.#audience;
  }

  get dropped(): number {
    return this.#dropped;
  }

  get queued(): number {
    return this.#queue.size;
  }

  publish(value: unknown): void {
    if (this.#state === "closed") {
      throw new Error("Cannot publish: the provider is closed");
    }
    const data = JSON.stringify(value);
    if (data === undefined) {
      throw new TypeError("Cannot publish: the value has no JSON form");
    }

    const frame = `{"type":"data","data":${data}}`;
    if (this.#state === "ready" && this.#socket) this.#socket.send(frame);
    else this.#dropped += this.#queue.push(frame);
  }

  flush(): Promise<void> {
    if (this.#state === "closed") {
      return Promise.reject(new Error("Cannot flush: the provider is closed"));
    }
    return new Promise((resolve, reject) => {
      this.#unpinged.push({ resolve, reject });
      if (this.#state === "ready") this.#ping();
    });
  }

  on<K extends keyof ProviderEvents>(
    event: K,
    listener: (value: ProviderEvents[K]) => void,
  ): () => void {
    const listeners = this.#listeners[event] as Set<typeof listener>;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    const gone = socket && socket.readyState !== CLOSED
      ? new Promise((resolve) => {
        socket.addEventListener("close", resolve, { once: true });
      })
      : undefined;
    this.#finish(1000, "client closed");
    await gone;
  }

  #connect(): void {
    const Socket = this.#options.WebSocket ?? WebSocket;
    const socket = new Socket(this.#options.url);
    this.#socket = socket;
    this.#setState("connecting");

    socket.onmessage = (event: MessageEvent) => {
      if (this.#socket === socket) this.#receive(socket, event.data);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.#socket === socket) this.#lost(event.code, event.reason);
    };
  }

  #receive(socket: WebSocket, text: unknown): void {
    const frame = parse(text);
    switch (frame?.type) {
      case "welcome":
        if (typeof frame.uid === "string") {
          this.#authenticate(socket, frame.uid);
        }
        break;
      case "authenticated":
        this.#accepted(socket);
        break;
      case "audience":
        if (typeof frame.widgets !== "number") break;
        this.#audience = frame.widgets;
        this.#emit("audience", frame.widgets);
        break;
      case "pong":
        this.#pinged.shift()?.resolve();
        break;
      case "error":
        this.#emit("error", {
          code: String(frame.code),
          message: String(frame.message),
        });
        break;
    }
  }

  async #authenticate(socket: WebSocket, uid: string): Promise<void> {
    this.#setState("authenticating");
    const auth: Record<string, string> = { type: "auth", uid, name: this.app };
    try {
      if (this.#key) {
        auth.signature = await signAuth(await this.#key, uid, this.app);
      }
    } catch (error) {
      this.#finish(0, `Cannot sign: ${(error as Error).message}`);
      return;
    }
    // The connection may have changed while signing.
    if (this.#socket === socket) socket.send(JSON.stringify(auth));
  }

  /** Send what waited, in order, then go live. */
  #accepted(socket: WebSocket): void {
    this.#attempt = 0;
    for (const frame of this.#queue.drain()) socket.send(frame);
    this.#setState("ready");
    if (this.#unpinged.length > 0) this.#ping();
    this.#settleReady.resolve();
  }

  #ping(): void {
    this.#socket?.send('{"type":"ping"}');
    // One pong settles every flush asked for before its ping.
    const waiters = this.#unpinged;
    this.#unpinged = [];
    this.#pinged.push({
      resolve: () => waiters.forEach((waiter) => waiter.resolve()),
      reject: (error) => waiters.forEach((waiter) => waiter.reject(error)),
    });
  }

  #lost(code: number, reason: string): void {
    this.#socket = undefined;
    // What was sent on this connection may be lost: say so rather than
    // confirm it later. Flushes of queued values wait for the next one.
    const error = new Error(`Connection lost (${code}) before confirmation`);
    for (const waiter of this.#pinged) waiter.reject(error);
    this.#pinged = [];

    if (!shouldReconnect(code)) {
      this.#finish(code, reason);
      return;
    }
    const delay = backoffDelay(this.#attempt++, this.#backoff);
    this.#setState("waiting");
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  #finish(code: number, reason: string): void {
    if (this.#state === "closed") return;
    clearTimeout(this.#timer);
    this.#socket?.close(1000, "client closed");
    this.#socket = undefined;

    const error = new Error(`Provider closed (${code}): ${reason}`);
    for (const waiter of [...this.#pinged, ...this.#unpinged]) {
      waiter.reject(error);
    }
    this.#pinged = [];
    this.#unpinged = [];
    this.#settleReady.reject(error);
    this.#setState("closed");
    this.#settleClosed({ code, reason });
  }

  #setState(state: ProviderState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit("state", state);
  }

  #emit<K extends keyof ProviderEvents>(
    event: K,
    value: ProviderEvents[K],
  ): void {
    for (const listener of [...this.#listeners[event]]) {
      (listener as (value: ProviderEvents[K]) => void)(value);
    }
  }
}

// deno-lint-ignore no-explicit-any
function parse(text: unknown): Record<string, any> | undefined {
  if (typeof text !== "string") return undefined;
  try {
    const value = JSON.parse(text);
    return typeof value === "object" && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}
