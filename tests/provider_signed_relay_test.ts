/**
 * The library's signed handshake against the relay's own key check. These
 * tests run only when the relay refuses an unsigned provider for an app
 * with a registered key; a relay without key checks skips them.
 */

import {
  deepStrictEqual as same,
  strictEqual as equal,
} from "node:assert/strict";
import { connectProvider } from "../src/client/provider.ts";
import { startRelay, TestClient } from "./helpers.ts";
import { generateKey } from "./keys.ts";

const key = await generateKey("signed");
const ENV = {
  CUPD_APPS: JSON.stringify({ signed: { publicKey: key.publicKey } }),
};

/** Whether the relay refuses an unsigned auth for a registered app. */
async function relayChecksKeys(): Promise<boolean> {
  const relay = startRelay(ENV);
  const client = await TestClient.connect(relay.url);
  client.send({ type: "auth", uid: client.uid, name: "signed" });
  const reply = await client.next().catch(() => ({ type: "closed" }));
  await client.close();
  await relay.close();
  return reply.type !== "authenticated";
}

const checksKeys = await relayChecksKeys();

Deno.test({
  name: "provider library publishes under a registered key",
  ignore: !checksKeys,
  async fn() {
    const relay = startRelay(ENV);
    const widget = await TestClient.widget(relay.url, "signed");
    const provider = connectProvider({
      url: relay.url,
      app: "signed",
      privateKey: key.jwk,
    });
    await provider.ready;
    provider.publish({ signed: true });
    const frame = await widget.expect({ type: "data", name: "signed" });
    same(frame.data, { signed: true });

    await provider.close();
    await widget.close();
    await relay.close();
  },
});

Deno.test({
  name: "provider library gives up when signing with another key",
  ignore: !checksKeys,
  async fn() {
    const relay = startRelay(ENV);
    const other = await generateKey("signed");
    const provider = connectProvider({
      url: relay.url,
      app: "signed",
      privateKey: other.jwk,
    });
    const errors: string[] = [];
    provider.on("error", (error) => errors.push(error.code));

    const closed = await provider.closed;
    equal(closed.code >= 4500 && closed.code <= 4999, true);
    same(errors, ["bad_signature"]);
    await relay.close();
  },
});
