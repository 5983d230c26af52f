/** The browser routes: the widget library, its types and the debug page. */

import { strictEqual } from "node:assert/strict";
import { withRelay } from "./helpers.ts";

const source = (path: string) =>
  Deno.readTextFile(new URL(`../src/${path}`, import.meta.url));

const routes = [
  ["/widget.js", "client/widget.js", "text/javascript; charset=utf-8", "*"],
  [
    "/widget_rules.js",
    "client/widget_rules.js",
    "text/javascript; charset=utf-8",
    "*",
  ],
  [
    "/widget.d.ts",
    "client/widget.d.ts",
    "application/typescript; charset=utf-8",
    "*",
  ],
  ["/debug.js", "client/debug_page.js", "text/javascript; charset=utf-8", null],
  ["/", "public/index.html", "text/html; charset=utf-8", null],
] as const;

for (const [route, file, type, cors] of routes) {
  Deno.test(`GET ${route} serves ${file} as ${type.split(";")[0]}`, async () => {
    await withRelay({}, async (relay) => {
      const response = await fetch(`${relay.http}${route}`);
      strictEqual(response.status, 200);
      strictEqual(response.headers.get("content-type"), type);
      strictEqual(response.headers.get("access-control-allow-origin"), cors);
      strictEqual(await response.text(), await source(file));
    });
  });
}

Deno.test("the debug page answers with its query string too", async () => {
  await withRelay({}, async (relay) => {
    const response = await fetch(`${relay.http}/?app=weather`);
    strictEqual(response.status, 200);
    strictEqual(await response.text(), await source("public/index.html"));
  });
});

Deno.test("a browser revalidating /widget.js with its ETag gets 304", async () => {
  await withRelay({}, async (relay) => {
    const first = await fetch(`${relay.http}/widget.js`);
    await first.body?.cancel();
    const etag = first.headers.get("etag");
    strictEqual(typeof etag, "string");

    const again = await fetch(`${relay.http}/widget.js`, {
      headers: { "if-none-match": `"other", ${etag}` },
    });
    strictEqual(again.status, 304);
    strictEqual(await again.text(), "");
    strictEqual(again.headers.get("etag"), etag);

    const stale = await fetch(`${relay.http}/widget.js`, {
      headers: { "if-none-match": '"stale"' },
    });
    strictEqual(stale.status, 200);
    strictEqual(await stale.text(), await source("client/widget.js"));
  });
});

Deno.test("each served file has its own ETag", async () => {
  await withRelay({}, async (relay) => {
    const tags = new Set();
    for (const [route] of routes) {
      const response = await fetch(`${relay.http}${route}`);
      await response.body?.cancel();
      tags.add(response.headers.get("etag"));
    }
    strictEqual(tags.size, routes.length);
  });
});
