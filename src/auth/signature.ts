/**
 * The provider's proof of ownership: an Ed25519 signature over a fixed,
 * versioned message binding the socket's welcome uid to the app name.
 *
 * The uid is fresh for every socket, so a signature seen on one connection
 * proves nothing on another, and one made for an app proves nothing for a
 * second app of the same owner.
 *
 * @module
 */

import { ErrorCode } from "../protocol/codes.ts";
import type { Verdict } from "../protocol/access.ts";
import { decodeBase64Url, encodeBase64Url } from "./base64url.ts";

/** Prefix of the signed message; a new format gets a new version. */
export const AUTH_MESSAGE_PREFIX = "cupd-auth:v1";

/** Length of an Ed25519 signature in bytes. */
const SIGNATURE_BYTES = 64;

/** The UTF-8 bytes a provider signs: `cupd-auth:v1:<uid>:<name>`. */
export function authMessage(
  uid: string,
  name: string,
): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${AUTH_MESSAGE_PREFIX}:${uid}:${name}`);
}

/** Sign the auth message, as a provider does. Returns base64url. */
export async function signAuth(
  privateKey: CryptoKey,
  uid: string,
  name: string,
): Promise<string> {
  const signature = await crypto.subtle.sign(
    "Ed25519",
    privateKey,
    authMessage(uid, name),
  );
  return encodeBase64Url(new Uint8Array(signature));
}

/**
 * Check a provider's `signature` for `name` on the socket greeted with
 * `uid`. Resolves with a verdict; rejects only if WebCrypto itself fails.
 */
export async function verifyAuth(
  publicKey: CryptoKey,
  uid: string,
  name: string,
  signature: string,
): Promise<Verdict> {
  const bytes = decodeBase64Url(signature);
  if (bytes?.length !== SIGNATURE_BYTES) {
    return {
      ok: false,
      error: {
        code: ErrorCode.signatureMalformed,
        message: "signature must be base64url (no padding) of 64 bytes",
      },
    };
  }

  const message = authMessage(uid, name);
  if (await crypto.subtle.verify("Ed25519", publicKey, bytes, message)) {
    return { ok: true };
  }
  return {
    ok: false,
    error: {
      code: ErrorCode.badSignature,
      message:
        `signature does not verify over "${AUTH_MESSAGE_PREFIX}:<uid>:${name}" with this socket's uid and the key of "${name}"`,
    },
  };
}
