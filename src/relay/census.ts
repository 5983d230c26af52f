/**
 * The census of one isolate: how many widgets watch each app, here and on
 * every other member that announces itself over a {@linkcode PresenceChannel}.
 *
 * @module
 */

import type { Clock, TimerId } from "./clock.ts";
import type { Announcement, PresenceChannel } from "./presence.ts";
import { Throttle } from "./throttle.ts";

/** Timing of a {@linkcode Census}. */
export interface CensusTiming {
  /** Time between two periodic announcements of the local counts. */
  announceEveryMs: number;
  /** Silence after which another member's counts are forgotten. */
  forgetAfterMs: number;
  /** Least time between two announcements caused by local changes. */
  changeGapMs: number;
}

/** What a {@linkcode Census} needs. */
export interface CensusOptions extends CensusTiming {
  /** Id of this isolate, unique across every member. */
  isolate: string;
  channel: PresenceChannel;
  clock: Clock;
  /** Called with the apps whose total may have changed. */
  onChange(apps: ReadonlySet<string>): void;
}

type Counts = ReadonlyMap<string, number>;

const NONE: Counts = new Map();

interface Member {
  counts: Counts;
  expiresAt: number;
}

/**
 * Widget counts per app, summed over members. Local changes are announced
 * soon (rate-limited) and all local counts every `announceEveryMs`; members
 * silent for `forgetAfterMs` are dropped, checked at every announcement, so
 * a dead member's widgets are gone from the totals at most
 * `forgetAfterMs + announceEveryMs` after its last word.
 */
export class Census {
  readonly #options: CensusOptions;
  readonly #local = new Map<string, number>();
  readonly #members = new Map<string, Member>();
  readonly #announceSoon: Throttle;
  #timer: TimerId | undefined;
  #closed = false;

  constructor(options: CensusOptions) {
    this.#options = options;
    this.#announceSoon = new Throttle(
      options.clock,
      options.changeGapMs,
      () => this.#announce(),
    );
    options.channel.listen((announcement) => this.#receive(announcement));
    this.#tick();
  }

  /** Widgets of `app` over every live member, this isolate included. */
  total(app: string): number {
    let total = this.#local.get(app) ?? 0;
    for (const member of this.#members.values()) {
      total += member.counts.get(app) ?? 0;
    }
    return total;
  }

  /** Members heard from and not yet forgotten, this isolate excluded. */
  get members(): number {
    return this.#members.size;
  }

  /** Record this isolate's widget count for `app`. */
  setLocal(app: string, widgets: number): void {
    if (this.#closed || (this.#local.get(app) ?? 0) === widgets) return;

    if (widgets > 0) this.#local.set(app, widgets);
    else this.#local.delete(app);
    this.#options.onChange(new Set([app]));
    this.#announceSoon.poke();
  }

  /** Say goodbye to the other members and stop. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#announceSoon.cancel();
    if (this.#timer !== undefined) {
      this.#options.clock.clearTimeout(this.#timer);
    }

    const { isolate, channel } = this.#options;
    channel.send({ isolate, counts: {}, bye: true });
    await channel.close();
  }

  #tick(): void {
    this.#announce();
    this.#forgetSilent();
    this.#timer = this.#options.clock.setTimeout(
      () => this.#tick(),
      this.#options.announceEveryMs,
    );
  }

  #announce(): boolean {
    if (this.#closed) return false;
    const counts = Object.fromEntries(this.#local);
    this.#options.channel.send({ isolate: this.#options.isolate, counts });
    return true;
  }

  #receive(announcement: Announcement): void {
    const { isolate, counts, bye } = announcement;
    if (this.#closed || isolate === this.#options.isolate) return;

    const before = this.#members.get(isolate)?.counts ?? NONE;
    // A Map, not the received object: app names such as "constructor" must
    // not find inherited properties.
    const after: Counts = bye ? NONE : new Map(Object.entries(counts));
    if (bye) {
      this.#members.delete(isolate);
    } else {
      const expiresAt = this.#options.clock.now() + this.#options.forgetAfterMs;
      this.#members.set(isolate, { counts: after, expiresAt });
    }
    this.#notify(before, after);
  }

  #forgetSilent(): void {
    const now = this.#options.clock.now();
    for (const [isolate, member] of this.#members) {
      if (member.expiresAt > now) continue;
      this.#members.delete(isolate);
      this.#notify(member.counts, NONE);
    }
  }

  #notify(before: Counts, after: Counts): void {
    const changed = new Set<string>();
    for (const app of new Set([...before.keys(), ...after.keys()])) {
      if (before.get(app) !== after.get(app)) changed.add(app);
    }
    if (changed.size > 0) this.#options.onChange(changed);
  }
}
