import {
  deepStrictEqual as same,
  match,
  strictEqual as equal,
} from "node:assert/strict";
import { connectProvider } from "../src/client/provider.ts";
import {
  authMessage,
  base64url,
  importSigningKey,
  signAuth,
} from "../src/client/signature.ts";
import { fakeRelay } from "./fake_relay.ts";
import { generateKey, verify } from "./keys.ts";

const UID = "ACA764FEF7ED43D3BF7D31472B952987";

Deno.test("auth message is the versioned uid and name", () => {
  equal(authMessage(UID, "app"), `cupd-auth:v1:${UID}:app`);
});

Deno.test("base64url has no padding and no + or /", () => {
  equal(base64url(new Uint8Array([0xfb, 0xff])), "-_8");
  equal(base64url(new Uint8Array([])), "");
});

Deno.test("signature verifies with the JWK's public key", async () => {
  const { jwk, publicKey } = await generateKey("app");
  const key = await importSigningKey(JSON.stringify(jwk));
  const signature = await signAuth(key, UID, "app");

  match(signature, /^[A-Za-z0-9_-]{86}$/);
  equal(await verify(publicKey, signature, authMessage(UID, "app")), true);
  equal(await verify(publicKey, signature, authMessage(UID, "other")), false);
});

Deno.test("provider library signs the welcome uid in its auth frame", async () => {
  const { jwk, publicKey } = await generateKey("app");
  const relay = fakeRelay(UID);
  const provider = connectProvider({
    url: relay.url,
    app: "app",
    privateKey: jwk,
  });
  await provider.ready;

  const [auth] = relay.frames;
  same(Object.keys(auth).sort(), ["name", "signature", "type", "uid"]);
  same([auth.type, auth.uid, auth.name], ["auth", UID, "app"]);
  equal(await verify(publicKey, auth.signature, authMessage(UID, "app")), true);

  await provider.close();
  await relay.close();
});

Deno.test("provider library sends no signature without a key", async () => {
  const relay = fakeRelay(UID);
  const provider = connectProvider({ url: relay.url, app: "app" });
  await provider.ready;
  same(relay.frames, [{ type: "auth", uid: UID, name: "app" }]);
  await provider.close();
  await relay.close();
});
