/**
 * What the bench runner asks of the load generator, and what it answers:
 * one job per load generator process, as JSON in its first argument, and
 * one JSON result line on its stdout.
 *
 * @module
 */

/** A relay under test, already listening on loopback. */
export interface Target {
  /** `cupd` or `baseline`. */
  name: string;
  port: number;
  /** Process id, to read its CPU time and memory from `/proc`. */
  pid: number;
}

/** Fan-out: providers publish at an offered rate to their widgets. */
export interface FanoutJob {
  kind: "fanout";
  /** Searched side by side, one step of each in turn. */
  targets: Target[];
  apps: number;
  widgetsPerApp: number;
  /** Bytes of padding in each payload. */
  padBytes: number;
  /** Payloads sent before latencies count, so the JIT has warmed up. */
  warmupMs: number;
  /** Time the offered rate is held for one step. */
  measureMs: number;
  /** Longest wait for the last frames after sending stops. */
  drainMs: number;
  /** Starting rate of each target's search, in delivered frames/s. */
  guesses: number[];
  /** Factor between steps until a step fails (then bisect). */
  stepFactor: number;
  /** Stop once the highest pass and lowest fail are this close (ratio). */
  precision: number;
  maxSteps: number;
  /**
   * Tries of a failing rate while its failures were disturbed (see
   * `StepResult`); an undisturbed failure gets 2, or 1 when it missed by far.
   */
  attempts: number;
  /** Pass means no loss and a p99 latency under this. */
  p99LimitMs: number;
  /**
   * After the search, hold this rate (frames/s) on every target to compare
   * latencies; "auto" takes half the lowest maximum found; omit to skip.
   */
  fixedRate?: number | "auto";
  fixedMs?: number;
  /**
   * Steps of each target at the fixed rate, alternating targets; the
   * runner takes each target's median. 1 when omitted.
   */
  fixedTries?: number;
  /** Wall-clock budget for the whole job. */
  timeLimitMs: number;
}

/** One step: one target at one offered rate. */
export interface StepResult {
  target: string;
  /** Offered rate: payloads/s per app times widgets. */
  framesPerSecond: number;
  /** Frames received in the step (warm-up included). */
  delivered: number;
  /** Frames sent but never received before the drain ended. */
  lost: number;
  /** Frames received out of order. */
  disordered: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU of the load generator over the step, percent of one core. */
  loadCpu: number;
  /** CPU of the server over the step, percent of one core. */
  serverCpu: number;
  /** Percent of the step the load generator's main thread waited for CPU. */
  loadWait: number;
  /** Percent of the step the relay's main thread waited for CPU. */
  serverWait: number;
  /** Percent of a core the hypervisor took during the step. */
  stolen: number;
  /** Whether other programs took enough CPU to spoil the step. */
  disturbed: boolean;
  pass: boolean;
  /** Why it failed, when it did. */
  reason?: string;
}

/** Outcome of one target's search. */
export interface SearchResult {
  target: string;
  /** Highest offered rate that passed; 0 when none did. */
  maxFramesPerSecond: number;
  /** The step that set it. */
  best: StepResult | null;
  steps: StepResult[];
}

export interface FanoutResult {
  kind: "fanout";
  searches: SearchResult[];
  fixed?: { framesPerSecond: number; steps: StepResult[] };
}

/** Connection rate: handshakes completed, welcome included, per second. */
export interface ConnectJob {
  kind: "connect";
  targets: Target[];
  /** Connections attempted per target (fewer if time runs out). */
  count: number;
  /** Handshakes in flight at once. */
  concurrency: number;
  /** Time limit per target and try. */
  timeLimitMs: number;
  /** Tries per target while the measurement is disturbed. */
  attempts: number;
}

export interface ConnectTargetResult {
  target: string;
  connections: number;
  failures: number;
  elapsedMs: number;
  perSecond: number;
  /** Relay CPU time per accepted connection. */
  cpuPerConnectionUs: number;
  loadCpu: number;
  serverCpu: number;
  loadWait: number;
  serverWait: number;
  stolen: number;
  disturbed: boolean;
}

export interface ConnectResult {
  kind: "connect";
  results: ConnectTargetResult[];
}

/** Idle memory: many subscribed widgets that stay quiet. */
export interface IdleJob {
  kind: "idle";
  target: Target;
  count: number;
  concurrency: number;
  /** Widgets are spread over this many apps. */
  apps: number;
  /** Time left for the server to settle before RSS is read again. */
  settleMs: number;
  timeLimitMs: number;
}

export interface IdleResult {
  kind: "idle";
  target: string;
  connections: number;
  failures: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  perConnectionKiB: number;
  loadCpu: number;
}

export type Job = FanoutJob | ConnectJob | IdleJob;
export type JobResult = FanoutResult | ConnectResult | IdleResult;
