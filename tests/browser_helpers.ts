/**
 * Test helpers for real Chromium through `playwright-core`, and a small
 * site of another origin that embeds the widget library as a third-party
 * page would.
 *
 * @module
 */

import type { Browser, Page } from "playwright-core";

/** Where Debian installs Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium is installed; the browser tests are skipped if not. */
export async function chromiumAvailable(): Promise<boolean> {
  try {
    return (await Deno.stat(CHROMIUM)).isFile;
  } catch {
    return false;
  }
}

/** Run `body` with a fresh page of a headless Chromium, always closed. */
export async function withPage(
  body: (page: Page) => Promise<void>,
): Promise<void> {
  // Loaded on first use, not when the test run loads this module: loaded
  // at start, it made a `deno serve --parallel` subprocess started soon
  // after by another test file miss its SIGTERM and never exit.
  const { chromium } = await import("playwright-core");
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  try {
    const page = await browser.newPage();
    const errors: Error[] = [];
    page.on("pageerror", (error) => errors.push(error));
    await body(page);
    if (errors.length > 0) throw errors[0];
  } finally {
    await browser.close();
  }
}

/** A site on its own origin whose page embeds the relay's `/widget.js`. */
export interface EmbeddingSite {
  /**
   * The page watching `app`, e.g. `http://127.0.0.1:1234/?app=x`, with
   * `options` for `connect` (reconnect delays default to 100–400 ms).
   */
  page(app: string, options?: Record<string, number>): string;
  close(): Promise<void>;
}

/**
 * Serve a page that imports `<relayHttp>/widget.js`, subscribes to the app
 * named in its query and keeps, on `window`: `received` (values with their
 * retained flag), `states` (state events) and `errors` (onError reports).
 * Each value is also appended to `#values` as JSON text.
 */
export function embeddingSite(relayHttp: string): EmbeddingSite {
  const html = `<!doctype html>
<meta charset="utf-8">
<title>A page with a live widget</title>
<ul id="values"></ul>
<script type="module">
  import { connect } from "${relayHttp}/widget.js";
  const query = new URLSearchParams(location.search);
  const app = query.get("app");
  const options = JSON.parse(query.get("options") ?? "{}");
  Object.assign(window, { received: [], states: [], errors: [] });
  const relay = connect("${relayHttp}/ws", {
    minDelayMs: 100,
    maxDelayMs: 400,
    ...options,
    onState: (event) => states.push(event),
  });
  relay.subscribe(app, (data, info) => {
    received.push({ data, retained: info.retained });
    const item = document.createElement("li");
    item.textContent = JSON.stringify(data);
    document.getElementById("values").append(item);
  }, { onError: (error) => errors.push(error) });
</script>`;
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    () => new Response(html, { headers: { "content-type": "text/html" } }),
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return {
    page: (app, options = {}) =>
      `${origin}/?${new URLSearchParams({
        app,
        options: JSON.stringify(options),
      })}`,
    close: () => server.shutdown(),
  };
}
