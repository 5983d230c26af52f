/**
 * Audience frames: each provider is told how many widgets watch its app,
 * counted over every isolate (see `census.ts`).
 *
 * @module
 */

import { encode } from "../protocol/messages.ts";
import type { Clock } from "./clock.ts";
import type { Sink } from "./hub.ts";
import { Throttle } from "./throttle.ts";

/** The providers of one app on this isolate and what each was last told. */
interface Watched {
  told: Map<Sink, number>;
  throttle: Throttle;
}

/**
 * Sends `{"type":"audience","widgets":K}` to local providers: once when a
 * provider starts watching, then whenever its app's total changes, at most
 * once per `gapMs` per app. The trailing frame always carries the latest
 * total, and a provider is never sent the number it was sent last.
 */
export class Audience {
  readonly #total: (app: string) => number;
  readonly #clock: Clock;
  readonly #gapMs: number;
  readonly #apps = new Map<string, Watched>();

  /** `total` tells the widgets of an app over every isolate. */
  constructor(total: (app: string) => number, clock: Clock, gapMs: number) {
    this.#total = total;
    this.#clock = clock;
    this.#gapMs = gapMs;
  }

  /**
   * Start telling `sink` the audience of `app`; it is sent the current
   * total at once. Returns the function that stops it.
   */
  watch(app: string, sink: Sink): () => void {
    const watched = this.#apps.get(app) ?? this.#add(app);
    const widgets = this.#total(app);
    watched.told.set(sink, widgets);
    sink.send(frame(widgets));
    return () => this.#unwatch(app, sink);
  }

  /** Totals of `apps` may have changed: tell their providers, in time. */
  changed(apps: Iterable<string>): void {
    for (const app of apps) this.#apps.get(app)?.throttle.poke();
  }

  /** Apps with at least one local provider. */
  get apps(): number {
    return this.#apps.size;
  }

  /** Cancel every pending frame. */
  close(): void {
    for (const watched of this.#apps.values()) watched.throttle.cancel();
    this.#apps.clear();
  }

  #add(app: string): Watched {
    const told = new Map<Sink, number>();
    const throttle = new Throttle(
      this.#clock,
      this.#gapMs,
      () => this.#tell(app, told),
    );
    const watched = { told, throttle };
    this.#apps.set(app, watched);
    return watched;
  }

  #unwatch(app: string, sink: Sink): void {
    const watched = this.#apps.get(app);
    if (!watched?.told.delete(sink) || watched.told.size > 0) return;
    watched.throttle.cancel();
    this.#apps.delete(app);
  }

  /** Send the current total to every provider not told it yet. */
  #tell(app: string, told: Map<Sink, number>): boolean {
    const widgets = this.#total(app);
    let text: string | undefined;
    for (const [sink, last] of told) {
      if (last === widgets) continue;
      text ??= frame(widgets);
      told.set(sink, widgets);
      sink.send(text);
    }
    return text !== undefined;
  }
}

function frame(widgets: number): string {
  return encode({ type: "audience", widgets });
}
