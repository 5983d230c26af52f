/**
 * The relay's auth policy: the registry and the mode, turned into the
 * answers the session and the HTTP routes need.
 *
 * Public keys are imported into WebCrypto on first use and kept, so a check
 * costs one signature verification.
 *
 * @module
 */

import type { AppAccess, Verdict } from "../protocol/access.ts";
import { ErrorCode } from "../protocol/codes.ts";
import type { AuthMode, Registry } from "./registry.ts";
import { verifyAuth } from "./signature.ts";
import { type Scope, verifyToken } from "./token.ts";

/** Who may publish and watch what. */
export class AuthPolicy {
  readonly mode: AuthMode;
  readonly #apps: Registry;
  readonly #now: () => number;
  readonly #keys = new Map<string, Promise<CryptoKey>>();

  /** `now` (milliseconds since the epoch) is the clock for token expiry. */
  constructor(mode: AuthMode, apps: Registry, now: () => number = Date.now) {
    this.mode = mode;
    this.#apps = apps;
    this.#now = now;
  }

  /** Number of registered apps. */
  get size(): number {
    return this.#apps.size;
  }

  /** How `name` is treated. Synchronous: no key is touched. */
  access(name: string): AppAccess {
    const entry = this.#apps.get(name);
    if (entry) return entry.private ? "private" : "keyed";
    return this.mode === "strict" ? "unknown" : "open";
  }

  /** Check a provider's auth `signature` for `name` on socket `uid`. */
  verifyProvider(
    uid: string,
    name: string,
    signature: string,
  ): Promise<Verdict> {
    const key = this.#key(name);
    if (!key) return Promise.resolve(notRegistered(name));
    return key.then((key) => verifyAuth(key, uid, name, signature));
  }

  /** Check a widget's `token` for subscribing to `name`. */
  verifyWidget(name: string, token: string): Promise<Verdict> {
    return this.#token(name, token, "subscribe");
  }

  /**
   * Check the `Authorization` header of an HTTP publish to `name`. Names
   * that need no key pass whatever the header says.
   */
  authorizePublish(
    name: string,
    authorization: string | undefined,
  ): Promise<Verdict> {
    const access = this.access(name);
    if (access === "open") return Promise.resolve({ ok: true });
    if (access === "unknown") return Promise.resolve(notRegistered(name));
    if (authorization === undefined) {
      return refuse(
        ErrorCode.tokenRequired,
        `App "${name}" is registered: send Authorization: Bearer <token>`,
      );
    }

    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match) {
      return refuse(
        ErrorCode.tokenMalformed,
        "Authorization must be: Bearer <token>",
      );
    }
    return this.#token(name, match[1], "publish");
  }

  #token(name: string, token: string, scope: Scope): Promise<Verdict> {
    return verifyToken(token, {
      app: name,
      scope,
      keyOf: (app) => this.#key(app),
      now: new Date(this.#now()),
    });
  }

  #key(name: string): Promise<CryptoKey> | undefined {
    const cached = this.#keys.get(name);
    if (cached) return cached;

    const entry = this.#apps.get(name);
    if (!entry) return undefined;
    const key = crypto.subtle.importKey(
      "raw",
      entry.publicKey,
      { name: "Ed25519" },
      false,
      ["verify"],
    );
    this.#keys.set(name, key);
    return key;
  }
}

function notRegistered(name: string): Verdict {
  return {
    ok: false,
    error: {
      code: ErrorCode.unknownApp,
      message: `App "${name}" is not registered on this relay`,
    },
  };
}

function refuse(code: ErrorCode, message: string): Promise<Verdict> {
  return Promise.resolve({ ok: false, error: { code, message } });
}
