/**
 * Presence: how the isolates (and, with a shared transport, the nodes) of a
 * relay learn how many widgets each of them serves per app, so a provider
 * is told the total audience of its app wherever its widgets connected.
 *
 * Every isolate periodically *announces* its own local widget count per app,
 * tagged with its isolate id. Listeners keep the latest announcement of each
 * isolate and forget an isolate that stops announcing for a bounded time,
 * which covers an isolate or node that dies without saying goodbye. The
 * bookkeeping lives in `census.ts`; this file defines what travels and the
 * transport contract.
 *
 * A transport variant (`presence_broadcast.ts`, `presence_memory.ts`, and for
 * several machines `presence_redis.ts`) only has to carry announcements. It
 * promises:
 * - an announcement sent by one member reaches every *other* member at most
 *   once (a lost one is repaired by the next periodic announcement);
 * - announcements of one sender arrive in the order it sent them;
 * - it never comes back to its sender;
 * - every isolate of every node is a member on its own: counts are summed
 *   per isolate id, never per node.
 *
 * Announcements carry the full local state, not deltas, so any single one
 * is enough to repair a receiver. Receivers expire entries on their own
 * clock; no clocks are compared across machines.
 *
 * @module
 */

/** What one isolate says about itself. */
export interface Announcement {
  /** Id of the announcing isolate, unique across every node. */
  isolate: string;
  /** Its local widgets per app. Apps without widgets are left out. */
  counts: Record<string, number>;
  /** The isolate is leaving: forget it now rather than on expiry. */
  bye?: boolean;
}

/** Receives announcements from the other members. */
export type AnnouncementHandler = (announcement: Announcement) => void;

/** A transport for announcements between relay members. */
export interface PresenceChannel {
  /** Deliver `announcement` to every other member. Must not throw. */
  send(announcement: Announcement): void;
  /** Set the one handler for other members' announcements. */
  listen(handler: AnnouncementHandler): void;
  /** Release every resource. The channel is unusable afterwards. */
  close(): Promise<void>;
}

/** Serialize an announcement for a text transport. */
export function encodeAnnouncement(announcement: Announcement): string {
  return JSON.stringify(announcement);
}

/**
 * Read an announcement from a text transport. Anything malformed (another
 * version, a stray publisher on the same channel) yields `undefined`, and
 * counts that are not non-negative integers are left out.
 */
export function parseAnnouncement(text: unknown): Announcement | undefined {
  if (typeof text !== "string") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;

  const { isolate, counts, bye } = value as Record<string, unknown>;
  if (typeof isolate !== "string" || isolate === "") return undefined;
  if (typeof counts !== "object" || counts === null) return undefined;

  // No prototype, so an app named "__proto__" is an ordinary key.
  const clean: Record<string, number> = Object.create(null);
  for (const [app, count] of Object.entries(counts)) {
    if (Number.isSafeInteger(count) && (count as number) > 0) {
      clean[app] = count as number;
    }
  }
  return { isolate, counts: clean, ...(bye === true ? { bye } : {}) };
}
