/**
 * `deno task publish`: publish JSON values, one per line, to a relay.
 *
 * @module
 */

import { connectProvider, type Provider } from "../client/provider.ts";
import { importSigningKey } from "../client/signature.ts";
import {
  Exit,
  parse,
  relayUrl,
  required,
  seconds,
  UsageError,
  usageFailed,
  writeLine,
} from "./common.ts";
import { readLines } from "./lines.ts";
import { AckTimeout, publishLines } from "./publish_lines.ts";

const HELP = `Publish JSON values to a cupd relay, one value per line.

Usage:
  deno task publish --url <ws url> --app <name> [--key <file>] [file]

Reads FILE, or standard input when no file is given, and publishes every
line as one payload of app NAME. Each line must be one JSON value (an
object, an array, a string, a number, true, false or null); blank lines are
skipped. Input is published as it arrives, so a live pipe works:
  tail -f readings.jsonl | deno task publish --url ws://localhost:8000/ws --app weather

A line that is not JSON, or that the relay refuses, is reported on standard
error as "line N: why" and publishing goes on with the next line. So is a
line sent on a connection that broke before the relay confirmed it (it may
or may not have been delivered); the tool reconnects and goes on.

Options:
  --url <ws url>    The relay's WebSocket URL, e.g. ws://localhost:8000/ws
  --app <name>      The app name to publish under.
  --key <file>      The app's Ed25519 private key (a JWK file) to sign the
                    handshake with; needed when the app has a registered key.
  --timeout <s>     Seconds to wait for the relay to accept the provider, and
                    then for each acknowledgement (default 10).
  -q, --quiet       No summary line at the end.
  -h, --help        Show this help.

Exit status:
  0  every line was published
  1  at least one line was rejected or unconfirmed (see "line N:" reports)
  2  the command line, the key file or the input file was unusable
  3  the relay could not be reached, refused the provider, or went away`;

const OPTIONS = {
  url: { type: "string" },
  app: { type: "string" },
  key: { type: "string" },
  timeout: { type: "string" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

/** Run the tool; returns its exit status. */
export async function main(args: string[]): Promise<number> {
  let setup;
  try {
    setup = await prepare(args);
  } catch (error) {
    if (error instanceof UsageError) return usageFailed(error, "publish");
    throw error;
  }
  if (setup === "help") {
    writeLine("stdout", HELP);
    return Exit.ok;
  }

  const provider = connectProvider({
    url: setup.url,
    app: setup.app,
    privateKey: setup.key,
  });
  try {
    return await run(provider, setup.input, setup.timeoutMs, setup.quiet);
  } finally {
    await provider.close();
  }
}

async function prepare(args: string[]) {
  const { values, positionals } = parse(args, OPTIONS);
  if (values.help) return "help" as const;
  if (positionals.length > 1) {
    throw new UsageError("Give at most one input file");
  }

  const url = relayUrl(required(values, "url"));
  const app = required(values, "app");
  const timeoutMs = seconds(values, "timeout", 10);
  const key = typeof values.key === "string"
    ? await readKey(values.key)
    : undefined;
  const input = positionals[0] === undefined
    ? Deno.stdin.readable
    : await openInput(positionals[0]);
  return { url, app, key, timeoutMs, input, quiet: values.quiet === true };
}

async function run(
  provider: Provider,
  input: ReadableStream<Uint8Array>,
  timeoutMs: number,
  quiet: boolean,
): Promise<number> {
  const handshake = provider.on("error", (error) => {
    writeLine(
      "stderr",
      `publish: relay error: ${error.code}: ${error.message}`,
    );
  });
  const ready = await accepted(provider, timeoutMs);
  handshake();
  if (!ready) {
    await input.cancel();
    return Exit.relay;
  }

  const report = (line: number, why: string) =>
    writeLine("stderr", `line ${line}: ${why}`);
  let tally;
  try {
    tally = await publishLines(provider, readLines(input), report, timeoutMs);
  } catch (error) {
    if (!(error instanceof AckTimeout)) throw error;
    writeLine("stderr", `publish: ${error.message}`);
    return Exit.relay;
  }

  if (!quiet) {
    writeLine(
      "stderr",
      `publish: ${tally.published} published, ${tally.rejected} rejected, ${tally.unconfirmed} unconfirmed`,
    );
  }
  if (provider.state === "closed") {
    const { code, reason } = await provider.closed;
    writeLine(
      "stderr",
      `publish: the relay closed the connection: ${code} ${reason}`,
    );
    return Exit.relay;
  }
  return tally.rejected + tally.unconfirmed > 0 ? Exit.rejected : Exit.ok;
}

/** Wait until the relay accepts the provider; reports why not. */
async function accepted(provider: Provider, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${ms / 1000} s`), ms);
  });
  const why = await Promise.race([
    provider.ready.then(() => undefined, (error: Error) => error.message),
    timeout,
  ]);
  clearTimeout(timer);
  if (why === undefined) return true;
  writeLine("stderr", `publish: cannot publish as "${provider.app}": ${why}`);
  return false;
}

async function readKey(path: string) {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new UsageError(
      `Cannot read key ${path}: ${(error as Error).message}`,
    );
  }
  try {
    return await importSigningKey(text);
  } catch (error) {
    throw new UsageError(`${path}: ${(error as Error).message}`);
  }
}

async function openInput(path: string): Promise<ReadableStream<Uint8Array>> {
  try {
    return (await Deno.open(path)).readable;
  } catch (error) {
    throw new UsageError(`Cannot open ${path}: ${(error as Error).message}`);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
