/**
 * Base64url without padding (RFC 4648 §5), the encoding of keys, signatures
 * and JWT parts.
 *
 * @module
 */

const ALPHABET = /^[A-Za-z0-9_-]*$/;

/**
 * Decode base64url without padding. Returns `undefined` for anything else:
 * padding, whitespace, the standard alphabet's `+` and `/`, an impossible
 * length, or stray bits in the last character (so each byte string has
 * exactly one accepted spelling).
 */
export function decodeBase64Url(
  text: string,
): Uint8Array<ArrayBuffer> | undefined {
  if (!ALPHABET.test(text)) return undefined;
  const padded = text + "=".repeat((4 - text.length % 4) % 4);
  try {
    return Uint8Array.fromBase64(padded, {
      alphabet: "base64url",
      lastChunkHandling: "strict",
    });
  } catch {
    return undefined;
  }
}

/** Encode bytes as base64url without padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}
