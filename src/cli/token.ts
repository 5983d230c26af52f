/**
 * `deno task token --app <name> --key <file> --scope subscribe|publish
 * [--ttl 3600]`: mint a JWT that lets a widget watch a private app or lets
 * an HTTP client publish to an app.
 *
 * @module
 */

import { importSigningKey, parseKeyFile } from "../auth/key_file.ts";
import { type Scope, SCOPES, signToken } from "../auth/token.ts";
import {
  appName,
  parseOptions,
  print,
  runCommand,
  UsageError,
  userPath,
} from "./command.ts";

const USAGE = `Usage: deno task token --app <name> --key <file> \\
         --scope subscribe|publish [--ttl <seconds>]

Print a JWT signed with the app's private key (EdDSA), naming the app in
"sub", with the scope given and an expiry.

Options:
  --app <name>     the app the token grants
  --key <file>     the app's private key file, as written by keygen
  --scope <scope>  subscribe (a widget of a private app) or publish
                   (POST /apps/<name>/data)
  --ttl <seconds>  lifetime, 1 to 2592000 (default 3600)
  --help           show this help`;

/** Thirty days: beyond that a token is no longer short-lived. */
const MAX_TTL = 30 * 24 * 3600;

async function main(): Promise<void> {
  const { values } = parseOptions(Deno.args, {
    app: { type: "string" },
    key: { type: "string" },
    scope: { type: "string" },
    ttl: { type: "string", default: "3600" },
  });
  if (values.help) return print(USAGE);
  const app = appName(values.app);
  const scope = scopeOf(values.scope);
  const ttlSeconds = ttlOf(values.ttl);
  if (values.key === undefined) throw new UsageError("--key is required");

  const file = parseKeyFile(await Deno.readTextFile(userPath(values.key)));
  if (file.kid !== app) {
    throw new Error(`${values.key} is the key of "${file.kid}", not "${app}"`);
  }
  const key = await importSigningKey(file);
  print(await signToken(key, { app, scope, ttlSeconds }));
}

function scopeOf(scope: string | undefined): Scope {
  if (!SCOPES.includes(scope as Scope)) {
    throw new UsageError(`--scope must be one of: ${SCOPES.join(", ")}`);
  }
  return scope as Scope;
}

function ttlOf(ttl: string): number {
  const seconds = Number(ttl);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TTL) {
    throw new UsageError(`--ttl must be a whole number from 1 to ${MAX_TTL}`);
  }
  return seconds;
}

if (import.meta.main) runCommand(USAGE, main);
