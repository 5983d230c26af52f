/**
 * Types of the cupd widget client, `/widget.js`. The relay serves this file
 * at `/widget.d.ts`.
 *
 * @module
 */

/** App names the relay accepts: `^[A-Za-z0-9_.-]{1,64}$`. */
export declare const APP_NAME: RegExp;

/** Options of {@linkcode connect}; every one has a default. */
export interface ConnectOptions {
  /** Delay before the first reconnection attempt, before jitter. 500. */
  minDelayMs?: number;
  /** Cap of the reconnection delay, before jitter. 30 000. */
  maxDelayMs?: number;
  /**
   * Reconnection attempts in a row (without the relay greeting back) before
   * giving up with a `stopped` event. Unlimited by default.
   */
  maxAttempts?: number;
  /** How often a `{"type":"ping"}` frame is sent on an open socket. 25 000. */
  pingIntervalMs?: number;
  /**
   * How long after a ping a silent socket is declared dead, closed and
   * replaced. 10 000.
   */
  pongTimeoutMs?: number;
  /** How long a socket may take to open before it is given up. 10 000. */
  connectTimeoutMs?: number;
  /** Called on every change of connection state. */
  onState?: (event: StateEvent) => void;
  /**
   * Called for every error the relay reports: those of one app (they carry
   * `name`, and also reach that subscription's `onError`) and those of the
   * whole connection.
   */
  onError?: (error: RelayError) => void;
}

/** The defaults of {@linkcode ConnectOptions}. */
export declare const DEFAULTS: Readonly<
  Required<
    Pick<
      ConnectOptions,
      | "minDelayMs"
      | "maxDelayMs"
      | "maxAttempts"
      | "pingIntervalMs"
      | "pongTimeoutMs"
      | "connectTimeoutMs"
    >
  >
>;

/**
 * A change of connection state, in this order: `connecting`, `open`, then
 * `closed` when the socket goes, followed by `reconnecting` (a new
 * `connecting` comes after `delay` ms), by `idle` when no subscription is
 * left (the next `subscribe` connects again), or by a final `stopped`.
 */
export type StateEvent =
  | {
    state: "connecting";
    /** Reconnection attempt number; 0 for the first connection. */
    attempt: number;
  }
  | { state: "open" }
  | {
    /** No socket and no timer until the next `subscribe`. */
    state: "idle";
  }
  | {
    state: "closed";
    /**
     * The WebSocket close code; 1006 with reason `ping_timeout` or
     * `connect_timeout` when the library gave up on a silent socket.
     */
    code: number;
    reason: string;
  }
  | {
    state: "reconnecting";
    /** 1 for the first retry after a connection was lost. */
    attempt: number;
    /** Milliseconds until the attempt. */
    delay: number;
  }
  | {
    state: "stopped";
    /**
     * The close code that ended the connection: one of 4500–4999 from the
     * relay, 1000 after `close()`, or the last code once `maxAttempts`
     * ran out.
     */
    code: number;
    reason: string;
  };

/** One of the states of {@linkcode StateEvent}. */
export type ConnectionState = StateEvent["state"];

/** An error reported by the relay, with its stable snake_case code. */
export interface RelayError {
  /** For example `invalid_name`, `forbidden`, `token_expired`. */
  code: string;
  message: string;
  /** The app concerned, when the error is about one subscription. */
  name?: string;
}

/** What arrives with each value. */
export interface DataInfo {
  /** The app the value belongs to. */
  name: string;
  /**
   * Whether this is the app's last value, replayed on subscribing, rather
   * than a value published just now. A retained value may repeat one seen
   * before a reconnect.
   */
  retained: boolean;
}

/** Options of {@linkcode Relay.subscribe}. */
export interface SubscribeOptions {
  /**
   * A JWT with `scope` `subscribe`, needed for private apps; or a function
   * returning one (or a promise of one), called again for every new socket
   * so that each reconnect can present a fresh short-lived token. If the
   * function throws or rejects, the subscription is dropped with the
   * library's own code `token_unavailable`.
   */
  token?: string | (() => string | Promise<string>);
  /**
   * Called once if the relay refuses this subscription (`invalid_name`,
   * `forbidden`, `token_expired`, …). The subscription is then dropped;
   * the other subscriptions of the connection are not affected.
   */
  onError?: (error: RelayError) => void;
}

/** A connection to a relay, carrying any number of subscriptions. */
export interface Relay {
  /** The WebSocket URL in use. */
  readonly url: string;
  /** The latest connection state. */
  readonly state: ConnectionState;
  /**
   * Receive the values of app `name`: `callback` gets exactly the value the
   * provider sent, in order, from now until the returned function is
   * called. Subscriptions outlive reconnections: each is sent again, with
   * its token, on every new socket.
   *
   * @throws {Error} once the relay is stopped.
   * @throws {TypeError} when `token` is neither a string nor a function.
   */
  subscribe<T = unknown>(
    name: string,
    callback: (data: T, info: DataInfo) => void,
    options?: SubscribeOptions,
  ): () => void;
  /** Listen to state changes; returns a function that stops listening. */
  onState(listener: (event: StateEvent) => void): () => void;
  /** Close the socket, stop every timer and never reconnect. */
  close(): void;
}

/**
 * Connect to a relay. `url` defaults to the page origin's `/ws`; a relative
 * or http(s) URL is resolved against the page and mapped to ws(s).
 *
 * @throws {TypeError} when `url` is missing outside a web page, or is not
 * a ws, wss, http or https URL.
 */
export declare function connect(
  url?: string | URL,
  options?: ConnectOptions,
): Relay;

/**
 * The jittered exponential delay before reconnection attempt `attempt`
 * (1 for the first): within `[c/2, c]` where
 * `c = min(maxDelayMs, minDelayMs · 2^(attempt-1))`.
 */
export declare function reconnectDelay(
  attempt: number,
  options?: Pick<ConnectOptions, "minDelayMs" | "maxDelayMs">,
  random?: () => number,
): number;

/**
 * `"stop"` for close codes 4500–4999 ("do not reconnect"), `"reconnect"`
 * for every other code.
 */
export declare function closeAction(code: number): "reconnect" | "stop";

/** The WebSocket URL `connect` would use for `url`. */
export declare function relayUrl(url?: string | URL): string;
