/**
 * What every CLI task shares: argument parsing with `--help`, and turning
 * mistakes into a message and an exit status instead of a stack trace.
 *
 * CLI tasks talk to a person on a terminal, so they write to stdout and
 * stderr directly rather than through the relay's structured logger.
 *
 * @module
 */

import { resolve } from "node:path";
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { APP_NAME } from "../protocol/messages.ts";

/** A wrong or missing argument: reported with the usage, exit status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Parse `args` against `options` (plus `--help`). Unknown options and
 * stray positionals are usage errors.
 */
export function parseOptions<T extends ParseArgsOptionsConfig>(
  args: string[],
  options: T,
): ReturnType<typeof parseArgs<{ options: T & HelpOption; strict: true }>> {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: "boolean" } } as T & HelpOption,
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : "bad usage");
  }
}

type HelpOption = { help: { type: "boolean" } };

/** The value of `--app`, checked. */
export function appName(app: string | undefined): string {
  if (app === undefined) throw new UsageError("--app is required");
  if (!APP_NAME.test(app)) {
    throw new UsageError(`--app must match ${APP_NAME.source}`);
  }
  return app;
}

/**
 * Run a CLI task: exit 0 when `main` resolves, 2 on a usage error (printed
 * with `usage`), 1 on any other error (printed as one line).
 */
export async function runCommand(
  usage: string,
  main: () => Promise<void>,
): Promise<void> {
  try {
    await main();
  } catch (error) {
    const usageError = error instanceof UsageError;
    const message = error instanceof Error ? error.message : String(error);
    // deno-lint-ignore no-console -- a CLI reports to the person running it
    console.error(
      usageError ? `error: ${message}\n\n${usage}` : `error: ${message}`,
    );
    Deno.exit(usageError ? 2 : 1);
  }
}

/**
 * A path given on the command line, resolved against the directory the
 * user ran `deno task` in: tasks themselves run in the project root.
 */
export function userPath(path: string): string {
  return resolve(Deno.env.get("INIT_CWD") ?? Deno.cwd(), path);
}

/** Print one line to stdout: a CLI task's result. */
export function print(text: string): void {
  // deno-lint-ignore no-console -- a CLI's result goes to stdout
  console.log(text);
}

/** Print one line to stderr: a note beside the result. */
export function note(text: string): void {
  // deno-lint-ignore no-console -- a CLI's notes go to stderr
  console.error(text);
}
