/**
 * The connections of one fan-out target: a provider per app and its
 * widgets, each widget counting what it receives and timing it from the
 * timestamp inside the payload.
 *
 * Payloads are `{"t":<µs>,"n":<seq>,"p":"<pad>"}`: `t` is the load
 * generator's clock when the frame was written, `n` counts per app across
 * steps, so frames left over from an earlier step are recognised and
 * ignored.
 *
 * @module
 */

import { encodeFrames, RawSocket } from "./raw_socket.ts";
import type { Histogram } from "./stats.ts";

/** Per-app state of the step being run. */
export interface AppState {
  name: string;
  provider: RawSocket;
  /** First sequence number of the current step. */
  firstN: number;
  /** First sequence number whose latency counts (after warm-up). */
  measuredN: number;
  /** Next sequence number to send. */
  nextN: number;
}

/** One widget's tally for the current step. */
export interface WidgetTally {
  app: AppState;
  socket: RawSocket;
  received: number;
  lastN: number;
  disordered: number;
}

/** Time on the load generator's clock, in whole microseconds. */
export function nowUs(): number {
  return Math.round(performance.now() * 1000);
}

/** Handshakes in flight at once while a fleet connects. */
const CONNECT_CONCURRENCY = 64;

/** Providers and widgets of one target. */
export class Fleet {
  readonly apps: AppState[] = [];
  readonly widgets: WidgetTally[] = [];
  /** Where every widget records latencies; swapped per step. */
  histogram: Histogram;
  #pad = "";

  private constructor(histogram: Histogram) {
    this.histogram = histogram;
  }

  /** Connect `apps` providers and `apps * widgetsPerApp` widgets. */
  static async open(
    port: number,
    options: {
      tag: string;
      apps: number;
      widgetsPerApp: number;
      padBytes: number;
      histogram: Histogram;
      timeoutMs: number;
    },
  ): Promise<Fleet> {
    const fleet = new Fleet(options.histogram);
    fleet.#pad = "x".repeat(options.padBytes);
    const deadline = Date.now() + options.timeoutMs;
    try {
      const names = Array.from(
        { length: options.apps },
        (_, i) => `${options.tag}-${i}`,
      );
      const jobs = names.flatMap((name) =>
        Array.from({ length: options.widgetsPerApp }, () => name)
      );
      const byName = new Map<string, AppState>();
      await inPool(jobs.length, CONNECT_CONCURRENCY, deadline, async (i) => {
        const socket = await widget(port, jobs[i], deadline);
        fleet.#track(socket, jobs[i], byName);
      });
      for (const name of names) {
        const provider = await providerOf(port, name, deadline);
        const app = byName.get(name);
        if (!app) throw new Error(`no widget subscribed to ${name}`);
        app.provider = provider;
        fleet.apps.push(app);
      }
      return fleet;
    } catch (error) {
      fleet.close();
      throw error;
    }
  }

  /** Whether any connection has ended. */
  get broken(): boolean {
    return this.apps.some((app) => app.provider.closed) ||
      this.widgets.some((w) => w.socket.closed);
  }

  /** Frames received in the current step, over all widgets. */
  get received(): number {
    let sum = 0;
    for (const w of this.widgets) sum += w.received;
    return sum;
  }

  /** Start a step: counts restart, warm-up of `warmup` payloads per app. */
  beginStep(warmup: number): void {
    for (const app of this.apps) {
      app.firstN = app.nextN;
      app.measuredN = app.nextN + warmup;
    }
    for (const w of this.widgets) {
      w.received = 0;
      w.lastN = -1;
      w.disordered = 0;
    }
  }

  /** Send payloads up to `count` per app since the step began. */
  sendUpTo(count: number): Promise<void>[] {
    const writes: Promise<void>[] = [];
    for (const app of this.apps) {
      const end = app.firstN + count;
      if (app.nextN >= end) continue;
      const t = nowUs();
      const texts: string[] = [];
      for (let n = app.nextN; n < end; n++) {
        texts.push(
          `{"type":"data","data":{"t":${t},"n":${n},"p":"${this.#pad}"}}`,
        );
      }
      app.nextN = end;
      writes.push(app.provider.sendBytes(encodeFrames(texts)));
    }
    return writes;
  }

  close(): void {
    for (const app of this.apps) app.provider.close();
    for (const w of this.widgets) w.socket.close();
  }

  #track(
    socket: RawSocket,
    name: string,
    byName: Map<string, AppState>,
  ): void {
    let app = byName.get(name);
    if (!app) {
      // The provider connects once every widget has subscribed.
      app = { name, provider: socket, firstN: 0, measuredN: 0, nextN: 0 };
      byName.set(name, app);
    }
    const tally: WidgetTally = {
      app,
      socket,
      received: 0,
      lastN: -1,
      disordered: 0,
    };
    this.widgets.push(tally);
    socket.onFrame = (_op, buf, start, end) => {
      if (!readStamp(buf, start, end)) return;
      const n = stampN;
      const state = tally.app;
      if (n < state.firstN) return;
      tally.received++;
      if (n <= tally.lastN) tally.disordered++;
      tally.lastN = n;
      if (n >= state.measuredN) this.histogram.record(nowUs() - stampT);
    };
    socket.run();
  }
}

async function widget(
  port: number,
  name: string,
  deadline: number,
): Promise<RawSocket> {
  const socket = await RawSocket.connect(port, 16384);
  try {
    await expectType(socket, "welcome", deadline);
    await socket.send(JSON.stringify({ type: "subscribe", name }));
    await expectType(socket, "subscribed", deadline);
    return socket;
  } catch (error) {
    socket.close();
    throw error;
  }
}

async function providerOf(
  port: number,
  name: string,
  deadline: number,
): Promise<RawSocket> {
  const socket = await RawSocket.connect(port, 4096);
  try {
    const welcome = await expectType(socket, "welcome", deadline);
    await socket.send(JSON.stringify({ type: "auth", uid: welcome.uid, name }));
    await expectType(socket, "authenticated", deadline);
    // Audience frames keep coming; read and drop them.
    socket.run();
    return socket;
  } catch (error) {
    socket.close();
    throw error;
  }
}

/** Read frames until one of `type`; others (audience) are skipped. */
export async function expectType(
  socket: RawSocket,
  type: string,
  deadline: number,
): Promise<Record<string, unknown>> {
  while (true) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out waiting for ${type}`);
    const frame = JSON.parse(await socket.nextText(left));
    if (frame.type === type) return frame;
    if (frame.type === "error") {
      throw new Error(`relay refused: ${frame.code} ${frame.message}`);
    }
  }
}

/**
 * Run `task(0..count-1)` with at most `concurrency` at once; stops starting
 * new ones past `deadline` and rethrows the first failure.
 */
export async function inPool(
  count: number,
  concurrency: number,
  deadline: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      if (Date.now() > deadline) throw new Error("timed out connecting");
      await task(next++);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, worker),
  );
}

let stampT = 0;
let stampN = 0;

/**
 * Find `{"t":T,"n":N` in a frame and leave T and N in `stampT`/`stampN`.
 * Looking for the payload rather than a fixed offset keeps working if the
 * relay adds fields to its data frames.
 */
function readStamp(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start + 1; i < end - 12; i++) {
    if (
      buf[i] !== 0x7b || buf[i + 1] !== 0x22 || buf[i + 2] !== 0x74 ||
      buf[i + 3] !== 0x22 || buf[i + 4] !== 0x3a
    ) continue;
    let j = i + 5;
    let t = 0;
    while (j < end && buf[j] >= 48 && buf[j] <= 57) t = t * 10 + buf[j++] - 48;
    if (
      buf[j] !== 0x2c || buf[j + 1] !== 0x22 || buf[j + 2] !== 0x6e ||
      buf[j + 3] !== 0x22 || buf[j + 4] !== 0x3a
    ) return false;
    j += 5;
    let n = 0;
    while (j < end && buf[j] >= 48 && buf[j] <= 57) n = n * 10 + buf[j++] - 48;
    stampT = t;
    stampN = n;
    return true;
  }
  return false;
}
