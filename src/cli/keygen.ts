/**
 * `deno task keygen --app <name> [--out <file>] [--private]`: make a key
 * pair for an app, write the private key file and print the registry entry.
 *
 * @module
 */

import { generateKeyFile, registryEntry } from "../auth/key_file.ts";
import {
  appName,
  note,
  parseOptions,
  print,
  runCommand,
  userPath,
} from "./command.ts";

const USAGE = `Usage: deno task keygen --app <name> [--out <file>] [--private]

Make an Ed25519 key pair for an app. The private key is written as a JSON
Web Key readable by you only (mode 0600); the registry entry to add to
CUPD_APPS or CUPD_APPS_FILE is printed on stdout.

Options:
  --app <name>   app name: 1-64 of A-Z a-z 0-9 _ . -
  --out <file>   private key file (default: <name>.key.json); an existing
                 file is never overwritten
  --private      mark the app private in the printed entry: its widgets
                 will need a token
  --help         show this help`;

async function main(): Promise<void> {
  const { values } = parseOptions(Deno.args, {
    app: { type: "string" },
    out: { type: "string" },
    private: { type: "boolean" },
  });
  if (values.help) return print(USAGE);
  const app = appName(values.app);
  const out = userPath(values.out ?? `${app}.key.json`);

  const file = await generateKeyFile(app);
  try {
    await Deno.writeTextFile(out, JSON.stringify(file) + "\n", {
      createNew: true,
      mode: 0o600,
    });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    throw new Error(`${out} already exists; not overwriting a key`);
  }
  // `mode` is filtered by the umask; make sure nobody else can read it.
  if (Deno.build.os !== "windows") await Deno.chmod(out, 0o600);

  note(`Private key written to ${out}; keep it secret.`);
  print(JSON.stringify(registryEntry(file, values.private ?? false)));
}

if (import.meta.main) runCommand(USAGE, main);
