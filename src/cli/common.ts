/**
 * What the command-line tools share: argument parsing with usage errors,
 * exit statuses, and line output that survives a closed pipe.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";

/** Exit statuses of the tools, as their `--help` documents them. */
export const Exit = {
  ok: 0,
  /** Some input was rejected (publish). */
  rejected: 1,
  /** The command line was wrong. */
  usage: 2,
  /** The relay could not be reached or refused the connection. */
  relay: 3,
} as const;

/** A problem with the command line; its message goes to stderr. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parsed options: every option is a string or boolean. */
export type Values = Record<string, string | boolean | undefined>;

/** Parse `args` strictly; unknown options become a {@linkcode UsageError}. */
export function parse(
  args: string[],
  options: ParseArgsConfig["options"],
): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The value of a required string option. */
export function required(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== "string" || value === "") {
    throw new UsageError(`Missing --${name}`);
  }
  return value;
}

/** A relay WebSocket URL: `ws:` or `wss:`. */
export function relayUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url is not a URL: ${text}`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new UsageError(`--url must start with ws:// or wss://: ${text}`);
  }
  return url;
}

/** A positive number of seconds, as milliseconds. */
export function seconds(
  values: Values,
  name: string,
  fallback: number,
): number {
  const value = values[name];
  if (value === undefined) return fallback * 1000;
  const number = Number(value);
  if (!(number > 0)) {
    throw new UsageError(`--${name} must be a positive number`);
  }
  return number * 1000;
}

const encoder = new TextEncoder();

/**
 * Write `text` and a newline to stdout or stderr. Returns false when the
 * reader has gone (a closed pipe, as after `| head -1`).
 */
export function writeLine(stream: "stdout" | "stderr", text: string): boolean {
  const target = stream === "stdout" ? Deno.stdout : Deno.stderr;
  let bytes = encoder.encode(text + "\n");
  try {
    while (bytes.length > 0) bytes = bytes.subarray(target.writeSync(bytes));
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) return false;
    throw error;
  }
}

/** Print a usage error and the hint to `--help`; returns the status. */
export function usageFailed(error: UsageError, tool: string): number {
  writeLine("stderr", `${tool}: ${error.message}`);
  writeLine("stderr", `Run "deno task ${tool} --help" for usage.`);
  return Exit.usage;
}
