/**
 * Small statistics for the bench: a latency histogram cheap enough to
 * record every delivered frame, medians, and CPU time from `/proc`.
 *
 * @module
 */

/** Bucket width of {@linkcode Histogram}, in microseconds. */
const BUCKET_US = 10;
/** Latencies above this land in the last bucket. */
const MAX_US = 10_000_000;

/** Latencies in 10 µs buckets up to 10 s; recording never allocates. */
export class Histogram {
  readonly #buckets = new Uint32Array(MAX_US / BUCKET_US + 1);
  count = 0;
  maxUs = 0;

  /** Record one latency in microseconds (negative counts as zero). */
  record(us: number): void {
    const bucket = us <= 0 ? 0 : Math.min(
      this.#buckets.length - 1,
      Math.floor(us / BUCKET_US),
    );
    this.#buckets[bucket]++;
    this.count++;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** The `q` quantile (0..1) in milliseconds, or NaN when empty. */
  quantileMs(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      seen += this.#buckets[i];
      if (seen >= rank) return ((i + 1) * BUCKET_US) / 1000;
    }
    return this.maxUs / 1000;
  }

  reset(): void {
    this.#buckets.fill(0);
    this.count = 0;
    this.maxUs = 0;
  }
}

/** The median of finite values, or NaN when there are none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Linux reports CPU times in ticks of 1/100 s (`getconf CLK_TCK`). */
const TICKS_PER_SECOND = 100;

/**
 * A file under `/proc`. Deno lets only fully privileged programs read
 * `/proc` itself, so the bench asks `cat`, keeping its own permissions to
 * loopback and to running `cat` and `sh`.
 */
export function readProc(path: string): string {
  const { success, stdout } = new Deno.Command("cat", {
    args: [`/proc/${path}`],
    stderr: "null",
  }).outputSync();
  if (!success) throw new Error(`cannot read /proc/${path}`);
  return new TextDecoder().decode(stdout);
}

/** User plus system CPU seconds used so far by process `pid` ("self" ok). */
export function cpuSeconds(pid: number | "self"): number {
  try {
    const stat = readProc(`${pid === "self" ? Deno.pid : pid}/stat`);
    // The command name may hold spaces; fields are counted after its ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/**
 * Milliseconds the main thread of process `pid` has been kept waiting for
 * a CPU by other programs (`/proc/<pid>/task/<tid>/schedstat`). The
 * process is pinned to one core, so while one of its own threads (garbage
 * collection, I/O) runs, its main thread waits too: that time is the
 * program's own and is taken off. A counter: compare two readings.
 */
export function waitMs(pid: number | "self"): number {
  const id = pid === "self" ? Deno.pid : pid;
  try {
    const { stdout } = new Deno.Command("sh", {
      args: [
        "-c",
        `for t in /proc/${id}/task/*; do echo "\${t##*/} $(cat $t/schedstat)"; done`,
      ],
      stderr: "null",
    }).outputSync();
    let mainWait = 0;
    let othersRun = 0;
    for (const line of new TextDecoder().decode(stdout).trim().split("\n")) {
      const [tid, run, wait] = line.split(" ").map(Number);
      if (tid === id) mainWait = wait;
      else othersRun += run;
    }
    return (mainWait - othersRun) / 1e6;
  } catch {
    return NaN;
  }
}

/** CPU seconds the hypervisor has taken from this machine, all cores. */
export function stealSeconds(): number {
  try {
    const fields = readProc("stat").split("\n")[0].trim().split(/\s+/);
    return Number(fields[8]) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Resident memory of process `pid` in KiB, from `/proc/<pid>/status`. */
export function rssKiB(pid: number): number {
  const status = readProc(`${pid}/status`);
  const match = status.match(/^VmRSS:\s+(\d+) kB$/m);
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]);
}

/** Measures CPU use of some processes over an interval, in percent. */
export class CpuMeter {
  readonly #pids: readonly (number | "self")[];
  #start: number[] = [];
  #waits: number[] = [];
  #at = 0;

  constructor(pids: readonly (number | "self")[]) {
    this.#pids = pids;
    this.restart();
  }

  #steal = 0;

  restart(): void {
    this.#start = this.#pids.map(cpuSeconds);
    this.#waits = this.#pids.map(waitMs);
    this.#steal = stealSeconds();
    this.#at = performance.now();
  }

  /** Percent of one core used by each process since the last restart. */
  read(): number[] {
    const seconds = (performance.now() - this.#at) / 1000;
    return this.#pids.map((pid, i) =>
      seconds > 0 ? (100 * (cpuSeconds(pid) - this.#start[i])) / seconds : 0
    );
  }

  /**
   * Percent of the interval each main thread spent waiting for a CPU it
   * was ready to use.
   */
  waited(): number[] {
    const ms = performance.now() - this.#at;
    return this.#pids.map((pid, i) =>
      ms > 0 ? Math.max(0, 100 * (waitMs(pid) - this.#waits[i])) / ms : 0
    );
  }

  /** Percent of one core the hypervisor took (summed over cores). */
  stolen(): number {
    const seconds = (performance.now() - this.#at) / 1000;
    return seconds > 0 ? (100 * (stealSeconds() - this.#steal)) / seconds : 0;
  }
}
