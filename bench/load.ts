/**
 * The load generator: runs one job (JSON in the first argument, see
 * `jobs.ts`) against relays on loopback and prints one JSON result line on
 * stdout. Progress goes to stderr. The bench runner starts it pinned to a
 * core of its own.
 *
 * @module
 */

import type { Job, JobResult } from "./jobs.ts";
import { runFanout } from "./load_fanout.ts";
import { runConnect, runIdle } from "./load_connect.ts";

const encoder = new TextEncoder();

function progress(line: string): void {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}

function run(job: Job): Promise<JobResult> {
  switch (job.kind) {
    case "fanout":
      return runFanout(job, progress);
    case "connect":
      return runConnect(job, progress);
    case "idle":
      return runIdle(job, progress);
  }
}

if (import.meta.main) {
  const job = JSON.parse(Deno.args[0] ?? "null") as Job | null;
  if (!job) {
    progress("usage: load.ts '<job json>' (started by bench/main.ts)");
    Deno.exit(2);
  }
  // A hard stop in case a phase misses its own deadline.
  const phases = job.kind === "connect" ? job.targets.length * job.attempts : 1;
  const limit = job.timeLimitMs * phases + 30_000;
  setTimeout(() => {
    progress("load generator: time limit reached, giving up");
    Deno.exit(3);
  }, limit);
  try {
    const result = await run(job);
    const bytes = encoder.encode(JSON.stringify(result) + "\n");
    let written = 0;
    while (written < bytes.length) {
      written += Deno.stdout.writeSync(bytes.subarray(written));
    }
    Deno.exit(0);
  } catch (error) {
    progress(`load generator failed: ${error}`);
    Deno.exit(1);
  }
}
