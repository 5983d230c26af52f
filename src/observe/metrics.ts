/**
 * A small Prometheus registry: counters that hot paths bump with one
 * addition, and gauges read only when scraped.
 *
 * Why not `prom-client`: it runs under Deno, but its labelled `inc` hashes
 * the label object into a string and validates it on every call, which is
 * the cost a per-frame counter must not have. Here a labelled child is
 * looked up once and kept, and every label string is built at scrape time.
 *
 * @module
 */

/** A monotonically increasing number. Bump `value` directly on hot paths. */
export class Counter {
  /** The current count; only ever increased. */
  value = 0;

  /** Add `n` (default 1). */
  inc(n = 1): void {
    this.value += n;
  }
}

/** Most children one family keeps; later keys share the `other` child. */
const MAX_CHILDREN = 64;

/**
 * Counters told apart by one label. A child is made on first use; past
 * {@linkcode MAX_CHILDREN} keys, new keys count under `other` so a client
 * choosing the key (a close code, say) cannot grow the registry.
 */
export class CounterFamily {
  readonly #children = new Map<string | number, Counter>();
  readonly name: string;
  readonly help: string;
  readonly label: string;

  constructor(name: string, help: string, label: string) {
    this.name = name;
    this.help = help;
    this.label = label;
  }

  /** The child for `key`; keep it when it is bumped often. */
  get(key: string | number): Counter {
    const child = this.#children.get(key);
    if (child) return child;
    if (this.#children.size >= MAX_CHILDREN && key !== "other") {
      return this.get("other");
    }

    const made = new Counter();
    this.#children.set(key, made);
    return made;
  }

  /** Current value for `key` (0 if never bumped). */
  value(key: string | number): number {
    return this.#children.get(key)?.value ?? 0;
  }

  /** Every child, in order of first use. */
  entries(): [string, number][] {
    return [...this.#children].map(([key, c]) => [String(key), c.value]);
  }
}

/** Values read at scrape time, by label value (or one, unlabelled). */
type Reader = () => number | Iterable<[string, number]>;

interface Entry {
  name: string;
  help: string;
  type: "counter" | "gauge";
  label?: string;
  read: Reader;
}

/** A set of metrics rendered together in the Prometheus text format. */
export class Registry {
  readonly #entries: Entry[] = [];

  /** A new unlabelled counter. */
  counter(name: string, help: string): Counter {
    const counter = new Counter();
    this.#entries.push({
      name,
      help,
      type: "counter",
      read: () => counter.value,
    });
    return counter;
  }

  /** A new family of counters labelled by `label`. */
  family(name: string, help: string, label: string): CounterFamily {
    const family = new CounterFamily(name, help, label);
    this.#entries.push({
      name,
      help,
      type: "counter",
      label,
      read: () => family.entries(),
    });
    return family;
  }

  /** A gauge whose value `read` computes when scraped. */
  gauge(name: string, help: string, read: () => number): void {
    this.#entries.push({ name, help, type: "gauge", read });
  }

  /** Gauges labelled by `label`, computed when scraped. */
  gauges(
    name: string,
    help: string,
    label: string,
    read: () => Iterable<[string, number]>,
  ): void {
    this.#entries.push({ name, help, type: "gauge", label, read });
  }

  /**
   * Counters kept elsewhere (by a client library, say), labelled by
   * `label` and read when scraped.
   */
  counters(
    name: string,
    help: string,
    label: string,
    read: () => Iterable<[string, number]>,
  ): void {
    this.#entries.push({ name, help, type: "counter", label, read });
  }

  /** Every metric in the Prometheus text exposition format (0.0.4). */
  render(): string {
    const lines: string[] = [];
    for (const entry of this.#entries) {
      lines.push(`# HELP ${entry.name} ${escapeHelp(entry.help)}`);
      lines.push(`# TYPE ${entry.name} ${entry.type}`);
      const value = entry.read();
      if (typeof value === "number") {
        lines.push(`${entry.name} ${number(value)}`);
        continue;
      }
      for (const [key, n] of value) {
        const label = `${entry.label}="${escapeLabel(key)}"`;
        lines.push(`${entry.name}{${label}} ${number(n)}`);
      }
    }
    return lines.join("\n") + "\n";
  }
}

/** The `Content-Type` of {@linkcode Registry.render}'s output. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function number(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function escapeLabel(text: string): string {
  return escapeHelp(text).replaceAll('"', '\\"');
}
