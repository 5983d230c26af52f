/**
 * An app's private key file: a JSON Web Key
 * `{"kty":"OKP","crv":"Ed25519","d":…,"x":…,"kid":"<app>"}`.
 *
 * `x` is the public key, exactly the registry's `publicKey`; `d` is the
 * 32-byte private seed, which any Ed25519 library can load (Python:
 * `Ed25519PrivateKey.from_private_bytes`).
 *
 * @module
 */

import { z } from "zod";
import { decodeBase64Url } from "./base64url.ts";

/** The contents of a private key file. */
export interface KeyFile {
  kty: "OKP";
  crv: "Ed25519";
  /** Private seed, base64url of 32 bytes. */
  d: string;
  /** Public key, base64url of 32 bytes. */
  x: string;
  /** The app the key belongs to. */
  kid: string;
}

const key32 = z.string().refine(
  (text) => decodeBase64Url(text)?.length === 32,
  "must be base64url (no padding) of 32 bytes",
);

const KEY_FILE = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  d: key32,
  x: key32,
  kid: z.string(),
});

/** A fresh key pair for `app`. */
export async function generateKeyFile(app: string): Promise<KeyFile> {
  const pair = await crypto.subtle.generateKey(
    { name: "Ed25519" },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  return { kty: "OKP", crv: "Ed25519", d: jwk.d!, x: jwk.x!, kid: app };
}

/**
 * Read a key file's text.
 *
 * @throws {Error} saying what is wrong with it.
 */
export function parseKeyFile(text: string): KeyFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error("key file is not JSON");
  }
  const parsed = KEY_FILE.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `key file field "${issue.path.join(".")}" ${issue.message}`,
    );
  }
  return parsed.data;
}

/** The key file as a WebCrypto signing key. */
export function importSigningKey(file: KeyFile): Promise<CryptoKey> {
  const { kty, crv, d, x } = file;
  return crypto.subtle.importKey(
    "jwk",
    { kty, crv, d, x },
    { name: "Ed25519" },
    false,
    ["sign"],
  );
}

/** The registry entry (`CUPD_APPS` JSON) that admits this key. */
export function registryEntry(
  file: KeyFile,
  isPrivate: boolean,
): Record<string, { publicKey: string; private: boolean }> {
  return { [file.kid]: { publicKey: file.x, private: isPrivate } };
}
