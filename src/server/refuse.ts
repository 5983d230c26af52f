/**
 * Refusing a socket: over a connection limit, or while the relay stops.
 *
 * The upgrade is accepted and the socket closed at once with 4003
 * `too_many_connections` (a "reconnect" code), after an error frame naming
 * the limit. An HTTP 503 before the upgrade would cost less, but a browser
 * reports a failed upgrade only as close code 1006, the same as a network
 * failure; a close code lets every client see why and back off.
 *
 * @module
 */

import { CloseCode, ErrorCode } from "../protocol/codes.ts";
import { encode } from "../protocol/messages.ts";
import { type RelayMetrics, utf8Length } from "../observe/relay_metrics.ts";
import type { Refusal } from "./admission.ts";

const MESSAGES: Record<Refusal, string> = {
  isolate: "This relay holds too many connections; try again later",
  address: "Too many connections from your address; try again later",
};

/** Send the refusal and close; the socket never reaches a session. */
export function refuseSocket(
  socket: WebSocket,
  refusal: Refusal,
  metrics: RelayMetrics,
): void {
  const { tooManyConnections: code } = ErrorCode;
  metrics.refused.get(refusal).value++;
  socket.onopen = () => {
    const frame = encode({ type: "error", code, message: MESSAGES[refusal] });
    metrics.framesOut.value++;
    metrics.bytesOut.value += utf8Length(frame);
    metrics.errors.get(code).value++;
    metrics.serverCloses.get(code).value++;
    socket.send(frame);
    socket.close(CloseCode.tooManyConnections, code);
  };
  countClose(socket, metrics);
}

/**
 * Close a socket that arrived while the relay shuts down with 4000
 * `shutting_down`, so its client reconnects, with backoff, elsewhere.
 */
export function turnAway(socket: WebSocket, metrics: RelayMetrics): void {
  const reason = "shutting_down";
  socket.onopen = () => {
    metrics.serverCloses.get(reason).value++;
    socket.close(CloseCode.shuttingDown, reason);
  };
  countClose(socket, metrics);
}

/** Count the socket's close once (a stuck socket may report it twice). */
function countClose(socket: WebSocket, metrics: RelayMetrics): void {
  let closed = false;
  socket.onclose = (event) => {
    if (closed) return;
    closed = true;
    metrics.closes.get(event.code).value++;
  };
  socket.onerror = () => {};
}
