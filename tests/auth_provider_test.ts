import {
  deepStrictEqual as same,
  strictEqual as assertEquals,
} from "node:assert/strict";
import { signAuth } from "../src/auth/signature.ts";
import { CloseCode, ErrorCode } from "../src/protocol/codes.ts";
import {
  expectRefusal,
  makeApp,
  registryJson,
  signedProvider,
} from "./auth_helpers.ts";
import { startRelay, TestClient } from "./helpers.ts";

const alpha = await makeApp("alpha");
const beta = await makeApp("beta");
const APPS = registryJson([alpha, beta]);

/** Connect to a relay registering alpha and beta, and run `body`. */
async function withRelay(
  body: (url: string) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const relay = startRelay({ CUPD_APPS: APPS, ...env });
  try {
    await body(relay.url);
  } finally {
    await relay.close();
  }
}

Deno.test("relay refuses unsigned auth for a registered app", async () => {
  await withRelay(async (url) => {
    const client = await TestClient.connect(url);
    client.send({ type: "auth", uid: client.uid, name: "alpha" });
    await expectRefusal(
      client,
      ErrorCode.signatureRequired,
      CloseCode.authFailed,
    );
  });
});

Deno.test("relay refuses a signature replayed from another connection", async () => {
  await withRelay(async (url) => {
    const first = await TestClient.connect(url);
    const captured = await signAuth(alpha.privateKey, first.uid, "alpha");
    first.send({
      type: "auth",
      uid: first.uid,
      name: "alpha",
      signature: captured,
    });
    await first.expect({ type: "authenticated", name: "alpha" });

    const thief = await TestClient.connect(url);
    thief.send({
      type: "auth",
      uid: thief.uid,
      name: "alpha",
      signature: captured,
    });
    await expectRefusal(thief, ErrorCode.badSignature, CloseCode.authFailed);
    await first.close();
  });
});

Deno.test("relay refuses a signature made over another app name", async () => {
  await withRelay(async (url) => {
    const client = await TestClient.connect(url);
    // alpha's owner signed for "beta"; it is sent as proof for "alpha".
    const signature = await signAuth(alpha.privateKey, client.uid, "beta");
    client.send({ type: "auth", uid: client.uid, name: "alpha", signature });
    await expectRefusal(client, ErrorCode.badSignature, CloseCode.authFailed);
  });
});

Deno.test("relay refuses a signature made by another app's key", async () => {
  await withRelay(async (url) => {
    const client = await TestClient.connect(url);
    const signature = await signAuth(beta.privateKey, client.uid, "alpha");
    client.send({ type: "auth", uid: client.uid, name: "alpha", signature });
    await expectRefusal(client, ErrorCode.badSignature, CloseCode.authFailed);
  });
});

Deno.test("relay refuses a malformed signature encoding", async () => {
  await withRelay(async (url) => {
    const good = await TestClient.connect(url);
    const valid = await signAuth(alpha.privateKey, good.uid, "alpha");
    await good.close();

    const malformed = [
      "",
      "not base64url!",
      `${valid}==`, // padded
      valid.replaceAll("-", "+").replaceAll("_", "/") + "+/", // base64
      valid.slice(0, 43), // 32 bytes, not 64
      `${valid}AAAA`, // 67 bytes
    ];
    for (const signature of malformed) {
      const client = await TestClient.connect(url);
      client.send({ type: "auth", uid: client.uid, name: "alpha", signature });
      await expectRefusal(
        client,
        ErrorCode.signatureMalformed,
        CloseCode.authFailed,
      );
    }
  });
});

Deno.test("strict relay refuses a provider of an unknown app", async () => {
  await withRelay(async (url) => {
    const client = await TestClient.connect(url);
    client.send({ type: "auth", uid: client.uid, name: "gamma" });
    await expectRefusal(client, ErrorCode.unknownApp, CloseCode.unknownApp);
  }, { CUPD_AUTH: "strict" });
});

Deno.test("relay refuses a valid signature sent with another socket's uid", async () => {
  await withRelay(async (url) => {
    const client = await TestClient.connect(url);
    const other = "0".repeat(32);
    const signature = await signAuth(alpha.privateKey, other, "alpha");
    client.send({ type: "auth", uid: other, name: "alpha", signature });
    await expectRefusal(client, ErrorCode.uidMismatch, CloseCode.authFailed);
  });
});

Deno.test("relay accepts a signed provider and relays its data", async () => {
  await withRelay(async (url) => {
    const widget = await TestClient.widget(url, "alpha");
    const provider = await signedProvider(url, alpha);
    provider.send({ type: "data", data: { temperature: 21.5 } });
    same(await widget.expect({ type: "data", name: "alpha" }), {
      type: "data",
      name: "alpha",
      data: { temperature: 21.5 },
    });
    await provider.close();
    await widget.close();
  });
});

Deno.test("strict relay accepts a signed provider of a registered app", async () => {
  await withRelay(async (url) => {
    const provider = await signedProvider(url, beta);
    await provider.sync();
    await provider.close();
  }, { CUPD_AUTH: "strict" });
});

Deno.test("signed provider may send data before its auth is acknowledged", async () => {
  await withRelay(async (url) => {
    const widget = await TestClient.widget(url, "alpha");
    const provider = await TestClient.connect(url);
    const signature = await signAuth(alpha.privateKey, provider.uid, "alpha");
    provider.send({
      type: "auth",
      uid: provider.uid,
      name: "alpha",
      signature,
    });
    for (let n = 0; n < 20; n++) provider.send({ type: "data", data: n });
    provider.send({ type: "ping" });

    await provider.expect({ type: "authenticated", name: "alpha" });
    await provider.expect({ type: "pong" });
    for (let n = 0; n < 20; n++) {
      await widget.expect({ type: "data", name: "alpha", data: n });
    }
    await provider.close();
    await widget.close();
  });
});

Deno.test("refused provider's pipelined data reaches nobody", async () => {
  await withRelay(async (url) => {
    const widget = await TestClient.widget(url, "alpha");
    const forger = await TestClient.connect(url);
    const signature = await signAuth(beta.privateKey, forger.uid, "alpha");
    forger.send({ type: "auth", uid: forger.uid, name: "alpha", signature });
    forger.send({ type: "data", data: "forged" });
    await expectRefusal(forger, ErrorCode.badSignature, CloseCode.authFailed);

    const provider = await signedProvider(url, alpha);
    provider.send({ type: "data", data: "genuine" });
    await widget.expect({ type: "data", name: "alpha", data: "genuine" });
    await provider.close();
    await widget.close();
  });
});

Deno.test("open relay serves unregistered names as before, ignoring signatures", async () => {
  await withRelay(async (url) => {
    const widget = await TestClient.widget(url, "free");
    const plain = await TestClient.connect(url);
    plain.send({ type: "auth", uid: plain.uid, name: "free" });
    same(await plain.next(), { type: "authenticated", name: "free" });
    plain.send({ type: "data", data: [1, "two"] });
    same(await widget.next(), { type: "data", name: "free", data: [1, "two"] });

    // A key-holding provider pointed at a relay that does not know it.
    const keyed = await TestClient.connect(url);
    const signature = await signAuth(alpha.privateKey, keyed.uid, "free");
    keyed.send({ type: "auth", uid: keyed.uid, name: "free", signature });
    same(await keyed.next(), { type: "authenticated", name: "free" });
    assertEquals(widget.unread.length, 0);
    await Promise.all([plain.close(), keyed.close(), widget.close()]);
  });
});
