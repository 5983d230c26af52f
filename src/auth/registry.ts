/**
 * The app registry: which app names are owned, by which Ed25519 public key,
 * and whether their widgets need a token.
 *
 * It is read once at start from `CUPD_APPS` (JSON) and `CUPD_APPS_FILE` (a
 * path to the same JSON). Every entry is checked then, so a typo stops the
 * relay with a message naming the app instead of leaving an app open.
 *
 * @module
 */

import { z } from "zod";
import { APP_NAME } from "../protocol/messages.ts";
import { decodeBase64Url } from "./base64url.ts";

/** `open` accepts unregistered names; `strict` refuses them. */
export type AuthMode = "open" | "strict";

/** Every {@linkcode AuthMode}, default first. */
export const AUTH_MODES = ["open", "strict"] as const;

/** One registered app. */
export interface AppEntry {
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array<ArrayBuffer>;
  /** Whether widgets must present a token to subscribe. */
  private: boolean;
}

/** App name → its entry. */
export type Registry = ReadonlyMap<string, AppEntry>;

/** A registry source that cannot be used; names the variable. */
export class RegistryError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(detail);
    this.name = "RegistryError";
  }
}

/**
 * Unknown fields are refused: a misspelt `"private"` must not silently
 * leave an app public.
 */
const ENTRY = z.strictObject({
  publicKey: z.string(),
  private: z.boolean().optional(),
});

/**
 * Build the registry from the inline JSON and the file path (either may be
 * empty). An app may be defined in one of them only.
 *
 * @throws {RegistryError} naming the variable and, when it is about one
 * entry, the app.
 */
export function loadRegistry(json: string, file: string): Registry {
  const inline = json ? parseRegistry(json, "CUPD_APPS") : new Map();
  if (!file) return inline;

  const fromFile = parseRegistry(readSource(file), "CUPD_APPS_FILE");
  for (const [name, entry] of fromFile) {
    if (inline.has(name)) {
      throw new RegistryError(
        "CUPD_APPS_FILE",
        `app "${name}" is also defined in CUPD_APPS; define it once`,
      );
    }
    inline.set(name, entry);
  }
  return inline;
}

/**
 * Parse one registry document.
 *
 * @throws {RegistryError} for `variable`.
 */
export function parseRegistry(
  text: string,
  variable: string,
): Map<string, AppEntry> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RegistryError(variable, `not valid JSON (${message(error)})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RegistryError(
      variable,
      'must be a JSON object: {"<app>": {"publicKey": "…"}}',
    );
  }

  const apps = new Map<string, AppEntry>();
  for (const [name, raw] of Object.entries(value)) {
    apps.set(name, parseEntry(name, raw, variable));
  }
  return apps;
}

function parseEntry(
  name: string,
  raw: unknown,
  variable: string,
): AppEntry {
  const fail = (detail: string) =>
    new RegistryError(variable, `app "${name}": ${detail}`);
  if (!APP_NAME.test(name)) {
    throw fail(`name must match ${APP_NAME.source}`);
  }

  const parsed = ENTRY.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join(".");
    throw fail(field ? `"${field}" ${issue.message}` : issue.message);
  }

  const publicKey = decodeBase64Url(parsed.data.publicKey);
  if (publicKey?.length !== 32) {
    throw fail(
      '"publicKey" must be base64url (no padding) of a raw 32-byte Ed25519 key',
    );
  }
  return { publicKey, private: parsed.data.private ?? false };
}

function readSource(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new RegistryError(
      "CUPD_APPS_FILE",
      `cannot read "${path}" (${message(error)})`,
    );
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
