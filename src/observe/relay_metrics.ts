/**
 * The metrics of one isolate's relay, served at `GET /metrics`.
 *
 * Every field is a plain {@linkcode Counter} (or a family of them) created
 * once, so the socket glue and the hub count with one addition and never
 * build a label string on the path of a frame. The README lists each
 * metric and what it counts.
 *
 * @module
 */

import { Counter, CounterFamily, Registry } from "./metrics.ts";

/** Roles a socket is counted under by `cupd_connections`. */
export type Role = "new" | "provider" | "widget";

/** Counters of one relay and the registry that renders them. */
export class RelayMetrics {
  readonly registry: Registry = new Registry();
  /** Open sockets by role; the glue moves a socket between roles. */
  readonly roles: Record<Role, number> = { new: 0, provider: 0, widget: 0 };

  readonly opened: Counter;
  readonly refused: CounterFamily;
  readonly textIn: Counter;
  readonly binaryIn: Counter;
  readonly bytesIn: Counter;
  readonly framesOut: Counter;
  readonly bytesOut: Counter;
  readonly published: Counter;
  readonly httpPublished: Counter;
  readonly delivered: Counter;
  readonly drops: CounterFamily;
  readonly closes: CounterFamily;
  readonly serverCloses: CounterFamily;
  readonly errors: CounterFamily;
  readonly authFailures: CounterFamily;
  readonly busIn: Counter;
  readonly busOut: Counter;
  readonly faults: CounterFamily;
  readonly lastValueWrites: Counter;
  readonly lastValueWriteFailures: Counter;
  readonly lastValueReads: Counter;
  readonly lastValueReadFailures: Counter;

  constructor() {
    const r = this.registry;
    r.gauges(
      "cupd_connections",
      "Open WebSocket connections by role (new: no role yet)",
      "role",
      () => Object.entries(this.roles),
    );
    this.opened = r.counter(
      "cupd_connections_opened_total",
      "WebSocket connections accepted",
    );
    this.refused = r.family(
      "cupd_connections_refused_total",
      "WebSocket upgrades refused, by limit",
      "reason",
    );
    this.textIn = r.counter("cupd_frames_in_total", "Text frames received");
    this.binaryIn = r.counter(
      "cupd_binary_frames_in_total",
      "Binary frames received (refused: the protocol is JSON text)",
    );
    this.bytesIn = r.counter(
      "cupd_bytes_in_total",
      "UTF-8 bytes of text frames received",
    );
    this.framesOut = r.counter("cupd_frames_out_total", "Text frames sent");
    this.bytesOut = r.counter(
      "cupd_bytes_out_total",
      "UTF-8 bytes of text frames sent",
    );
    this.published = r.counter(
      "cupd_payloads_published_total",
      "Payloads accepted from providers on this isolate (WebSocket and HTTP)",
    );
    this.httpPublished = r.counter(
      "cupd_http_payloads_published_total",
      "Payloads accepted through POST /apps/:name/data",
    );
    this.delivered = r.counter(
      "cupd_payloads_delivered_total",
      "Data frames handed to local widget sockets",
    );
    this.drops = r.family(
      "cupd_drops_total",
      "Frames dropped, by reason",
      "reason",
    );
    this.closes = r.family(
      "cupd_closes_total",
      "WebSocket connections closed, by close code (either side)",
      "code",
    );
    this.serverCloses = r.family(
      "cupd_server_closes_total",
      "Connections the relay closed, by reason",
      "reason",
    );
    this.errors = r.family(
      "cupd_errors_total",
      "Error frames sent to clients, by code",
      "code",
    );
    this.authFailures = r.family(
      "cupd_auth_failures_total",
      "Refused provider handshakes, widget tokens and HTTP publish tokens",
      "via",
    );
    this.busIn = r.counter(
      "cupd_bus_messages_in_total",
      "Frames received from other isolates or nodes",
    );
    this.busOut = r.counter(
      "cupd_bus_messages_out_total",
      "Frames handed to the bus for other isolates or nodes",
    );
    this.faults = r.family(
      "cupd_faults_total",
      "Relay faults contained (thrown or rejected), by where",
      "where",
    );
    this.lastValueWrites = r.counter(
      "cupd_last_value_writes_total",
      "Last values written to the store",
    );
    this.lastValueWriteFailures = r.counter(
      "cupd_last_value_write_failures_total",
      "Last-value writes the store failed or did not answer in time",
    );
    this.lastValueReads = r.counter(
      "cupd_last_value_reads_total",
      "Last-value reads from the store, for subscribers",
    );
    this.lastValueReadFailures = r.counter(
      "cupd_last_value_read_failures_total",
      "Last-value reads that failed or timed out (served as no value)",
    );
    r.gauge(
      "process_resident_memory_bytes",
      "Resident memory of the process",
      () => Deno.memoryUsage().rss,
    );
    r.gauge(
      "cupd_heap_used_bytes",
      "V8 heap in use by this isolate",
      () => Deno.memoryUsage().heapUsed,
    );
  }

  /** Move one socket from role `from` to role `to` (either may be none). */
  move(from: Role | undefined, to: Role | undefined): void {
    if (from === to) return;
    if (from) this.roles[from]--;
    if (to) this.roles[to]++;
  }
}

/** UTF-16 units measured per `encodeInto` call, and its scratch space. */
const CHUNK = 16_384;
const scratch = new Uint8Array(CHUNK * 3);
const encoder = new TextEncoder();

/**
 * UTF-8 length of `text`, as the socket will send it (lone surrogates as
 * U+FFFD, 3 bytes). `encodeInto` a reused buffer is a native copy, many
 * times faster than walking the string in JavaScript; long strings go in
 * chunks so the buffer stays small.
 */
export function utf8Length(text: string): number {
  if (text.length <= CHUNK) return encoder.encodeInto(text, scratch).written;

  let bytes = 0;
  for (let at = 0; at < text.length;) {
    let end = Math.min(at + CHUNK, text.length);
    // Never split a surrogate pair: each half alone would count 3 bytes.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    bytes += encoder.encodeInto(text.substring(at, end), scratch).written;
    at = end;
  }
  return bytes;
}
