/**
 * Test helpers for the widget library run by Deno: a connection that
 * records its state events, and a close that waits for the server side.
 *
 * @module
 */

import {
  connect,
  type ConnectOptions,
  type Relay,
  type StateEvent,
} from "../src/client/widget.js";
import { eventually } from "./helpers.ts";

/** Fast reconnects, so tests do not wait on production delays. */
export const FAST: ConnectOptions = { minDelayMs: 20, maxDelayMs: 100 };

/** A relay connection that records its state events. */
export function openRelay(url: string, options: ConnectOptions = {}): {
  relay: Relay;
  events: StateEvent[];
  states: () => string[];
} {
  const events: StateEvent[] = [];
  const relay = connect(url, {
    ...FAST,
    ...options,
    onState: (event) => events.push(event),
  });
  const states = () => events.map((event) => event.state);
  return { relay, events, states };
}

/** Close `relay` and wait until the server saw its socket go. */
export async function closeOn(
  relay: Relay,
  sockets: () => number,
): Promise<void> {
  relay.close();
  await eventually(() => sockets() === 0);
}
