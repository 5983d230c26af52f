/**
 * Test helper: the relay under `deno serve --parallel` in a subprocess, with
 * a fixed number of isolates, on a free loopback port.
 *
 * @module
 */

import { MEMORY_STORE, TestClient } from "./helpers.ts";

/** A client that read its welcome. */
export type Connected = TestClient & { uid: string };

/** A running `deno serve --parallel` relay. */
export interface ParallelRelay {
  /** `ws://127.0.0.1:<port>/ws` */
  url: string;
  /** Stop the process and wait for it to exit. */
  close(): Promise<void>;
}

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Start `isolates` isolates with `env` overrides; waits until listening. */
export async function serveParallel(
  isolates: number,
  env: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<ParallelRelay> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "serve",
      "--parallel",
      "--allow-all",
      "--unstable-kv",
      "--host=127.0.0.1",
      "--port=0",
      MAIN,
    ],
    env: {
      DENO_JOBS: String(isolates),
      LOG_LEVEL: "warn",
      ...MEMORY_STORE,
      ...env,
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();

  const output = collect(child.stderr);
  const close = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await child.status;
    await output.done;
  };

  const port = await output.port(timeoutMs).catch(async (error) => {
    await close();
    throw new Error(`${error.message}; output:\n${output.text()}`);
  });
  return { url: `ws://127.0.0.1:${port}/ws`, close };
}

/** Read a process's stderr to the end, watching for the listening line. */
function collect(stream: ReadableStream<Uint8Array>) {
  let text = "";
  let found: (port: number) => void = () => {};
  const listening = new Promise<number>((resolve) => found = resolve);
  const done = stream.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write(chunk) {
        text += chunk;
        const match = text.match(/Listening on http:\/\/[^:]+:(\d+)\//);
        if (match) found(Number(match[1]));
      },
    }),
  );
  const port = (ms: number) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not listening in ${ms} ms`)),
        ms,
      );
    });
    const ended = done.then(() => {
      throw new Error("relay exited before listening");
    });
    return Promise.race([listening, timeout, ended]).finally(() =>
      clearTimeout(timer)
    );
  };
  return { done, port, text: () => text };
}

/**
 * Connect until each of `isolates` isolates holds `perIsolate` clients, and
 * return them grouped by isolate. The kernel spreads connections over the
 * isolates at random, so this is bounded by `maxTries` connections; clients
 * that land on a full isolate are closed.
 */
export async function spreadClients(
  url: string,
  isolates: number,
  perIsolate: number,
  maxTries = 200,
): Promise<Connected[][]> {
  const groups = new Map<string, Connected[]>();
  const spare: Connected[] = [];
  const done = () =>
    groups.size === isolates &&
    [...groups.values()].every((group) => group.length === perIsolate);

  for (let tries = 0; tries < maxTries && !done(); tries++) {
    const client = await TestClient.connect(url);
    const group = groups.get(client.isolate) ??
      (groups.size < isolates ? [] : undefined);
    if (group && group.length < perIsolate) {
      group.push(client);
      groups.set(client.isolate, group);
    } else {
      spare.push(client);
    }
  }

  await Promise.all(spare.map((client) => client.close()));
  if (done()) return [...groups.values()];
  await Promise.all([...groups.values()].flat().map((c) => c.close()));
  throw new Error(`connections did not reach ${isolates} isolates`);
}
