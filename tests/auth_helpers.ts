/**
 * Test helpers for authentication: app key pairs, registry JSON, signed
 * providers, and tokens both genuine and forged.
 *
 * @module
 */

import { strictEqual as assertEquals } from "node:assert/strict";
import { SignJWT, UnsecuredJWT } from "jose";
import { decodeBase64Url } from "../src/auth/base64url.ts";
import {
  generateKeyFile,
  importSigningKey,
  type KeyFile,
} from "../src/auth/key_file.ts";
import { signAuth } from "../src/auth/signature.ts";
import { type Scope, signToken } from "../src/auth/token.ts";
import { TestClient } from "./helpers.ts";

/** An app with its key pair, as its owner holds it. */
export interface TestApp {
  name: string;
  file: KeyFile;
  privateKey: CryptoKey;
  /** Raw public key bytes (what the registry's `publicKey` encodes). */
  publicKey: Uint8Array<ArrayBuffer>;
}

/** A fresh key pair for `name`. */
export async function makeApp(name: string): Promise<TestApp> {
  const file = await generateKeyFile(name);
  return {
    name,
    file,
    privateKey: await importSigningKey(file),
    publicKey: decodeBase64Url(file.x)!,
  };
}

/** `CUPD_APPS` JSON registering `apps`; those in `privates` are private. */
export function registryJson(
  apps: TestApp[],
  privates: TestApp[] = [],
): string {
  const entries = apps.map((app) => [
    app.name,
    { publicKey: app.file.x, private: privates.includes(app) },
  ]);
  return JSON.stringify(Object.fromEntries(entries));
}

/** Connect and send `auth` for `name`, signed with `app`'s key. */
export async function signedProvider(
  url: string,
  app: TestApp,
): Promise<TestClient & { uid: string }> {
  const client = await TestClient.connect(url);
  const signature = await signAuth(app.privateKey, client.uid, app.name);
  client.send({ type: "auth", uid: client.uid, name: app.name, signature });
  await client.expect({ type: "authenticated", name: app.name });
  return client;
}

/** A genuine token of `app` (unless `sub` says otherwise). */
export function tokenFor(
  app: TestApp,
  scope: Scope,
  options: { ttlSeconds?: number; now?: Date; sub?: string } = {},
): Promise<string> {
  return signToken(app.privateKey, {
    app: options.sub ?? app.name,
    scope,
    ttlSeconds: options.ttlSeconds ?? 300,
    now: options.now,
  });
}

/** Claims a forged token carries: right app, right scope, not expired. */
function claims(name: string, scope: Scope) {
  return { sub: name, scope, exp: Math.floor(Date.now() / 1000) + 300 };
}

/** An unsecured token (`alg: none`) with otherwise valid claims. */
export function unsignedToken(name: string, scope: Scope): string {
  return new UnsecuredJWT(claims(name, scope)).encode();
}

/**
 * An HS256 token whose HMAC secret is the app's public key: the classic
 * algorithm-confusion forgery, since anyone can read the public key.
 */
export function hs256Token(app: TestApp, scope: Scope): Promise<string> {
  return new SignJWT(claims(app.name, scope))
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(app.publicKey);
}

/**
 * Read the next frame, check it is an error with `code`, then check the
 * relay closed the socket with `close`.
 */
export async function expectRefusal(
  client: TestClient,
  code: string,
  close: number,
): Promise<void> {
  await client.expect({ type: "error", code });
  const event = await client.closed;
  assertEquals(event.code, close);
  assertEquals(event.reason, code);
}
