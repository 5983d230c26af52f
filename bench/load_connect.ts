/**
 * Connection scenarios in the load generator: how fast a relay accepts
 * connections (upgrade done and welcome received), and how much memory it
 * holds per idle subscribed widget.
 *
 * @module
 */

import type {
  ConnectJob,
  ConnectResult,
  ConnectTargetResult,
  IdleJob,
  IdleResult,
  Target,
} from "./jobs.ts";
import { expectType, inPool } from "./fleet.ts";
import { disturbance, DISTURBED_PCT } from "./load_fanout.ts";
import { RawSocket } from "./raw_socket.ts";
import { CpuMeter, rssKiB } from "./stats.ts";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Longest wait for one handshake before it counts as failed. */
const HANDSHAKE_MS = 5000;

/** Measure each target's connection rate, one after the other. */
export async function runConnect(
  job: ConnectJob,
  progress: (line: string) => void,
): Promise<ConnectResult> {
  const results: ConnectTargetResult[] = [];
  for (const target of job.targets) {
    // Tried again while other programs spoil the measurement; the best of
    // the tries is kept.
    let result: ConnectTargetResult | undefined;
    for (let attempt = 1; attempt <= job.attempts; attempt++) {
      await delay(500);
      const tried = await connectRate(target, job);
      if (!result || tried.perSecond > result.perSecond) result = tried;
      if (!tried.disturbed) break;
      if (attempt < job.attempts) {
        progress(`  ${target.name.padEnd(8)} disturbed, again`);
      }
    }
    if (!result) continue;
    progress(
      `  ${target.name.padEnd(8)} ${
        Math.round(result.perSecond).toLocaleString("en-US").padStart(7)
      } connections/s (${result.connections} in ${
        Math.round(result.elapsedMs)
      } ms, ${result.failures} failed)  load cpu ${
        result.loadCpu.toFixed(0)
      }%  server cpu ${result.serverCpu.toFixed(0)}% (${
        result.cpuPerConnectionUs.toFixed(0)
      } µs each)${
        result.disturbed ? `  disturbed (${disturbance(result)})` : ""
      }`,
    );
    results.push(result);
  }
  return { kind: "connect", results };
}

async function connectRate(
  target: Target,
  job: ConnectJob,
): Promise<ConnectTargetResult> {
  const deadline = Date.now() + job.timeLimitMs;
  const meter = new CpuMeter(["self", target.pid]);
  const start = performance.now();
  let connections = 0;
  let failures = 0;
  let next = 0;

  const worker = async () => {
    while (next < job.count && Date.now() < deadline) {
      next++;
      let socket: RawSocket | undefined;
      try {
        socket = await RawSocket.connect(target.port, 512);
        await socket.nextText(HANDSHAKE_MS);
        connections++;
      } catch {
        failures++;
      } finally {
        socket?.close();
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));

  const elapsedMs = performance.now() - start;
  const [loadCpu, serverCpu] = meter.read();
  const [loadWait, serverWait] = meter.waited();
  const stolen = meter.stolen();
  return {
    target: target.name,
    connections,
    failures,
    elapsedMs,
    perSecond: connections / (elapsedMs / 1000),
    cpuPerConnectionUs: (serverCpu / 100) * elapsedMs * 1000 / connections,
    loadCpu,
    serverCpu,
    loadWait,
    serverWait,
    stolen,
    disturbed: Math.max(loadWait, serverWait, stolen) > DISTURBED_PCT,
  };
}

/** Widgets opened and closed first, so one-time costs are paid up front. */
const WARMUP_WIDGETS = 200;

/** RSS growth per idle subscribed widget. */
export async function runIdle(
  job: IdleJob,
  progress: (line: string) => void,
): Promise<IdleResult> {
  const deadline = Date.now() + job.timeLimitMs;
  const { target } = job;
  const sockets: RawSocket[] = [];
  let failures = 0;
  const open = (count: number, until: number) =>
    inPool(count, job.concurrency, until, async (i) => {
      try {
        sockets.push(await idleWidget(target.port, `idle-${i % job.apps}`));
      } catch {
        failures++;
      }
    });

  try {
    await open(WARMUP_WIDGETS, deadline);
    for (const socket of sockets.splice(0)) socket.close();
    failures = 0;
    await delay(1000);
    const rssBeforeKiB = rssKiB(target.pid);

    const meter = new CpuMeter(["self"]);
    // Past the deadline, measure with the widgets that did connect.
    await open(job.count, deadline - job.settleMs).catch(() => {});
    const [loadCpu] = meter.read();
    await delay(job.settleMs);
    const rssAfterKiB = rssKiB(target.pid);
    const connections = sockets.filter((s) => !s.closed).length;
    const perConnectionKiB = (rssAfterKiB - rssBeforeKiB) / connections;

    progress(
      `  ${target.name.padEnd(8)} ${connections} idle widgets: RSS ${
        (rssBeforeKiB / 1024).toFixed(1)
      } -> ${(rssAfterKiB / 1024).toFixed(1)} MiB, ${
        perConnectionKiB.toFixed(2)
      } KiB each (${failures} failed)`,
    );
    return {
      kind: "idle",
      target: target.name,
      connections,
      failures,
      rssBeforeKiB,
      rssAfterKiB,
      perConnectionKiB,
      loadCpu,
    };
  } finally {
    for (const socket of sockets) socket.close();
  }
}

async function idleWidget(port: number, name: string): Promise<RawSocket> {
  const socket = await RawSocket.connect(port, 1024);
  try {
    const deadline = Date.now() + HANDSHAKE_MS * 2;
    await expectType(socket, "welcome", deadline);
    await socket.send(JSON.stringify({ type: "subscribe", name }));
    await expectType(socket, "subscribed", deadline);
    // Keep reading so server pings are answered and the socket stays up.
    socket.run();
    return socket;
  } catch (error) {
    socket.close();
    throw error;
  }
}
