/**
 * The figures the bench reports, their goals, and the table it prints.
 *
 * @module
 */

import { median } from "./stats.ts";

/** One reported figure, gathered over rounds for both relays. */
export interface Metric {
  label: string;
  unit: string;
  /** Whether a larger value is better (rates) or worse (latency, memory). */
  higherIsBetter: boolean;
  /** Goal on cupd / baseline, if there is one. */
  goal?: number;
  decimals: number;
  cupd: number[];
  baseline: number[];
  /** Load generator CPU (% of its core) while each value was measured. */
  loadCpu: { cupd: number[]; baseline: number[] };
  /** Relay CPU (% of its core) while each value was measured. */
  relayCpu: { cupd: number[]; baseline: number[] };
}

/** A new metric with no values yet. */
export function metric(
  label: string,
  unit: string,
  options: { higherIsBetter: boolean; goal?: number; decimals?: number },
): Metric {
  return {
    label,
    unit,
    higherIsBetter: options.higherIsBetter,
    goal: options.goal,
    decimals: options.decimals ?? 0,
    cupd: [],
    baseline: [],
    loadCpu: { cupd: [], baseline: [] },
    relayCpu: { cupd: [], baseline: [] },
  };
}

/** Record the values of one round (NaN when a phase failed). */
export function record(
  m: Metric,
  relay: "cupd" | "baseline",
  value: number,
  cpu: { load: number; relay: number },
): void {
  m[relay].push(value);
  m.loadCpu[relay].push(cpu.load);
  m.relayCpu[relay].push(cpu.relay);
}

/**
 * The ratio cupd / baseline: the median of the per-round ratios, since
 * each round measures both relays side by side under the same conditions.
 */
export function ratio(m: Metric): number {
  const ratios = m.cupd.map((value, i) => value / m.baseline[i]);
  return median(ratios.filter(Number.isFinite));
}

/** Whether the ratio meets the goal; undefined when there is none. */
export function met(m: Metric): boolean | undefined {
  if (m.goal === undefined) return undefined;
  const r = ratio(m);
  if (!Number.isFinite(r)) return false;
  return m.higherIsBetter ? r >= m.goal : r <= m.goal;
}

function format(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return "n/a";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

function cpu(values: number[]): string {
  const m = median(values);
  return Number.isFinite(m) ? `${m.toFixed(0)}%` : "n/a";
}

/** The results as a Markdown table, aligned for a terminal. */
export function table(metrics: Metric[]): string {
  const header = [
    "figure",
    "cupd",
    "baseline",
    "ratio",
    "goal",
    "met",
    "relay CPU",
    "load gen CPU",
  ];
  const rows = metrics.map((m) => {
    const goal = m.goal === undefined
      ? "-"
      : `${m.higherIsBetter ? ">=" : "<="} ${m.goal.toFixed(2)}`;
    const ok = met(m);
    return [
      m.label,
      `${format(median(m.cupd), m.decimals)} ${m.unit}`,
      `${format(median(m.baseline), m.decimals)} ${m.unit}`,
      format(ratio(m), 2),
      goal,
      ok === undefined ? "-" : ok ? "yes" : "NO",
      `${cpu(m.relayCpu.cupd)} / ${cpu(m.relayCpu.baseline)}`,
      `${cpu(m.loadCpu.cupd)} / ${cpu(m.loadCpu.baseline)}`,
    ];
  });
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => row[i].length))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [
    line(header),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}

/** Each round's values, to judge the spread behind a median. */
export function rounds(metrics: Metric[]): string {
  return metrics.map((m) => {
    const list = (values: number[]) =>
      values.map((v) => format(v, m.decimals)).join(", ");
    return `  ${m.label}: cupd [${list(m.cupd)}], baseline [${
      list(m.baseline)
    }]`;
  }).join("\n");
}

/** Figures measured while the load generator was near its own limit. */
export function saturatedLoad(metrics: Metric[], limit = 90): string[] {
  return metrics.filter((m) =>
    [...m.loadCpu.cupd, ...m.loadCpu.baseline].some((c) => c > limit)
  ).map((m) => m.label);
}
