import {
  deepStrictEqual as same,
  strictEqual as assertEquals,
} from "node:assert/strict";
import { CloseCode, ErrorCode } from "../src/protocol/codes.ts";
import {
  expectRefusal,
  hs256Token,
  makeApp,
  registryJson,
  signedProvider,
  tokenFor,
  unsignedToken,
} from "./auth_helpers.ts";
import {
  eventually,
  TestClient,
  type TestRelay,
  withRelay,
} from "./helpers.ts";

const secret = await makeApp("secret");
const other = await makeApp("other");
const shown = await makeApp("shown");
const APPS = registryJson([secret, other, shown], [secret, other]);

/** A relay with this file's registry, `env` on top. */
function withApps(
  body: (relay: TestRelay) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  return withRelay({ CUPD_APPS: APPS, ...env }, body);
}

/** Subscribe to the private app with `token` and expect a refusal. */
async function refusedWith(
  token: string | undefined,
  code: string,
): Promise<void> {
  await withApps(async ({ url }) => {
    const widget = await TestClient.connect(url);
    widget.send({ type: "subscribe", name: "secret", token });
    await expectRefusal(widget, code, CloseCode.forbidden);
  });
}

Deno.test("private app refuses a widget without a token", async () => {
  await refusedWith(undefined, ErrorCode.tokenRequired);
});

Deno.test("private app refuses a widget with an expired token", async () => {
  const lastWeek = new Date(Date.now() - 7 * 24 * 3600 * 1000);
  const token = await tokenFor(secret, "subscribe", { now: lastWeek });
  await refusedWith(token, ErrorCode.tokenExpired);
});

Deno.test("private app refuses a genuine token for another app", async () => {
  await refusedWith(await tokenFor(other, "subscribe"), ErrorCode.forbidden);
});

Deno.test("private app refuses a token signed by another app's key", async () => {
  const token = await tokenFor(other, "subscribe", { sub: "secret" });
  await refusedWith(token, ErrorCode.tokenInvalid);
});

Deno.test("private app refuses an alg none token", async () => {
  await refusedWith(
    unsignedToken("secret", "subscribe"),
    ErrorCode.tokenUnsigned,
  );
});

Deno.test("private app refuses an HS256 token keyed with the public key", async () => {
  await refusedWith(
    await hs256Token(secret, "subscribe"),
    ErrorCode.tokenAlgorithm,
  );
});

Deno.test("private app refuses a token that is not a JWT", async () => {
  await refusedWith("not-a-jwt", ErrorCode.tokenMalformed);
});

Deno.test("private app refuses a publish token for subscribing", async () => {
  await refusedWith(await tokenFor(secret, "publish"), ErrorCode.tokenScope);
});

Deno.test("strict relay refuses a widget of an unknown app", async () => {
  await withApps(async ({ url }) => {
    const widget = await TestClient.connect(url);
    widget.send({ type: "subscribe", name: "nobody" });
    await expectRefusal(widget, ErrorCode.unknownApp, CloseCode.unknownApp);
  }, { CUPD_AUTH: "strict" });
});

Deno.test("private app admits a widget with a good token", async () => {
  await withApps(async ({ url }) => {
    const widget = await TestClient.connect(url);
    const token = await tokenFor(secret, "subscribe");
    widget.send({ type: "subscribe", name: "secret", token });
    await widget.expect({ type: "subscribed", name: "secret" });

    const provider = await signedProvider(url, secret);
    provider.send({ type: "data", data: { door: "open" } });
    same(await widget.next(), {
      type: "data",
      name: "secret",
      data: { door: "open" },
    });
    await provider.close();
    await widget.close();
  });
});

Deno.test("registered public app needs no widget token, even in strict mode", async () => {
  await withApps(async ({ url }) => {
    const widget = await TestClient.widget(url, "shown");
    const provider = await signedProvider(url, shown);
    provider.send({ type: "data", data: 1 });
    await widget.expect({ type: "data", name: "shown", data: 1 });
    await provider.close();
    await widget.close();
  }, { CUPD_AUTH: "strict" });
});

Deno.test("subscribes sent while a token is checked are answered in order", async () => {
  await withApps(async ({ url }) => {
    const widget = await TestClient.connect(url);
    const token = await tokenFor(secret, "subscribe");
    widget.send({ type: "subscribe", name: "secret", token });
    widget.send({ type: "subscribe", name: "free" });
    widget.send({ type: "ping" });
    await widget.expect({ type: "subscribed", name: "secret" });
    await widget.expect({ type: "subscribed", name: "free" });
    await widget.expect({ type: "pong" });
    await widget.close();
  });
});

Deno.test("a refused token closes the widget and releases its subscriptions", async () => {
  await withApps(async ({ relay, url }) => {
    const widget = await TestClient.widget(url, "free", "shown");
    assertEquals(relay.hub.stats().subscriptions, 2);
    widget.send({ type: "subscribe", name: "secret", token: "x.y.z" });
    await expectRefusal(widget, ErrorCode.tokenMalformed, CloseCode.forbidden);
    await eventually(() => relay.hub.stats().subscriptions === 0);
  });
});
