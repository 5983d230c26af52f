/**
 * Child processes of the bench: relays under test and load generator
 * runs, each pinned to its core with `taskset`, with the open-file limit
 * raised to the hard limit, and every one of them killed on the way out.
 *
 * @module
 */

import type { Job, JobResult, Target } from "./jobs.ts";
import { RawSocket } from "./raw_socket.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const DENO = Deno.execPath();

/** Raise the soft open-file limit to the hard one, then run the command. */
const RAISE_FILES = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"';

/** Every child still running, killed by {@linkcode killAll}. */
const live = new Set<Deno.ChildProcess>();

/** The relays the bench knows how to start. */
export type RelayKind = "cupd" | "baseline";

/** `argv` wrapped to run on `cpu` (taskset syntax) with raised limits. */
function pinned(cpu: string | null, argv: string[]): [string, string[]] {
  const taskset = cpu === null ? [] : ["taskset", "-c", cpu];
  return ["sh", ["-c", RAISE_FILES, "sh", ...taskset, ...argv]];
}

/** Whether `taskset` (util-linux) can be run. */
export async function hasTaskset(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("taskset", {
      args: ["-c", "0", "true"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/** The open-file limit children get (the hard limit). */
export async function fileLimit(): Promise<number> {
  const { stdout } = await new Deno.Command("sh", {
    args: ["-c", "ulimit -Hn"],
  }).output();
  const text = new TextDecoder().decode(stdout).trim();
  return text === "unlimited" ? Infinity : Number(text);
}

/** Environment of cupd under test; see the README's Performance section. */
function cupdEnv(port: number): Record<string, string> {
  const passed = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([key]) =>
      key.startsWith("CUPD_")
    ),
  );
  return {
    // Defaults except what the bench needs: quiet logs, the in-memory
    // last-value store, and no limit that the load itself would trip (one
    // provider sends thousands of payloads a second; every connection
    // comes from 127.0.0.1). The baseline has no limits at all. Any CUPD_*
    // variable set for the bench is passed through and wins.
    LOG_LEVEL: "warn",
    CUPD_STORE: "memory",
    CUPD_PROVIDER_RATE: "0",
    CUPD_PROVIDER_BYTE_RATE: "0",
    CUPD_APP_RATE: "0",
    CUPD_APP_BYTE_RATE: "0",
    CUPD_MAX_CONNECTIONS: "0",
    CUPD_MAX_CONNECTIONS_PER_ADDRESS: "0",
    ...passed,
    PORT: String(port),
  };
}

function relayArgv(kind: RelayKind): string[] {
  if (kind === "baseline") {
    return [
      DENO,
      "run",
      "--allow-net",
      "--allow-env",
      "bench/baseline_relay.ts",
    ];
  }
  const extra = Deno.env.get("BENCH_CUPD_FLAGS")?.split(" ").filter(Boolean);
  return [
    DENO,
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    "--unstable-kv",
    ...(extra ?? []),
    "main.ts",
  ];
}

/** A relay under test, running as its own process. */
export class Relay {
  readonly target: Target;
  readonly #child: Deno.ChildProcess;
  readonly #tail: string[] = [];
  readonly #exited: Promise<Deno.CommandStatus>;

  private constructor(kind: RelayKind, port: number, child: Deno.ChildProcess) {
    this.target = { name: kind, port, pid: child.pid };
    this.#child = child;
    this.#exited = child.status;
    this.#keepTail(child.stdout);
    this.#keepTail(child.stderr);
  }

  /** Start a relay on a free port and wait until it sends a welcome. */
  static async start(kind: RelayKind, cpu: string | null): Promise<Relay> {
    const port = freePort();
    const [command, args] = pinned(cpu, relayArgv(kind));
    const child = new Deno.Command(command, {
      args,
      cwd: ROOT,
      env: kind === "cupd" ? cupdEnv(port) : { PORT: String(port) },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    live.add(child);
    const relay = new Relay(kind, port, child);
    try {
      await relay.#ready(30_000);
      return relay;
    } catch (error) {
      await relay.stop();
      throw new Error(`${kind} did not start: ${error}\n${relay.output()}`);
    }
  }

  /** The last lines the relay printed. */
  output(): string {
    return this.#tail.join("\n");
  }

  /** SIGTERM, then SIGKILL if it is still there after 3 s. */
  async stop(): Promise<void> {
    await stopChild(this.#child, this.#exited);
  }

  async #ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    this.#exited.then(() => exited = true);
    while (Date.now() < deadline && !exited) {
      try {
        const socket = await RawSocket.connect(this.target.port, 1024);
        try {
          const welcome = JSON.parse(await socket.nextText(2000));
          if (welcome.type === "welcome") return;
        } finally {
          socket.close();
        }
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(exited ? "it exited" : `no welcome in ${timeoutMs} ms`);
  }

  async #keepTail(stream: ReadableStream<Uint8Array>): Promise<void> {
    const lines = stream.pipeThrough(new TextDecoderStream());
    try {
      for await (const chunk of lines) {
        this.#tail.push(...chunk.split("\n").filter(Boolean));
        this.#tail.splice(0, Math.max(0, this.#tail.length - 20));
      }
    } catch {
      // The relay was killed; what was read is kept.
    }
  }
}

/**
 * Run one load generator job pinned to `cpu`. Its progress lines go to our
 * stderr; its result is the JSON line it prints. Killed past `timeoutMs`.
 */
export async function runLoad<R extends JobResult>(
  job: Job,
  cpu: string | null,
  timeoutMs: number,
): Promise<R> {
  const [command, args] = pinned(cpu, [
    DENO,
    "run",
    "--allow-net=127.0.0.1",
    "--allow-run=cat,sh",
    "bench/load.ts",
    JSON.stringify(job),
  ]);
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  live.add(child);
  const output = child.output();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const { code, stdout } = await output;
    if (code !== 0) throw new Error(`load generator exited with ${code}`);
    const lines = new TextDecoder().decode(stdout).trim().split("\n");
    return JSON.parse(lines[lines.length - 1]) as R;
  } finally {
    clearTimeout(timer);
    live.delete(child);
  }
}

/** Kill every child still running (on exit or interrupt). */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((child) => stopChild(child, child.status)));
}

async function stopChild(
  child: Deno.ChildProcess,
  exited: Promise<Deno.CommandStatus>,
): Promise<void> {
  if (!live.has(child)) return;
  try {
    child.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, 3000);
  await exited.catch(() => {});
  clearTimeout(timer);
  live.delete(child);
}

/** A port free right now on loopback (the relay binds it next). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
