/**
 * The widget library and the debug page in a real Chromium, against real
 * relays: delivery to an embedding page, reconnection across a relay
 * restart, a "do not reconnect" close, and the debug page.
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { Page } from "playwright-core";
import { loadConfig } from "../src/config.ts";
import { Logger } from "../src/observe/log.ts";
import { MemoryBus } from "../src/relay/bus_memory.ts";
import { MemoryPresence } from "../src/relay/presence_memory.ts";
import { createRelay } from "../src/server/relay.ts";
import type { StateEvent } from "../src/client/widget.js";
import {
  chromiumAvailable,
  embeddingSite,
  withPage,
} from "./browser_helpers.ts";
import {
  eventually,
  freePort,
  type RelayProcess,
  startRelay,
  startRelayProcess,
  TestClient,
  type TestRelay,
  withRelay,
} from "./helpers.ts";

const available = await chromiumAvailable();
if (!available) {
  // deno-lint-ignore no-console
  console.warn(
    "skipping browser tests: /usr/bin/chromium is missing " +
      "(Debian: apt-get install chromium)",
  );
}

/** A browser test, skipped without Chromium; generous for a busy machine. */
function browserTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: !available, fn });
}

/** Read `window[key]` of the page. */
function pageValue<T>(page: Page, key: string): Promise<T> {
  return page.evaluate(
    (key) => (globalThis as unknown as Record<string, unknown>)[key] as T,
    key,
  );
}

/** Wait until the page's state events satisfy `check`. */
async function waitForState(
  page: Page,
  check: (events: StateEvent[]) => boolean,
): Promise<StateEvent[]> {
  let events: StateEvent[] = [];
  await eventually(async () => {
    events = await pageValue<StateEvent[]>(page, "states");
    return check(events);
  }, 20_000);
  return events;
}

/** Wait until the relay at `http` counts `count` widget subscriptions. */
function subscribedAt(http: string, count: number): Promise<void> {
  return eventually(async () => {
    const health = await (await fetch(`${http}/healthz`)).json();
    return health.subscriptions === count;
  }, 20_000);
}

/** Wait until the page holds `count` values; return them. */
async function values(page: Page, count: number): Promise<unknown[]> {
  let received: { data: unknown }[] = [];
  await eventually(async () => {
    received = await pageValue(page, "received");
    return received.length >= count;
  }, 20_000);
  return received.map((entry) => entry.data);
}

/** The JSON texts shown in the page's `#values` list. */
function shown(page: Page): Promise<string[]> {
  return page.locator("#values li").allTextContents();
}

browserTest(
  "a page embedding /widget.js shows the provider's values in order",
  async () => {
    await withRelay({}, async (relay) => {
      const site = embeddingSite(relay.http);
      try {
        await withPage(async (page) => {
          await page.goto(site.page("weather"));
          await subscribedAt(relay.http, 1);

          const sent = [{ temperature: 21.5, unit: "C" }, "windy", 3, [1, 2]];
          const provider = await TestClient.provider(relay.url, "weather");
          for (const data of sent) provider.send({ type: "data", data });
          deepStrictEqual(await values(page, sent.length), sent);
          deepStrictEqual(
            await shown(page),
            sent.map((v) => JSON.stringify(v)),
          );
          await provider.close();
        });
      } finally {
        await site.close();
      }
    });
  },
);

browserTest(
  "after a relay restart the page reconnects, subscribes again and shows the last value and new ones",
  async () => {
    // Both relay processes keep last values in the same Deno KV file, as a
    // relay restarted on one machine does.
    const dir = await Deno.makeTempDir();
    const env = { CUPD_STORE: "kv", CUPD_KV_PATH: `${dir}/last_values.kv` };
    const port = freePort();
    const relays: RelayProcess[] = [await startRelayProcess(env, port)];
    const site = embeddingSite(relays[0].http);
    try {
      await withPage(async (page) => {
        await page.goto(site.page("live"));
        await subscribedAt(relays[0].http, 1);
        const before = await TestClient.provider(relays[0].url, "live");
        before.send({ type: "data", data: { phase: "before" } });
        await values(page, 1);
        await before.close();

        await relays[0].stop();
        await waitForState(
          page,
          (events) =>
            events.some((e) => e.state === "closed" && e.code === 4000) &&
            events.at(-1)?.state !== "open",
        );
        relays.push(await startRelayProcess(env, port));
        await subscribedAt(relays[1].http, 1);

        // The new relay first replays the last value, marked retained.
        await values(page, 2);
        const after = await TestClient.provider(relays[1].url, "live");
        after.send({ type: "data", data: { phase: "after", n: 1 } });
        after.send({ type: "data", data: { phase: "after", n: 2 } });
        await values(page, 4);
        deepStrictEqual(await pageValue(page, "received"), [
          { data: { phase: "before" }, retained: false },
          { data: { phase: "before" }, retained: true },
          { data: { phase: "after", n: 1 }, retained: false },
          { data: { phase: "after", n: 2 }, retained: false },
        ]);
        strictEqual((await shown(page)).length, 4);
        const events = await pageValue<StateEvent[]>(page, "states");
        strictEqual(events.filter((e) => e.state === "open").length, 2);
        strictEqual(events.at(-1)?.state, "open");
        await after.close();
      });
    } finally {
      await site.close();
      await Promise.all(relays.map((relay) => relay.stop()));
      await Deno.remove(dir, { recursive: true });
    }
  },
);

browserTest(
  "going back online retries at once instead of after the backoff",
  async () => {
    const port = String(freePort());
    const relays: TestRelay[] = [startRelay({ PORT: port })];
    const site = embeddingSite(relays[0].http);
    try {
      await withPage(async (page) => {
        // Delays of a minute: only the online event can bring it back soon.
        const slow = { minDelayMs: 60_000, maxDelayMs: 60_000 };
        await page.goto(site.page("live", slow));
        await subscribedAt(relays[0].http, 1);

        await relays.shift()!.close();
        await waitForState(
          page,
          (events) => events.at(-1)?.state === "reconnecting",
        );
        relays.push(startRelay({ PORT: port }));
        await page.evaluate(() => dispatchEvent(new Event("online")));
        await subscribedAt(relays[0].http, 1);

        const provider = await TestClient.provider(relays[0].url, "live");
        provider.send({ type: "data", data: "back" });
        deepStrictEqual(await values(page, 1), ["back"]);
        await provider.close();
      });
    } finally {
      await site.close();
      for (const relay of relays) await relay.close();
    }
  },
);

browserTest(
  "a too_many_errors close (4500) stops the page for good",
  async () => {
    // The real relay, told to tolerate no bad frame, behind a counter of
    // WebSocket upgrades, that is of connection attempts.
    const config = loadConfig({ LOG_LEVEL: "silent", CUPD_MAX_ERRORS: "0" });
    const relay = createRelay({
      config,
      log: new Logger("silent"),
      bus: new MemoryBus(),
      presence: new MemoryPresence(),
    });
    let attempts = 0;
    const server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {} },
      (request) => {
        if (request.headers.get("upgrade") === "websocket") attempts++;
        return relay.fetch(request);
      },
    );
    const http = `http://127.0.0.1:${server.addr.port}`;
    const site = embeddingSite(http);
    try {
      await withPage(async (page) => {
        await page.goto(site.page("not a name"));
        const events = await waitForState(
          page,
          (events) => events.at(-1)?.state === "stopped",
        );
        deepStrictEqual(events.at(-1), {
          state: "stopped",
          code: 4500,
          reason: "too_many_errors",
        });
        const errors = await pageValue<{ code: string }[]>(page, "errors");
        deepStrictEqual(errors.map((e) => e.code), ["invalid_name"]);

        // Retries would come within 400 ms (maxDelayMs); wait several times
        // that and count again.
        await new Promise((resolve) => setTimeout(resolve, 2000));
        strictEqual(attempts, 1);
        const later = await pageValue<StateEvent[]>(page, "states");
        strictEqual(later.length, events.length);
      });
    } finally {
      await site.close();
      await relay.shutdown();
      await server.shutdown();
    }
  },
);

browserTest(
  "the debug page at /?app=x shows the last value, then live payloads",
  async () => {
    await withRelay({}, async (relay) => {
      const provider = await TestClient.provider(relay.url, "sensor");
      const last = { temperature: 19, tags: ["kitchen"] };
      provider.send({ type: "data", data: last });
      await provider.sync();

      await withPage(async (page) => {
        await page.goto(`${relay.http}/?app=sensor`);
        await page.locator('#state[data-state="open"]').waitFor();
        const frames = page.locator('#frames li.frame[data-app="sensor"]');
        await frames.first().waitFor({ timeout: 20_000 });
        strictEqual(await frames.first().getAttribute("data-retained"), "true");
        strictEqual(
          await frames.first().locator(".retained").textContent(),
          "retained",
        );

        const live = { temperature: 21.5, tags: ["kitchen", "north"] };
        provider.send({ type: "data", data: live });
        await eventually(async () => (await frames.count()) === 2, 20_000);

        // Newest first: the live payload on top, not marked retained.
        const newest = frames.first();
        strictEqual(
          await newest.locator("pre").textContent(),
          JSON.stringify(live, null, 2),
        );
        strictEqual(await newest.getAttribute("data-retained"), "false");
        strictEqual(await newest.locator(".retained").count(), 0);
        strictEqual(
          await frames.nth(1).locator("pre").textContent(),
          JSON.stringify(last, null, 2),
        );
        strictEqual(
          await page.locator('#apps li[data-app="sensor"] .count')
            .textContent(),
          "2 frames",
        );
        strictEqual(await page.locator("#state").textContent(), "Connected");
      });
      await provider.close();
    });
  },
);
