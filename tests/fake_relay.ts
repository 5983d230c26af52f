/**
 * Test helper: a stand-in relay that greets, records every frame and
 * accepts any auth, so a client's own frames can be checked without the
 * real relay's rules. `onPing` decides how it answers a ping.
 *
 * @module
 */

/** What the fake does with a ping: answer it, or close the socket. */
export type PingAnswer = "pong" | { close: number };

/** A running fake relay. */
export interface FakeRelay {
  /** Every frame received, over all sockets, in order. */
  frames: Record<string, string>[];
  url: string;
  close(): Promise<void>;
}

/** Start a fake relay on a free loopback port. */
export function fakeRelay(
  uid: string,
  onPing: PingAnswer = "pong",
): FakeRelay {
  const frames: Record<string, string>[] = [];
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      const send = (frame: object) => socket.send(JSON.stringify(frame));
      socket.onopen = () => send({ type: "welcome", uid });
      socket.onmessage = (event) => {
        const frame = JSON.parse(event.data);
        frames.push(frame);
        if (frame.type === "auth") {
          send({ type: "authenticated", name: frame.name });
        } else if (frame.type === "ping" && onPing === "pong") {
          send({ type: "pong" });
        } else if (frame.type === "ping" && onPing !== "pong") {
          socket.close(onPing.close, "test");
        }
      };
      return response;
    },
  );
  return {
    frames,
    url: `ws://127.0.0.1:${server.addr.port}/ws`,
    close: () => server.shutdown(),
  };
}
