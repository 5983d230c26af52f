/**
 * Last values shared the ways relays are run: across a restart of
 * `deno run main.ts` on one KV file, across the isolates of
 * `deno serve --parallel`, and across two nodes sharing a real Redis.
 */

import {
  deepStrictEqual,
  notStrictEqual,
  strictEqual,
} from "node:assert/strict";
import { Logger } from "../src/observe/log.ts";
import { RedisStore } from "../src/relay/last_value_redis.ts";
import {
  eventually,
  type Frame,
  type RelayProcess,
  startRelayProcess,
  TestClient,
} from "./helpers.ts";
import { redisAvailable, RedisServer } from "./redis_helpers.ts";
import { serveParallel, spreadClients } from "./serve_parallel.ts";

const hasRedis = await redisAvailable("the Redis last-value test");

/** Run `body` with a fresh KV file path; remove its directory after. */
async function withKvFile(body: (path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "cupd_kv_" });
  try {
    await body(`${dir}/last.sqlite3`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function subscribe(widget: TestClient, name: string): Promise<Frame> {
  widget.send({ type: "subscribe", name });
  await widget.expect({ type: "subscribed", name });
  return widget.next();
}

async function publishAndClose(url: string, name: string, data: unknown) {
  const provider = await TestClient.provider(url, name);
  provider.send({ type: "data", data });
  await provider.sync();
  await provider.close();
}

/** Stop a relay process and fail with its output if it did not exit 0. */
async function stop(relay: RelayProcess): Promise<void> {
  const stderr = await relay.stop();
  strictEqual((await relay.child.status).code, 0, stderr);
}

Deno.test("the last value survives a restart on the same KV file", async () => {
  await withKvFile(async (path) => {
    // No flush before shutdown: only the shutdown flush can save it.
    const env = {
      CUPD_STORE: "kv",
      CUPD_KV_PATH: path,
      CUPD_LAST_VALUE_FLUSH_MS: "60000",
    };
    const first = await startRelayProcess(env);
    try {
      await publishAndClose(first.url, "meter", { kwh: 12.5 });
    } finally {
      await stop(first);
    }

    const second = await startRelayProcess(env);
    try {
      const widget = await TestClient.connect(second.url);
      deepStrictEqual(await subscribe(widget, "meter"), {
        type: "data",
        name: "meter",
        data: { kwh: 12.5 },
        retained: true,
      });
      await widget.close();
    } finally {
      await stop(second);
    }
  });
});

Deno.test("a last value read after a restart still expires", async () => {
  await withKvFile(async (path) => {
    const ttl = 1000;
    const env = {
      CUPD_STORE: "kv",
      CUPD_KV_PATH: path,
      CUPD_LAST_VALUE_TTL_MS: String(ttl),
    };
    const first = await startRelayProcess(env);
    let published = Infinity;
    try {
      await publishAndClose(first.url, "app", "stale");
      // The relay stamped the payload before answering the ping.
      published = Date.now();
    } finally {
      await stop(first);
    }

    // The time to live is the point of the test: wait it out.
    await new Promise((r) => setTimeout(r, published + ttl + 50 - Date.now()));
    const second = await startRelayProcess(env);
    try {
      const widget = await TestClient.widget(second.url, "app");
      const provider = await TestClient.provider(second.url, "app");
      provider.send({ type: "data", data: "fresh" });
      const frame = await widget.next();
      deepStrictEqual([frame.data, frame.retained], ["fresh", undefined]);
      await Promise.all([widget.close(), provider.close()]);
    } finally {
      await stop(second);
    }
  });
});

Deno.test("a late widget on another isolate of deno serve --parallel gets the last value", async () => {
  await withKvFile(async (path) => {
    const relay = await serveParallel(2, {
      CUPD_STORE: "kv",
      CUPD_KV_PATH: path,
      CUPD_LAST_VALUE_FLUSH_MS: "50",
    });
    const [[provider, near], [far, farther]] = await spreadClients(
      relay.url,
      2,
      2,
    );
    const clients = [provider, near, far, farther];
    const kv = await Deno.openKv(path);
    try {
      notStrictEqual(provider.isolate, far.isolate);
      provider.send({ type: "auth", uid: provider.uid, name: "app" });
      await provider.expect({ type: "authenticated", name: "app" });
      provider.send({ type: "data", data: { v: 1 } });
      await provider.sync();

      // The far isolate has no widget of the app, so it reads the shared
      // KV file: wait until the value has been flushed there.
      await eventually(async () => {
        const entry = await kv.get(["cupd", "last_value", "app"]);
        return entry.value !== null;
      });
      deepStrictEqual(await subscribe(far, "app"), {
        type: "data",
        name: "app",
        data: { v: 1 },
        retained: true,
      });
      deepStrictEqual((await subscribe(near, "app")).data, { v: 1 });

      // Live frames follow, once each, on both isolates.
      provider.send({ type: "data", data: { v: 2 } });
      for (const widget of [far, near]) {
        deepStrictEqual(await widget.next(), {
          type: "data",
          name: "app",
          data: { v: 2 },
        });
      }

      // The far isolate now watches the app: its copy answers at once.
      deepStrictEqual(await subscribe(farther, "app"), {
        type: "data",
        name: "app",
        data: { v: 2 },
        retained: true,
      });
      for (const widget of [far, near, farther]) {
        await widget.sync();
        deepStrictEqual(widget.unread, [], "nothing twice");
      }
    } finally {
      kv.close();
      await Promise.all(clients.map((client) => client.close()));
      await relay.close();
    }
  });
});

Deno.test("deno serve --parallel writes pending last values on SIGTERM", async () => {
  await withKvFile(async (path) => {
    const relay = await serveParallel(2, {
      CUPD_STORE: "kv",
      CUPD_KV_PATH: path,
      CUPD_LAST_VALUE_FLUSH_MS: "60000",
    });
    try {
      await publishAndClose(relay.url, "app", "kept");
    } finally {
      await relay.close();
    }

    const kv = await Deno.openKv(path);
    const entry = await kv.get<{ frame: string }>([
      "cupd",
      "last_value",
      "app",
    ]);
    kv.close();
    strictEqual(
      entry.value?.frame,
      '{"type":"data","name":"app","data":"kept"}',
    );
  });
});

Deno.test({
  name: "a late widget on another node sharing Redis gets the last value",
  ignore: !hasRedis,
  async fn() {
    const redis = new RedisServer();
    await redis.start();
    const nodes: RelayProcess[] = [];
    // The test's own reader of the stored value.
    const reader = new RedisStore(redis.url, {
      ttlMs: 60_000,
      log: new Logger("silent"),
    });
    try {
      // CUPD_STORE unset: REDIS_URL selects the Redis store.
      const env = { REDIS_URL: redis.url, CUPD_STORE: "" };
      for (let i = 0; i < 2; i++) nodes.push(await startRelayProcess(env));
      const [a, b] = nodes;

      await publishAndClose(a.url, "ticker", { price: 101 });
      await eventually(async () => (await reader.get("ticker")) !== undefined);

      const widget = await TestClient.connect(b.url);
      deepStrictEqual(await subscribe(widget, "ticker"), {
        type: "data",
        name: "ticker",
        data: { price: 101 },
        retained: true,
      });
      await widget.close();
    } finally {
      await reader.close();
      await Promise.all(nodes.map(stop));
      await redis.stop();
    }
  },
});

Deno.test("without --unstable-kv the default store stops the relay naming CUPD_STORE", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "main.ts"],
    cwd: new URL("../", import.meta.url),
    env: { LOG_LEVEL: "warn", CUPD_STORE: "" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const [status, stderr] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
  ]);
  strictEqual(status.code, 1);
  const line = JSON.parse(stderr.trim().split("\n").at(-1)!);
  strictEqual(line.variable, "CUPD_STORE");
  strictEqual(line.msg.includes("--unstable-kv"), true, line.msg);
});
