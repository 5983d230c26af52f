/**
 * The last value of each app: the most recent payload a provider published,
 * kept so a widget that subscribes later is not blank until the next one.
 *
 * A {@linkcode LastValueStore} keeps one value per app, shared by whatever
 * the variant reaches (an isolate, the isolates of a process, every node of
 * a Redis). The relay never writes it on the hot path: a
 * {@linkcode LastValueWriter} coalesces payloads per app and flushes on an
 * interval, and a {@linkcode LastValueCache} in each isolate answers most
 * lookups from memory.
 *
 * Contract shared by every variant:
 * - `get` returns the value last `set` for the app (by any instance the
 *   variant reaches), or `undefined` when there is none or it has expired;
 * - a value expires `ttlMs` after its `at`, never earlier; a variant may
 *   delete it some time later, but `get` never returns an expired value;
 * - `get` and `set` may reject (the backing service is away); callers treat
 *   a rejection as "no value" and "not written".
 *
 * @module
 */

/** One app's last value. */
export interface LastValue {
  /** The data frame widgets received, exactly as serialized by the hub. */
  frame: string;
  /** Wall-clock time of the publish, in milliseconds since the epoch. */
  at: number;
}

/** Where last values are kept between publishes, isolates and restarts. */
export interface LastValueStore {
  /** The app's unexpired last value, or `undefined`. */
  get(app: string): Promise<LastValue | undefined>;
  /** Make `value` the app's last value. */
  set(app: string, value: LastValue): Promise<void>;
  /** Release every resource. Pending writes are not this method's job. */
  close(): Promise<void>;
}

/** Options every variant takes. */
export interface StoreOptions {
  /** Time a value is kept after its `at`; 0 keeps values for ever. */
  ttlMs: number;
  /** Wall clock, in milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
}

/**
 * Whether `value` has expired at `now` under `ttlMs` (0: never expires).
 */
export function expired(value: LastValue, ttlMs: number, now: number): boolean {
  return ttlMs > 0 && value.at + ttlMs <= now;
}

/**
 * The frame a new subscriber receives for a last value: the live frame with
 * `"retained":true` added. `frame` is a JSON object serialized by the hub,
 * so appending before its closing brace keeps it valid without parsing.
 */
export function retainedFrame(frame: string): string {
  return `${frame.slice(0, -1)},"retained":true}`;
}

/** Whether `value` has the shape of a {@linkcode LastValue}. */
export function isLastValue(value: unknown): value is LastValue {
  if (typeof value !== "object" || value === null) return false;
  const { frame, at } = value as Record<string, unknown>;
  return typeof frame === "string" && frame.endsWith("}") &&
    typeof at === "number" && Number.isFinite(at);
}
