/**
 * Provider signatures: proof that a provider holds the private key of the
 * app it publishes under.
 *
 * The signed message is the UTF-8 text `cupd-auth:v1:<uid>:<name>`, where
 * `<uid>` is the welcome uid exactly as the relay sent it; the signature is
 * Ed25519, sent as base64url without padding. The uid is fresh for every
 * connection, so a captured signature is useless on another one.
 *
 * Only WebCrypto is used, so this runs on Deno, Node and in browsers.
 *
 * @module
 */

/** The version tag of the signed message. */
export const AUTH_MESSAGE_PREFIX = "cupd-auth:v1:";

/** A private key in any form this module accepts. */
export type PrivateKeyInput = CryptoKey | JsonWebKey | string;

/** The exact text a provider signs. */
export function authMessage(uid: string, name: string): string {
  return `${AUTH_MESSAGE_PREFIX}${uid}:${name}`;
}

/**
 * Import an Ed25519 private key: a `CryptoKey` as it is, or a JWK
 * (`{"kty":"OKP","crv":"Ed25519","d":…,"x":…}`) as an object or JSON text.
 *
 * @throws {TypeError} when the text is not JSON or the key is not Ed25519.
 */
export async function importSigningKey(
  key: PrivateKeyInput,
): Promise<CryptoKey> {
  if (typeof key === "object" && isCryptoKey(key)) return key;

  const jwk = typeof key === "string" ? parseJwk(key) : key;
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.d) {
    throw new TypeError(
      'Cannot use key: expected an Ed25519 private JWK ({"kty":"OKP","crv":"Ed25519","d":…})',
    );
  }
  // Only the fields WebCrypto checks: `kid` and friends are for people.
  const { kty, crv, d, x } = jwk;
  return await crypto.subtle.importKey(
    "jwk",
    { kty, crv, d, x },
    { name: "Ed25519" },
    false,
    ["sign"],
  );
}

/** The `signature` field of an auth frame for `uid` and app `name`. */
export async function signAuth(
  key: CryptoKey,
  uid: string,
  name: string,
): Promise<string> {
  const message = new TextEncoder().encode(authMessage(uid, name));
  const signature = await crypto.subtle.sign("Ed25519", key, message);
  return base64url(new Uint8Array(signature));
}

/** Base64url without padding (RFC 4648 §5). */
export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

function parseJwk(text: string): JsonWebKey {
  try {
    return JSON.parse(text);
  } catch {
    throw new TypeError("Cannot use key: the text is not JSON");
  }
}

function isCryptoKey(key: object): key is CryptoKey {
  return typeof CryptoKey !== "undefined" && key instanceof CryptoKey;
}
