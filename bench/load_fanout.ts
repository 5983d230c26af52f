/**
 * The fan-out scenario in the load generator: hold an offered rate for a
 * step, count and time every delivered frame, and search for the highest
 * rate each target sustains with no loss and a bounded p99, stepping the
 * targets in turn so they share whatever else the machine is doing.
 *
 * @module
 */

import type {
  FanoutJob,
  FanoutResult,
  SearchResult,
  StepResult,
  Target,
} from "./jobs.ts";
import { Fleet } from "./fleet.ts";
import { CpuMeter, Histogram } from "./stats.ts";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A step is disturbed when the relay or the load generator waited for a
 * CPU, or the hypervisor took one, for more than this share of it.
 */
export const DISTURBED_PCT = 5;

/** Offered rate of the unrecorded warm-up step, frames/s. */
const WARMUP_RATE = 20_000;

/**
 * A failure this clear is not tried again, unless other programs took the
 * CPUs: frames were lost or came out of order, the rate could not be
 * offered, or the p99 latency passed this many times the limit.
 */
const FAR_OFF = 4;

const NOT_OFFERED =
  "the rate could not be offered (relay not reading fast enough)";

/** Fewest payloads per app a step sends, so a p99 means something. */
const MIN_PAYLOADS = 20;

/** Run a fan-out job: the searches, then the fixed-rate comparison. */
export async function runFanout(
  job: FanoutJob,
  progress: (line: string) => void,
): Promise<FanoutResult> {
  const deadline = Date.now() + job.timeLimitMs;
  const histogram = new Histogram();
  const fleets = new Map<string, Fleet>();
  const widgets = job.apps * job.widgetsPerApp;
  const pids = job.targets.map((t) => t.pid);
  let opened = 0;

  const fleetOf = async (target: Target) => {
    const current = fleets.get(target.name);
    if (current && !current.broken) return current;
    current?.close();
    const fleet = await Fleet.open(target.port, {
      tag: `b${opened++}`,
      apps: job.apps,
      widgetsPerApp: job.widgetsPerApp,
      padBytes: job.padBytes,
      histogram,
      timeoutMs: Math.max(5000, Math.min(60_000, deadline - Date.now())),
    });
    fleets.set(target.name, fleet);
    // Fresh connections and a cold send path make the first step slow: run
    // one unrecorded step at a modest rate first.
    await settle(pids);
    await runStep(fleet, target, WARMUP_RATE, job);
    await quiet(fleet);
    return fleet;
  };

  // Other programs make a relay miss a rate it sustains on a quiet machine,
  // and so, near its limit, does one stall of the relay, the load generator
  // or the kernel: a 70 ms pause is enough to fail a step on its p99. So a
  // failure is tried again: once, or up to `attempts` times while other
  // programs took the CPUs; never when it missed by far on a quiet machine.
  const measure = async (target: Target, rate: number, ms: number) => {
    let step: StepResult | undefined;
    for (let attempt = 1; attempt <= job.attempts; attempt++) {
      const fleet = await fleetOf(target);
      await settle(pids);
      step = await runStep(fleet, target, rate, { ...job, measureMs: ms });
      progress(describe(step, widgets));
      if (step.pass) break;
      await quiet(fleet);
      if (!step.disturbed && farOff(step, job)) break;
      if (!step.disturbed && attempt >= 2) break;
    }
    return step!;
  };

  try {
    const searches = job.targets.map((target, i) =>
      new Search(target.name, job.guesses[i], job, widgets)
    );
    const stepBudget = job.warmupMs + job.measureMs * 1.2 + job.drainMs + 5000;
    while (searches.some((s) => !s.done)) {
      for (const [i, target] of job.targets.entries()) {
        const search = searches[i];
        if (search.done) continue;
        if (Date.now() + stepBudget > deadline) {
          search.done = true;
          progress(`  ${target.name}: out of time, search stopped here`);
        } else search.record(await measure(target, search.next, job.measureMs));
      }
    }
    const result: FanoutResult = {
      kind: "fanout",
      searches: searches.map((s) => s.result()),
    };

    const rate = fixedRate(job, result.searches);
    if (rate > 0) {
      const steps: StepResult[] = [];
      const ms = job.fixedMs ?? job.measureMs;
      // Alternating, so a busy spell of the machine falls on both.
      for (let i = 0; i < (job.fixedTries ?? 1); i++) {
        const order = i % 2 === 0 ? job.targets : [...job.targets].reverse();
        for (const target of order) {
          if (Date.now() + stepBudget > deadline) break;
          steps.push(await measure(target, rate, ms));
        }
      }
      result.fixed = { framesPerSecond: rate, steps };
    }
    return result;
  } finally {
    for (const fleet of fleets.values()) fleet.close();
  }
}

/** Highest passing rate and lowest failing one, narrowed step by step. */
class Search {
  readonly #target: string;
  readonly #job: FanoutJob;
  readonly #minRate: number;
  readonly #steps: StepResult[] = [];
  #lo = 0;
  #hi = Infinity;
  #best: StepResult | null = null;
  next: number;
  done = false;

  constructor(target: string, guess: number, job: FanoutJob, widgets: number) {
    this.#target = target;
    this.#job = job;
    // Below a few payloads a second per app there is nothing to measure.
    this.#minRate = widgets * 2;
    this.next = Math.max(guess, this.#minRate);
  }

  record(step: StepResult): void {
    this.#steps.push(step);
    const rate = step.framesPerSecond;
    if (step.pass && rate > this.#lo) {
      this.#lo = rate;
      this.#best = step;
    }
    if (!step.pass) this.#hi = Math.min(this.#hi, rate);

    const factor = this.#job.stepFactor;
    if (this.#hi === Infinity) this.next = this.#lo * factor;
    else if (this.#lo === 0) this.next = this.#hi / factor;
    else this.next = Math.sqrt(this.#lo * this.#hi);

    const narrow = this.#lo > 0 && this.#hi / this.#lo <= this.#job.precision;
    const hopeless = this.#lo === 0 && this.next < this.#minRate;
    if (narrow || hopeless || this.#steps.length >= this.#job.maxSteps) {
      this.done = true;
    }
  }

  result(): SearchResult {
    return {
      target: this.#target,
      maxFramesPerSecond: this.#lo,
      best: this.#best,
      steps: this.#steps,
    };
  }
}

function fixedRate(job: FanoutJob, searches: SearchResult[]): number {
  if (job.fixedRate === undefined) return 0;
  if (job.fixedRate !== "auto") return job.fixedRate;
  const lowest = Math.min(...searches.map((s) => s.maxFramesPerSecond));
  return Number.isFinite(lowest) ? Math.round(lowest / 2) : 0;
}

/** Offer `framesPerSecond` for one step and report what arrived. */
async function runStep(
  fleet: Fleet,
  target: Target,
  framesPerSecond: number,
  job: FanoutJob,
): Promise<StepResult> {
  const perApp = framesPerSecond / fleet.widgets.length;
  const warmup = Math.round(perApp * job.warmupMs / 1000);
  const total = Math.max(
    warmup + MIN_PAYLOADS,
    Math.round(perApp * (job.warmupMs + job.measureMs) / 1000),
  );
  const plannedMs = (total / perApp) * 1000;
  fleet.histogram.reset();
  fleet.beginStep(warmup);
  const meter = new CpuMeter(["self", target.pid]);

  const start = performance.now();
  let sent = 0;
  let behind = false;
  while (sent < total) {
    const elapsed = performance.now() - start;
    if (elapsed > plannedMs * 1.05 + 50) {
      behind = true;
      break;
    }
    const due = Math.min(total, Math.floor((elapsed * perApp) / 1000) + 1);
    if (due > sent) {
      const written = await within(
        Promise.all(fleet.sendUpTo(due)),
        plannedMs + 1000,
      );
      if (!written) {
        // The relay stopped reading; these connections are spoiled.
        fleet.close();
        behind = true;
        break;
      }
      sent = due;
    }
    // Sleep until the next payload is due rather than polling.
    const nextDue = (sent * 1000) / perApp - elapsed;
    if (sent < total) await delay(Math.max(1, Math.min(50, nextDue)));
  }

  const expected = sent * fleet.widgets.length;
  const drainEnd = performance.now() + job.drainMs;
  while (fleet.received < expected && performance.now() < drainEnd) {
    await delay(5);
  }
  const [loadCpu, serverCpu] = meter.read();
  const [loadWait, serverWait] = meter.waited();
  const stolen = meter.stolen();

  let lost = 0;
  let disordered = 0;
  for (const w of fleet.widgets) {
    lost += Math.max(0, sent - w.received);
    disordered += w.disordered;
  }
  const p99Ms = fleet.histogram.quantileMs(0.99);
  const reason = behind
    ? NOT_OFFERED
    : lost > 0
    ? `${lost} frames not delivered within ${job.drainMs} ms`
    : disordered > 0
    ? `${disordered} frames out of order`
    : !(p99Ms < job.p99LimitMs)
    ? `p99 ${p99Ms.toFixed(1)} ms over ${job.p99LimitMs} ms`
    : undefined;

  return {
    target: target.name,
    framesPerSecond: Math.round(framesPerSecond),
    delivered: fleet.received,
    lost,
    disordered,
    p50Ms: fleet.histogram.quantileMs(0.5),
    p99Ms,
    maxMs: fleet.histogram.maxUs / 1000,
    loadCpu,
    serverCpu,
    loadWait,
    serverWait,
    stolen,
    disturbed: Math.max(loadWait, serverWait, stolen) > DISTURBED_PCT,
    pass: reason === undefined,
    ...(reason ? { reason } : {}),
  };
}

/** Whether a failed step missed by so much that trying again is pointless. */
function farOff(step: StepResult, job: FanoutJob): boolean {
  return step.lost > 0 || step.disordered > 0 ||
    step.reason === NOT_OFFERED ||
    !(step.p99Ms <= FAR_OFF * job.p99LimitMs);
}

/** Whether `promise` settles within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** After a failed step: wait until late frames stop arriving (≤ 5 s). */
async function quiet(fleet: Fleet): Promise<void> {
  const end = performance.now() + 5000;
  let last = -1;
  while (performance.now() < end && fleet.received !== last) {
    last = fleet.received;
    await delay(250);
  }
}

/** Wait (≤ 3 s) until the servers are idle, so steps do not overlap. */
async function settle(pids: number[]): Promise<void> {
  const end = performance.now() + 3000;
  while (performance.now() < end) {
    const meter = new CpuMeter(pids);
    await delay(150);
    if (meter.read().every((cpu) => !(cpu > 15))) return;
  }
}

function describe(step: StepResult, widgets: number): string {
  const rate = step.framesPerSecond.toLocaleString("en-US").padStart(9);
  const verdict = step.pass ? "ok  " : "FAIL";
  const p99 = Number.isFinite(step.p99Ms) ? step.p99Ms.toFixed(1) : "-";
  return `  ${step.target.padEnd(8)} ${
    String(widgets).padStart(5)
  } widgets ${rate} frames/s  ${verdict} p99 ${p99.padStart(6)} ms  ` +
    `load cpu ${step.loadCpu.toFixed(0).padStart(3)}%  server cpu ${
      step.serverCpu.toFixed(0).padStart(3)
    }%${step.disturbed ? `  disturbed (${disturbance(step)})` : ""}${
      step.reason ? `  (${step.reason})` : ""
    }`;
}

/** What else took the CPUs, for a disturbed step. */
export function disturbance(
  step: { loadWait: number; serverWait: number; stolen: number },
): string {
  return `waits: load ${step.loadWait.toFixed(0)}%, relay ${
    step.serverWait.toFixed(0)
  }%, stolen ${step.stolen.toFixed(0)}%`;
}
