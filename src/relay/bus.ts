/**
 * The bus carries serialized data frames between isolates (and, with other
 * variants, between machines).
 *
 * Contract shared by every variant:
 * - a frame published by one bus instance reaches every *other* instance
 *   subscribed to that app, at most once, in the order that instance
 *   published them;
 * - it never comes back to the instance that published it, so the publisher
 *   delivers to its own local widgets itself.
 *
 * @module
 */

/** Receives frames that other instances published for an app. */
export type FrameHandler = (frame: string) => void;

/** A channel between relay instances, one topic per app. */
export interface Bus {
  /** Start receiving the app's frames from other instances. */
  subscribe(app: string, onFrame: FrameHandler): void;
  /** Stop receiving the app's frames. Unknown apps are ignored. */
  unsubscribe(app: string): void;
  /** Send an already-serialized frame to the other instances. */
  publish(app: string, frame: string): void;
  /** Release every resource. The bus is unusable afterwards. */
  close(): Promise<void>;
}
