/** The browser routes: the widget library, its types and the debug page. */

import { strictEqual } from "node:assert/strict";
import { withRelay } from "./helpers.ts";

const source = (path: string) =>
  Deno.readTextFile(new URL(`../src/${path}`, import.meta.url));

const routes = [
  ["/widget.js", "client/widget.js", "text/javascript; charset=utf-8", "*"],
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
