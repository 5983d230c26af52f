import {
  deepStrictEqual as same,
  strictEqual as assertEquals,
} from "node:assert/strict";
import { ErrorCode } from "../src/protocol/codes.ts";
import {
  hs256Token,
  makeApp,
  registryJson,
  tokenFor,
  unsignedToken,
} from "./auth_helpers.ts";
import { TestClient, type TestRelay, withRelay } from "./helpers.ts";

const owned = await makeApp("owned");
const hidden = await makeApp("hidden");
const APPS = registryJson([owned, hidden], [hidden]);

/** A relay with this file's registry, `env` on top. */
function withApps(
  body: (relay: TestRelay) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  return withRelay({ CUPD_APPS: APPS, ...env }, body);
}

/** POST `body` to `/apps/<name>/data`; returns status and JSON answer. */
async function publish(
  relay: TestRelay,
  name: string,
  body: BodyInit,
  token?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers = new Headers({ "content-type": "application/json" });
  if (token !== undefined) headers.set("authorization", `Bearer ${token}`);
  const response = await fetch(`${relay.http}/apps/${name}/data`, {
    method: "POST",
    headers,
    body,
  });
  return { status: response.status, json: await response.json() };
}

/** Publish to "owned" with `token` and expect `status` and `code`. */
async function refusedWith(
  token: string | undefined,
  status: number,
  code: string,
): Promise<void> {
  await withApps(async (relay) => {
    const widget = await TestClient.widget(relay.url, "owned");
    const answer = await publish(relay, "owned", '{"n":1}', token);
    assertEquals(answer.status, status);
    assertEquals(answer.json.error, code);
    await widget.sync();
    same(widget.unread, []);
    await widget.close();
  });
}

Deno.test("HTTP publish reaches WebSocket widgets", async () => {
  await withApps(async (relay) => {
    const widgets = await Promise.all([
      TestClient.widget(relay.url, "owned"),
      TestClient.widget(relay.url, "owned"),
    ]);
    const token = await tokenFor(owned, "publish");
    const payload = { reading: [1, 2.5, "three"], ok: true };
    const answer = await publish(
      relay,
      "owned",
      JSON.stringify(payload),
      token,
    );
    same(answer, { status: 202, json: { status: "accepted" } });
    for (const widget of widgets) {
      same(await widget.next(), { type: "data", name: "owned", data: payload });
      await widget.close();
    }
  });
});

Deno.test("HTTP publish reaches a private app's widget holding a token", async () => {
  await withApps(async (relay) => {
    const widget = await TestClient.connect(relay.url);
    const watch = await tokenFor(hidden, "subscribe");
    widget.send({ type: "subscribe", name: "hidden", token: watch });
    await widget.expect({ type: "subscribed", name: "hidden" });

    const token = await tokenFor(hidden, "publish");
    assertEquals((await publish(relay, "hidden", '"psst"', token)).status, 202);
    same(await widget.next(), { type: "data", name: "hidden", data: "psst" });
    await widget.close();
  });
});

Deno.test("HTTP publish to an unregistered app in open mode needs no token", async () => {
  await withApps(async (relay) => {
    const widget = await TestClient.widget(relay.url, "free");
    same(await publish(relay, "free", "42"), {
      status: 202,
      json: { status: "accepted" },
    });
    same(await widget.next(), { type: "data", name: "free", data: 42 });
    await widget.close();
  });
});

Deno.test("HTTP publish without a token for a registered app is 401", async () => {
  await refusedWith(undefined, 401, ErrorCode.tokenRequired);
});

Deno.test("HTTP publish with an expired token is 401", async () => {
  const lastWeek = new Date(Date.now() - 7 * 24 * 3600 * 1000);
  const token = await tokenFor(owned, "publish", { now: lastWeek });
  await refusedWith(token, 401, ErrorCode.tokenExpired);
});

Deno.test("HTTP publish with a genuine token for another app is 403", async () => {
  await refusedWith(
    await tokenFor(hidden, "publish"),
    403,
    ErrorCode.forbidden,
  );
});

Deno.test("HTTP publish with a token signed by another app's key is 401", async () => {
  const token = await tokenFor(hidden, "publish", { sub: "owned" });
  await refusedWith(token, 401, ErrorCode.tokenInvalid);
});

Deno.test("HTTP publish with an alg none token is 401", async () => {
  await refusedWith(
    unsignedToken("owned", "publish"),
    401,
    ErrorCode.tokenUnsigned,
  );
});

Deno.test("HTTP publish with an HS256 token keyed with the public key is 401", async () => {
  await refusedWith(
    await hs256Token(owned, "publish"),
    401,
    ErrorCode.tokenAlgorithm,
  );
});

Deno.test("HTTP publish with a token that is not a JWT is 401", async () => {
  await refusedWith("garbage", 401, ErrorCode.tokenMalformed);
});

Deno.test("HTTP publish with a subscribe token is 403", async () => {
  await refusedWith(
    await tokenFor(owned, "subscribe"),
    403,
    ErrorCode.tokenScope,
  );
});

Deno.test("HTTP publish with a non-Bearer Authorization is 401", async () => {
  await withApps(async (relay) => {
    const response = await fetch(`${relay.http}/apps/owned/data`, {
      method: "POST",
      headers: { authorization: "Basic b3duZWQ6cHc=" },
      body: "1",
    });
    assertEquals(response.status, 401);
    assertEquals(
      response.headers.get("www-authenticate"),
      'Bearer realm="cupd"',
    );
    assertEquals((await response.json()).error, ErrorCode.tokenMalformed);
  });
});

Deno.test("HTTP publish to an unknown app in strict mode is 404", async () => {
  await withApps(async (relay) => {
    const answer = await publish(relay, "free", "1");
    same(answer.status, 404);
    assertEquals(answer.json.error, ErrorCode.unknownApp);
  }, { CUPD_AUTH: "strict" });
});

Deno.test("HTTP publish of invalid JSON is 400", async () => {
  await withApps(async (relay) => {
    const token = await tokenFor(owned, "publish");
    for (const body of ["{nope", "", new Uint8Array([0x22, 0xff, 0x22])]) {
      const answer = await publish(relay, "owned", body, token);
      assertEquals(answer.status, 400);
      assertEquals(answer.json.error, ErrorCode.invalidJson);
    }
  });
});

Deno.test("HTTP publish to an invalid app name is 400", async () => {
  await withApps(async (relay) => {
    const answer = await publish(relay, "no%20spaces", "1");
    assertEquals(answer.status, 400);
    assertEquals(answer.json.error, ErrorCode.invalidName);
  });
});

Deno.test("HTTP publish over the frame size limit is 413", async () => {
  await withApps(async (relay) => {
    const token = await tokenFor(owned, "publish");
    const big = JSON.stringify("x".repeat(2000));
    const fits = JSON.stringify("x".repeat(1000));
    assertEquals((await publish(relay, "owned", fits, token)).status, 202);

    const sized = await publish(relay, "owned", big, token);
    assertEquals(sized.status, 413);
    assertEquals(sized.json.error, ErrorCode.payloadTooLarge);

    // Without Content-Length: the limit holds while streaming.
    const stream = ReadableStream.from([new TextEncoder().encode(big)]);
    const streamed = await publish(relay, "owned", stream, token);
    assertEquals(streamed.status, 413);
    assertEquals(streamed.json.error, ErrorCode.payloadTooLarge);
  }, { CUPD_MAX_FRAME_BYTES: "1024" });
});
