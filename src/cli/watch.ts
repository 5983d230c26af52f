/**
 * `deno task watch`: print the payloads of an app as JSON lines.
 *
 * @module
 */

import { backoffDelay } from "../client/backoff.ts";
import { shouldReconnect } from "../protocol/codes.ts";
import {
  Exit,
  parse,
  relayUrl,
  required,
  UsageError,
  usageFailed,
  writeLine,
} from "./common.ts";

const HELP = `Print the payloads of a cupd app, one JSON line each.

Usage:
  deno task watch --url <ws url> --app <name> [--token <jwt>]

Subscribes to app NAME and prints every payload the relay delivers, exactly
the value the provider sent, as one line of JSON on standard output, ready
for jq:
  deno task watch --url ws://localhost:8000/ws --app weather | jq .celsius

When the relay keeps the app's last value, that value comes first. Messages
about the connection go to standard error. A dropped connection is retried
with growing, jittered delays until the relay answers again.

Options:
  --url <ws url>    The relay's WebSocket URL, e.g. ws://localhost:8000/ws
  --app <name>      The app to watch.
  --token <jwt>     A widget token, for a private app.
  --count <n>       Exit after printing N payloads.
  -q, --quiet       No connection messages on standard error.
  -h, --help        Show this help.

Exit status:
  0  stopped by --count, by Ctrl-C, or because standard output was closed
  2  the command line was unusable
  3  the relay refused the subscription (a bad token, an unknown app, …)`;

const OPTIONS = {
  url: { type: "string" },
  app: { type: "string" },
  token: { type: "string" },
  count: { type: "string" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

/** What {@linkcode watch} needs. */
export interface WatchOptions {
  url: URL;
  app: string;
  token?: string;
  /** Stop after this many payloads; unlimited when undefined. */
  count?: number;
  /** Connection messages; payloads always go to stdout. */
  status(message: string): void;
  /** Resolves to stop watching. */
  stop: Promise<void>;
}

/**
 * Subscribe to `app` and print its payloads until `count`, `stop`, a
 * closed stdout or a refusal. Returns the exit status.
 */
export function watch(options: WatchOptions): Promise<number> {
  return new Watcher(options).done;
}

/** One watch session: a socket at a time, reconnecting with backoff. */
class Watcher {
  readonly done: Promise<number>;
  readonly #options: WatchOptions;
  #resolve!: (code: number) => void;
  #socket: WebSocket | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #printed = 0;
  #subscribed = false;

  constructor(options: WatchOptions) {
    this.#options = options;
    this.done = new Promise((resolve) => this.#resolve = resolve);
    options.stop.then(() => this.#finish(Exit.ok));
    this.#connect();
  }

  #connect(): void {
    const socket = new WebSocket(this.#options.url);
    this.#socket = socket;
    this.#subscribed = false;
    socket.onmessage = (event) => {
      const frame = parseFrame(event.data);
      if (frame && this.#socket === socket) this.#receive(frame);
    };
    socket.onclose = (event) => {
      if (this.#socket === socket) this.#lost(event.code, event.reason);
    };
  }

  // deno-lint-ignore no-explicit-any
  #receive(frame: Record<string, any>): void {
    const { app, token, status } = this.#options;
    if (frame.type === "welcome") {
      const subscribe = { type: "subscribe", name: app, token };
      this.#socket?.send(JSON.stringify(subscribe));
    } else if (frame.type === "subscribed" && frame.name === app) {
      this.#subscribed = true;
      this.#attempt = 0;
      status(`watching "${app}" on ${this.#options.url}`);
    } else if (frame.type === "data" && frame.name === app) {
      this.#print(frame.data);
    } else if (frame.type === "error") {
      status(`relay error: ${frame.code}: ${frame.message}`);
      // An error before the acknowledgement is the subscription's refusal.
      if (!this.#subscribed) this.#finish(Exit.relay);
    }
  }

  #print(data: unknown): void {
    if (!writeLine("stdout", JSON.stringify(data))) this.#finish(Exit.ok);
    else if (++this.#printed === this.#options.count) this.#finish(Exit.ok);
  }

  #lost(code: number, reason: string): void {
    const { status } = this.#options;
    this.#socket = undefined;
    if (!shouldReconnect(code)) {
      status(`the relay closed the connection: ${code} ${reason}`);
      this.#resolve(Exit.relay);
      return;
    }
    const delay = backoffDelay(this.#attempt++);
    status(
      `connection lost (${code}); retrying in ${(delay / 1000).toFixed(1)} s`,
    );
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  /** Stop: close the socket, and settle once it is closed. */
  #finish(code: number): void {
    clearTimeout(this.#timer);
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket || socket.readyState === WebSocket.CLOSED) {
      this.#resolve(code);
      return;
    }
    socket.onclose = () => this.#resolve(code);
    socket.close(1000, "done");
  }
}

/** Run the tool; returns its exit status. */
export async function main(args: string[]): Promise<number> {
  let options: Omit<WatchOptions, "stop">;
  try {
    const { values, positionals } = parse(args, OPTIONS);
    if (values.help) {
      writeLine("stdout", HELP);
      return Exit.ok;
    }
    if (positionals.length > 0) {
      throw new UsageError(`Unexpected argument: ${positionals[0]}`);
    }
    options = {
      url: relayUrl(required(values, "url")),
      app: required(values, "app"),
      token: typeof values.token === "string" ? values.token : undefined,
      count: count(values.count),
      status: values.quiet
        ? () => {}
        : (message) => writeLine("stderr", `watch: ${message}`),
    };
  } catch (error) {
    if (error instanceof UsageError) return usageFailed(error, "watch");
    throw error;
  }

  const { promise: stop, resolve } = Promise.withResolvers<void>();
  const interrupted = () => resolve();
  Deno.addSignalListener("SIGINT", interrupted);
  try {
    return await watch({ ...options, stop });
  } finally {
    Deno.removeSignalListener("SIGINT", interrupted);
  }
}

function count(value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new UsageError("--count must be a whole number above 0");
  }
  return number;
}

// deno-lint-ignore no-explicit-any
function parseFrame(text: unknown): Record<string, any> | undefined {
  if (typeof text !== "string") return undefined;
  try {
    const value = JSON.parse(text);
    return typeof value === "object" && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
