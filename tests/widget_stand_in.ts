/**
 * Test helper: a stand-in relay whose behaviour each test scripts, so the
 * widget library's reactions to closes, silence and retained frames can be
 * observed. It counts every connection attempt and records every frame.
 *
 * @module
 */

import type { Frame } from "./helpers.ts";

/** One accepted socket, as the script sees it. */
export interface StandInSocket {
  socket: WebSocket;
  /** 1 for the first connection. */
  index: number;
  /** Frames this socket received, in order. */
  frames: Frame[];
  send(frame: Frame): void;
}

/** A running stand-in relay. */
export interface StandIn {
  url: string;
  /** Connection attempts (WebSocket upgrades) so far. */
  readonly connections: number;
  readonly sockets: StandInSocket[];
  /** Sockets not closed yet. */
  readonly open: number;
  close(): Promise<void>;
}

/**
 * Start a stand-in on a free loopback port. `onOpen` runs when a socket
 * opens, `onFrame` for each frame it sends.
 */
export function standIn(script: {
  onOpen?: (socket: StandInSocket) => void;
  onFrame?: (socket: StandInSocket, frame: Frame) => void;
}): StandIn {
  const sockets: StandInSocket[] = [];
  let open = 0;
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      const entry: StandInSocket = {
        socket,
        index: sockets.length + 1,
        frames: [],
        send: (frame) => socket.send(JSON.stringify(frame)),
      };
      sockets.push(entry);
      open++;
      socket.onopen = () => script.onOpen?.(entry);
      socket.onmessage = (event) => {
        const frame = JSON.parse(event.data);
        entry.frames.push(frame);
        script.onFrame?.(entry, frame);
      };
      socket.onclose = () => open--;
      return response;
    },
  );
  return {
    url: `ws://127.0.0.1:${server.addr.port}/ws`,
    get connections() {
      return sockets.length;
    },
    sockets,
    get open() {
      return open;
    },
    async close() {
      for (const { socket } of sockets) {
        if (socket.readyState < WebSocket.CLOSING) socket.close();
      }
      await server.shutdown();
    },
  };
}

/** Run `body` with a stand-in, and always close it. */
export async function withStandIn(
  script: Parameters<typeof standIn>[0],
  body: (server: StandIn) => Promise<void>,
): Promise<void> {
  const server = standIn(script);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

/** Greet like the relay does. */
export function welcome(socket: StandInSocket): void {
  socket.send({ type: "welcome", uid: "0".repeat(32) });
}
