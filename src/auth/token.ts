/**
 * Widget and publish tokens: JWTs signed with EdDSA by an app's private key,
 * `sub` = the app, `scope` = what they allow, and an `exp`.
 *
 * Parsing and signature checks are left to `jose`; this module pins the
 * algorithm, decides which key to check with, and turns each way a token
 * can fail into its own error code.
 *
 * @module
 */

import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  SignJWT,
} from "jose";
import type { Verdict } from "../protocol/access.ts";
import { ErrorCode } from "../protocol/codes.ts";
import type { FrameError } from "../protocol/messages.ts";

/** What a token allows: watching an app, or publishing to it. */
export type Scope = "subscribe" | "publish";

/** Every {@linkcode Scope}. */
export const SCOPES = ["subscribe", "publish"] as const;

/** The only accepted `alg`: pinned, never read from the token. */
const ALGORITHMS = ["EdDSA"];

/** Seconds of clock skew allowed between the minting machine and us. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** What a token must grant, and how to find keys. */
export interface TokenRequest {
  /** The app asked for. */
  app: string;
  /** The scope needed. */
  scope: Scope;
  /** The public key of a registered app, or `undefined`. */
  keyOf(app: string): Promise<CryptoKey> | undefined;
  /** The time to check `exp` against. */
  now: Date;
}

/**
 * Check `token` against `request`. The token is verified with the key of
 * the app it names in `sub`, so a genuine token for another app is told
 * apart (`forbidden`) from a forgery (`token_invalid`). Resolves with a
 * verdict; rejects only on a fault of the relay itself.
 */
export async function verifyToken(
  token: string,
  request: TokenRequest,
): Promise<Verdict> {
  const named = subjectOf(token);
  if (named === undefined) {
    return refuse(ErrorCode.tokenMalformed, "Token is not a compact JWT");
  }

  const issuer = typeof named === "string" ? named : request.app;
  const key = request.keyOf(issuer);
  if (!key) {
    return refuse(
      ErrorCode.tokenInvalid,
      `Token names app "${clip(issuer)}", which has no key here`,
    );
  }

  let claims;
  try {
    ({ payload: claims } = await jwtVerify(token, await key, {
      algorithms: ALGORITHMS,
      requiredClaims: ["exp", "sub"],
      currentDate: request.now,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (error) {
    return { ok: false, error: explain(error, token) };
  }
  return authorize(claims.sub, claims.scope, request);
}

/** Mint a token, as the CLI and app backends do. */
export function signToken(
  privateKey: CryptoKey,
  claims: { app: string; scope: Scope; ttlSeconds: number; now?: Date },
): Promise<string> {
  const issuedAt = Math.floor((claims.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ scope: claims.scope })
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
    .setSubject(claims.app)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + claims.ttlSeconds)
    .sign(privateKey);
}

/**
 * The `sub` claim as written, read before any check only to choose the key;
 * `undefined` when the token cannot be decoded, `null` when it has no
 * `sub`.
 */
function subjectOf(token: string): unknown {
  try {
    return decodeJwt(token).sub ?? null;
  } catch {
    return undefined;
  }
}

/** The token is genuine: does it grant this app and this scope? */
function authorize(
  sub: unknown,
  scope: unknown,
  request: TokenRequest,
): Verdict {
  if (sub !== request.app) {
    return refuse(
      ErrorCode.forbidden,
      `Token grants app "${clip(String(sub))}", not "${request.app}"`,
    );
  }
  // Space-separated, as OAuth scopes are, so one token may carry both.
  const granted = typeof scope === "string" ? scope.split(" ") : [];
  if (!granted.includes(request.scope)) {
    return refuse(
      ErrorCode.tokenScope,
      `Token scope does not include "${request.scope}"`,
    );
  }
  return { ok: true };
}

/**
 * Map a `jose` failure to the code a client sees. Anything else is a fault
 * of the relay and is thrown on.
 */
function explain(error: unknown, token: string): FrameError {
  if (error instanceof errors.JWTExpired) {
    return { code: ErrorCode.tokenExpired, message: "Token has expired" };
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    const alg = String(decodeProtectedHeader(token).alg);
    if (alg.toLowerCase() === "none") {
      return {
        code: ErrorCode.tokenUnsigned,
        message: "Token is unsigned (alg none); sign it with EdDSA",
      };
    }
    return {
      code: ErrorCode.tokenAlgorithm,
      message: `Token alg "${clip(alg)}" is not accepted; use EdDSA`,
    };
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return {
      code: ErrorCode.tokenInvalid,
      message: "Token signature does not verify with the app's key",
    };
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return {
      code: ErrorCode.tokenInvalid,
      message: `Token claim "${error.claim}" ${error.reason}`,
    };
  }
  if (error instanceof errors.JOSEError) {
    return { code: ErrorCode.tokenMalformed, message: "Token is malformed" };
  }
  throw error;
}

function refuse(code: ErrorCode, message: string): Verdict {
  return { ok: false, error: { code, message } };
}

function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
