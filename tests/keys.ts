/**
 * Test helper: fresh Ed25519 key pairs in the project's private key format,
 * a JWK with the app name as `kid`.
 *
 * @module
 */

/** A private JWK and the matching public key as the registry wants it. */
export interface TestKey {
  /** `{"kty":"OKP","crv":"Ed25519","d":…,"x":…,"kid":app}` */
  jwk: JsonWebKey & { kid: string };
  /** base64url of the raw 32-byte public key (the JWK's `x`). */
  publicKey: string;
}

/** Generate a key pair for `app`. */
export async function generateKey(app: string): Promise<TestKey> {
  const pair = await crypto.subtle.generateKey(
    { name: "Ed25519" },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const { kty, crv, d, x } = await crypto.subtle.exportKey(
    "jwk",
    pair.privateKey,
  );
  return { jwk: { kty, crv, d, x, kid: app }, publicKey: x! };
}

/** Verify a provider signature with the public key `x`. */
export async function verify(
  publicKey: string,
  signature: string,
  message: string,
): Promise<boolean> {
  const key = await crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "Ed25519", x: publicKey },
    { name: "Ed25519" },
    false,
    ["verify"],
  );
  const bytes = Uint8Array.from(
    atob(signature.replaceAll("-", "+").replaceAll("_", "/")),
    (char) => char.charCodeAt(0),
  );
  return await crypto.subtle.verify(
    "Ed25519",
    key,
    bytes,
    new TextEncoder().encode(message),
  );
}
