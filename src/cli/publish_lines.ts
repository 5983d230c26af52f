/**
 * The publishing loop of the `publish` tool: JSON lines in, payloads out,
 * every refused line reported with its number.
 *
 * To tell which line the relay refused, every payload is followed by a
 * ping (through {@linkcode Provider.flush}). The relay answers frames in
 * order, so an error frame that arrives before the pong of line N is about
 * line N. The pings are pipelined, up to {@linkcode WINDOW} lines at once,
 * which also bounds the memory used when input comes faster than the relay
 * takes it.
 *
 * @module
 */

import type { Provider } from "../client/provider.ts";

/** Lines sent but not yet acknowledged by the relay, at most. */
export const WINDOW = 256;

/** How a run went. */
export interface Tally {
  /** Lines the relay acknowledged without an error. */
  published: number;
  /** Lines refused, here (not JSON) or by the relay. */
  rejected: number;
  /** Lines sent but not acknowledged: the connection broke first. */
  unconfirmed: number;
}

/** Where the loop reports a refused or unconfirmed line. */
export type Report = (line: number, why: string) => void;

/** Thrown when the relay did not acknowledge a line in time. */
export class AckTimeout extends Error {
  constructor(ms: number) {
    super(`the relay acknowledged nothing for ${ms / 1000} s`);
    this.name = "AckTimeout";
  }
}

/**
 * Publish every non-blank line of `lines` through `provider` and wait for
 * the relay to acknowledge them all. Stops reading early only if the
 * provider closes for good.
 *
 * @throws {AckTimeout} when an acknowledgement takes longer than `ackMs`.
 */
export async function publishLines(
  provider: Provider,
  lines: AsyncIterable<string>,
  report: Report,
  ackMs: number,
): Promise<Tally> {
  const tally: Tally = { published: 0, rejected: 0, unconfirmed: 0 };
  const unacked: number[] = [];
  const refused = new Set<number>();
  const refuse = (line: number, why: string) => {
    refused.add(line);
    tally.rejected++;
    report(line, why);
  };
  const off = provider.on("error", (error) => {
    if (unacked.length > 0) {
      refuse(unacked[0], `${error.code}: ${error.message}`);
    }
  });

  const inflight: Promise<void>[] = [];
  const acknowledged = () => {
    const line = unacked.shift()!;
    if (!refused.has(line)) tally.published++;
  };
  const lost = (error: Error) => {
    const line = unacked.shift()!;
    if (refused.has(line)) return;
    tally.unconfirmed++;
    report(line, `not confirmed: ${error.message}`);
  };

  try {
    let number = 0;
    for await (const text of lines) {
      number++;
      if (text.trim() === "") continue;
      const value = parseLine(text);
      if (!value.ok) {
        refuse(number, value.why);
        continue;
      }
      if (provider.state === "closed") break;

      provider.publish(value.value);
      unacked.push(number);
      inflight.push(provider.flush().then(acknowledged, lost));
      if (inflight.length >= WINDOW) await within(inflight.shift()!, ackMs);
    }
    await within(Promise.all(inflight), ackMs);
    return tally;
  } finally {
    off();
  }
}

type Parsed = { ok: true; value: unknown } | { ok: false; why: string };

function parseLine(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, why: `not valid JSON: ${(error as Error).message}` };
  }
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AckTimeout(ms)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
