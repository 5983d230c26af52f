/**
 * `deno task bench [--quick] [--json <file>]`: cupd against a raw Deno
 * relay (`baseline_relay.ts`), side by side in the same run.
 *
 * Each relay runs as its own process pinned to one core; the load
 * generator (`load.ts`) runs pinned to another. A round measures both
 * relays, interleaved step by step; the full mode runs three rounds and
 * reports medians, the quick mode one round with shorter steps. Every
 * phase has a time limit and every child process is killed on the way
 * out, whatever happens. `--only connect` measures the connection rate
 * alone (no fan-out, no idle memory), for quick work on the per-connection
 * path.
 *
 * @module
 */

import type {
  ConnectJob,
  ConnectResult,
  FanoutJob,
  FanoutResult,
  IdleJob,
  IdleResult,
  Target,
} from "./jobs.ts";
import {
  fileLimit,
  hasTaskset,
  killAll,
  Relay,
  type RelayKind,
  runLoad,
} from "./processes.ts";
import {
  met,
  type Metric,
  metric,
  record,
  rounds,
  saturatedLoad,
  table,
} from "./report.ts";
import { median, readProc } from "./stats.ts";

/** How long and how precisely each mode measures. */
interface Mode {
  name: string;
  rounds: number;
  warmupMs: number;
  measureMs: number;
  drainMs: number;
  precision: number;
  maxSteps: number;
  /** Tries of a failing rate before it counts as failed. */
  attempts: number;
  fixedMs: number;
  /** Steps of each relay at the fixed rate, alternating. */
  fixedTries: number;
  idleConnections: number;
  idleSettleMs: number;
  connectCount: number;
  connectLimitMs: number;
  /** The whole run stops starting phases past this. */
  budgetMs: number;
}

const FULL: Mode = {
  name: "full",
  rounds: 3,
  warmupMs: 500,
  measureMs: 1500,
  drainMs: 1500,
  precision: 1.04,
  maxSteps: 10,
  attempts: 4,
  fixedMs: 3000,
  fixedTries: 3,
  idleConnections: 10_000,
  idleSettleMs: 2000,
  connectCount: 10_000,
  connectLimitMs: 4000,
  budgetMs: 30 * 60_000,
};

const QUICK: Mode = {
  name: "quick",
  rounds: 1,
  warmupMs: 300,
  measureMs: 1000,
  drainMs: 1000,
  precision: 1.12,
  maxSteps: 7,
  attempts: 3,
  fixedMs: 1500,
  fixedTries: 1,
  idleConnections: 10_000,
  idleSettleMs: 1500,
  connectCount: 5000,
  connectLimitMs: 2000,
  budgetMs: 5 * 60_000,
};

/** A fan-out shape: apps, widgets each, and the figures it feeds. */
interface Shape {
  apps: number;
  widgetsPerApp: number;
  max: Metric;
  /** Relay CPU per delivered frame at the fixed rate. */
  cost: Metric;
  /** p99 latency at the fixed rate, where it has a goal. */
  latency?: Metric;
  /**
   * Half the lower of the two maxima of the first round, then held: a rate
   * both relays sustain, to compare latency and CPU at equal work.
   */
  fixedRate: number | "auto";
}

function cost(widgets: string): Metric {
  return metric(`relay CPU per frame at the fixed rate, ${widgets}`, "µs", {
    higherIsBetter: false,
    decimals: 2,
  });
}

const P99_LIMIT_MS = 50;
const FIRST_GUESS = 40_000;

const shapes: Shape[] = [
  {
    apps: 1,
    widgetsPerApp: 100,
    max: metric("fan-out max, 100 widgets", "frames/s", {
      higherIsBetter: true,
      goal: 0.9,
    }),
    cost: cost("100 widgets"),
    fixedRate: "auto",
  },
  {
    apps: 1,
    widgetsPerApp: 1000,
    max: metric("fan-out max, 1,000 widgets", "frames/s", {
      higherIsBetter: true,
      goal: 0.9,
    }),
    latency: metric("p99 latency at the fixed rate, 1,000 widgets", "ms", {
      higherIsBetter: false,
      goal: 1.2,
      decimals: 2,
    }),
    cost: cost("1,000 widgets"),
    fixedRate: "auto",
  },
  {
    apps: 10,
    widgetsPerApp: 100,
    max: metric("fan-out max, 10 apps x 100 widgets", "frames/s", {
      higherIsBetter: true,
    }),
    cost: cost("10 x 100 widgets"),
    fixedRate: "auto",
  },
];

const idle = metric("idle memory per connection", "KiB", {
  higherIsBetter: false,
  goal: 1.15,
  decimals: 2,
});
const connectRate = metric("connections/s (welcome received)", "conn/s", {
  higherIsBetter: true,
  goal: 0.8,
});
const connectCost = metric("relay CPU per connection", "µs", {
  higherIsBetter: false,
  decimals: 0,
});

const encoder = new TextEncoder();

function say(line = ""): void {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}

function print(text: string): void {
  const bytes = encoder.encode(text + "\n");
  let written = 0;
  while (written < bytes.length) {
    written += Deno.stdout.writeSync(bytes.subarray(written));
  }
}

/** Start the relays in `order`, run `body`, stop them whatever happens. */
async function withRelays<T>(
  order: RelayKind[],
  cpu: string | null,
  body: (targets: Target[]) => Promise<T>,
): Promise<T> {
  const relays: Relay[] = [];
  try {
    for (const kind of order) relays.push(await Relay.start(kind, cpu));
    return await body(relays.map((r) => r.target));
  } finally {
    await Promise.all(relays.map((r) => r.stop()));
  }
}

/** Run `phase`, reporting instead of throwing when it fails. */
async function attempt(name: string, phase: () => Promise<void>) {
  try {
    await phase();
  } catch (error) {
    say(`  ${name} failed: ${error instanceof Error ? error.message : error}`);
  }
}

async function main(): Promise<number> {
  const args = Deno.args;
  const mode = args.includes("--quick") ? QUICK : FULL;
  const jsonAt = args.indexOf("--json");
  const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
  const onlyAt = args.indexOf("--only");
  const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
  if (only !== undefined && only !== "connect") {
    say(`--only takes "connect", not ${JSON.stringify(only)}`);
    return 1;
  }
  const connectOnly = only === "connect";

  if (!(await hasTaskset())) {
    say("taskset not found: install util-linux (apt-get install util-linux)");
    return 1;
  }
  const cores = navigator.hardwareConcurrency;
  const relayCpu = Deno.env.get("BENCH_RELAY_CPU") ??
    (cores >= 2 ? String(cores - 1) : null);
  const loadCpu = Deno.env.get("BENCH_LOAD_CPU") ?? (cores >= 2 ? "0" : null);
  const files = await fileLimit();
  const idleCount = Math.min(mode.idleConnections, Math.floor(files - 200));
  const started = Date.now();
  const overBudget = () => Date.now() - started > mode.budgetMs;

  say(
    `cupd bench, ${mode.name} mode: ${mode.rounds} round(s)${
      connectOnly ? ", connection rate only" : ""
    }`,
  );
  say(
    `relay on CPU ${relayCpu ?? "any"}, load generator on CPU ${
      loadCpu ?? "any"
    }`,
  );
  if (cores < 2) say("warning: one core only, relay and load share it");
  if (idleCount < mode.idleConnections) {
    say(`warning: open-file limit ${files}: ${idleCount} idle connections`);
  }

  for (let round = 1; round <= mode.rounds && !overBudget(); round++) {
    const order: RelayKind[] = round % 2 === 1
      ? ["cupd", "baseline"]
      : ["baseline", "cupd"];
    say(`\nround ${round}/${mode.rounds} (${order.join(" first, then ")})`);

    await attempt(
      "fan-out and connection rate",
      () =>
        withRelays(order, relayCpu, async (targets) => {
          for (const shape of shapes) {
            if (overBudget() || connectOnly) break;
            say(
              `fan-out: ${shape.apps} app(s) x ${shape.widgetsPerApp} widgets`,
            );
            await attempt("fan-out", async () => {
              const job = fanoutJob(mode, shape, targets, round);
              const result = await runLoad<FanoutResult>(
                job,
                loadCpu,
                job.timeLimitMs + 60_000,
              );
              recordFanout(shape, result);
              if (result.fixed) {
                shape.fixedRate = result.fixed.framesPerSecond;
              }
            });
          }
          if (overBudget()) return;
          say("connection rate");
          const job: ConnectJob = {
            kind: "connect",
            targets,
            count: mode.connectCount,
            concurrency: 100,
            timeLimitMs: mode.connectLimitMs,
            attempts: mode.attempts,
          };
          const result = await runLoad<ConnectResult>(
            job,
            loadCpu,
            (job.timeLimitMs + 5000) * targets.length * job.attempts + 60_000,
          );
          for (const r of result.results) {
            const cpu = { load: r.loadCpu, relay: r.serverCpu };
            record(connectRate, r.target as RelayKind, r.perSecond, cpu);
            record(
              connectCost,
              r.target as RelayKind,
              r.cpuPerConnectionUs,
              cpu,
            );
          }
        }),
    );

    if (connectOnly) continue;
    say(`idle memory: ${idleCount} subscribed widgets, a fresh relay each`);
    for (const kind of order) {
      if (overBudget()) break;
      await attempt(
        `idle memory (${kind})`,
        () =>
          withRelays([kind], relayCpu, async ([target]) => {
            const job: IdleJob = {
              kind: "idle",
              target,
              count: idleCount,
              concurrency: 100,
              apps: 10,
              settleMs: mode.idleSettleMs,
              timeLimitMs: 90_000,
            };
            const r = await runLoad<IdleResult>(job, loadCpu, 150_000);
            record(idle, kind, r.perConnectionKiB, {
              load: r.loadCpu,
              relay: NaN,
            });
          }),
      );
    }
  }

  const metrics = connectOnly ? [connectRate, connectCost] : [
    ...shapes.flatMap((s) => [s.max, ...(s.latency ? [s.latency] : [])]),
    idle,
    connectRate,
    ...shapes.map((s) => s.cost),
    connectCost,
  ];
  for (const m of metrics) pad(m, mode.rounds);
  print(summary(mode, metrics, relayCpu, loadCpu, idleCount));
  if (jsonFile) {
    const rates = shapes.map((s) => s.fixedRate);
    await Deno.writeTextFile(
      jsonFile,
      JSON.stringify({ mode: mode.name, fixedRates: rates, metrics }, null, 2),
    );
  }
  return 0;
}

function fanoutJob(
  mode: Mode,
  shape: Shape,
  targets: Target[],
  round: number,
): FanoutJob {
  // Later rounds start near the earlier results and step finely.
  const guess = (values: number[]) => {
    const m = median(values);
    return Number.isFinite(m) && m > 0 ? m : FIRST_GUESS;
  };
  const guesses = targets.map((t) =>
    guess(shape.max[t.name as RelayKind] ?? [])
  );
  const stepBudget = mode.warmupMs + mode.measureMs * 1.2 + mode.drainMs +
    5000;
  return {
    kind: "fanout",
    targets,
    apps: shape.apps,
    widgetsPerApp: shape.widgetsPerApp,
    padBytes: 32,
    warmupMs: mode.warmupMs,
    measureMs: mode.measureMs,
    drainMs: mode.drainMs,
    guesses,
    stepFactor: round === 1 ? 2 : 1.25,
    precision: mode.precision,
    maxSteps: mode.maxSteps,
    attempts: mode.attempts,
    p99LimitMs: P99_LIMIT_MS,
    fixedRate: shape.fixedRate,
    fixedMs: mode.fixedMs,
    fixedTries: mode.fixedTries,
    // Every search step may be tried twice; then the fixed-rate steps.
    timeLimitMs: stepBudget * (2 * mode.maxSteps + 1 + mode.fixedTries) *
        targets.length + 60_000,
  };
}

function recordFanout(shape: Shape, result: FanoutResult): void {
  for (const search of result.searches) {
    record(shape.max, search.target as RelayKind, search.maxFramesPerSecond, {
      load: search.best?.loadCpu ?? NaN,
      relay: search.best?.serverCpu ?? NaN,
    });
  }
  // One value per relay and round: the median of its fixed-rate steps.
  for (const relay of ["cupd", "baseline"] as const) {
    const steps = (result.fixed?.steps ?? []).filter((s) => s.target === relay);
    if (steps.length === 0) continue;
    const cpu = {
      load: median(steps.map((s) => s.loadCpu)),
      relay: median(steps.map((s) => s.serverCpu)),
    };
    // CPU seconds per frame, from the share of a core at a known rate.
    const us = median(
      steps.map((s) => (s.serverCpu / 100) * 1e6 / s.framesPerSecond),
    );
    record(shape.cost, relay, us, cpu);
    // A fixed-rate step that lost frames has no meaningful p99.
    if (shape.latency) {
      record(
        shape.latency,
        relay,
        median(steps.map((s) => s.lost === 0 ? s.p99Ms : NaN)),
        cpu,
      );
    }
  }
}

/** Fill rounds that did not run with NaN, so rounds line up. */
function pad(m: Metric, count: number): void {
  for (const relay of ["cupd", "baseline"] as const) {
    while (m[relay].length < count) {
      record(m, relay, NaN, { load: NaN, relay: NaN });
    }
  }
}

function summary(
  mode: Mode,
  metrics: Metric[],
  relayCpu: string | null,
  loadCpu: string | null,
  idleCount: number,
): string {
  const cpuName = readProc("cpuinfo")
    .match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown CPU";
  const rates = shapes.map((s) =>
    typeof s.fixedRate === "number"
      ? s.fixedRate.toLocaleString("en-US")
      : "n/a"
  ).join(" / ");
  const lines = [
    "",
    `cupd vs raw Deno relay (bench/baseline_relay.ts), ${mode.name} mode, ` +
    `${mode.rounds === 1 ? "1 round" : `medians of ${mode.rounds} rounds`}`,
    `machine: ${navigator.hardwareConcurrency} cores, ${cpuName}; ` +
    `Deno ${Deno.version.deno}; relay on CPU ${relayCpu ?? "any"}, ` +
    `load generator on CPU ${loadCpu ?? "any"}`,
    `fan-out max: highest offered rate with no loss and p99 < ${P99_LIMIT_MS} ms; ` +
    `fixed rates (frames/s, per shape): ${rates}; ` +
    `idle: ${idleCount.toLocaleString("en-US")} widgets`,
    "ratio = cupd / baseline, median of per-round ratios; " +
    "CPU columns: % of one core, cupd / baseline",
    "",
    table(metrics),
    "",
    "per round:",
    rounds(metrics),
  ];
  const saturated = saturatedLoad(metrics);
  if (saturated.length > 0) {
    lines.push(
      "",
      `note: the load generator was above 90% CPU for: ${
        saturated.join("; ")
      }. There the figure may be its limit, not the relay's.`,
    );
  }
  if (mode.rounds === 1) {
    lines.push(
      "",
      "quick mode: one round with coarse steps, so ratios are indicative; " +
        "the full mode (medians of 3) gives the figures to compare.",
    );
  }
  const missed = metrics.filter((m) => met(m) === false).map((m) => m.label);
  lines.push(
    "",
    missed.length ? `goals missed: ${missed.join("; ")}` : "all goals met",
  );
  return lines.join("\n");
}

if (import.meta.main) {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      killAll().finally(() => Deno.exit(130));
    });
  }
  let code = 1;
  try {
    code = await main();
  } finally {
    await killAll();
  }
  Deno.exit(code);
}
