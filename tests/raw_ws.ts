/**
 * A WebSocket client written against a bare TCP connection, for what the
 * WebSocket API cannot do: stop reading (a slow consumer), send text frames
 * that are not valid UTF-8, or send frames after the server closed.
 *
 * @module
 */

/** One frame read from the server. */
export interface RawFrame {
  opcode: number;
  payload: Uint8Array;
}

/** Opcodes of RFC 6455. */
export const Opcode = { text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

/** A hand-made WebSocket client over TCP. */
export class RawSocket {
  readonly conn: Deno.TcpConn;
  #buffer = new Uint8Array(0);

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /**
   * Connect to `ws://host:port/path` and complete the opening handshake,
   * sending `headers` besides the required ones.
   */
  static async connect(
    url: string,
    headers: Record<string, string> = {},
  ): Promise<RawSocket> {
    const { hostname, port, pathname } = new URL(url);
    const conn = await Deno.connect({ hostname, port: Number(port) });
    const socket = new RawSocket(conn);
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(
      new Uint8Array(16),
    )));
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
    await socket.write(new TextEncoder().encode(
      `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
        `Upgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
        `${extra.join("")}\r\n`,
    ));
    const head = await socket.#readHead();
    if (!head.startsWith("HTTP/1.1 101")) {
      conn.close();
      throw new Error(`upgrade refused: ${head.split("\r\n")[0]}`);
    }
    return socket;
  }

  /** Write all of `bytes`. */
  async write(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      written += await this.conn.write(bytes.subarray(written));
    }
  }

  /** Send one masked frame with `payload` as is (no UTF-8 check). */
  async send(opcode: number, payload: Uint8Array): Promise<void> {
    await this.write(encodeFrame(opcode, payload));
  }

  /** Send a text frame of `text`'s UTF-8 bytes. */
  async sendText(text: string): Promise<void> {
    await this.send(Opcode.text, new TextEncoder().encode(text));
  }

  /** Read the next frame, or `undefined` once the connection ended. */
  async read(): Promise<RawFrame | undefined> {
    for (;;) {
      const frame = this.#parse();
      if (frame) return frame;
      if (!(await this.#fill())) return undefined;
    }
  }

  /** Close the TCP connection without a closing handshake. */
  abort(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }

  async #readHead(): Promise<string> {
    for (;;) {
      const text = new TextDecoder().decode(this.#buffer);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        this.#buffer = this.#buffer.slice(end + 4);
        return text.slice(0, end);
      }
      if (!(await this.#fill())) throw new Error("closed during handshake");
    }
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    let n: number | null;
    try {
      n = await this.conn.read(chunk);
    } catch {
      return false;
    }
    if (n === null) return false;
    const joined = new Uint8Array(this.#buffer.length + n);
    joined.set(this.#buffer);
    joined.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = joined;
    return true;
  }

  #parse(): RawFrame | undefined {
    const b = this.#buffer;
    if (b.length < 2) return undefined;
    let length = b[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = (b[2] << 8) | b[3];
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      length = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(2));
      offset = 10;
    }
    if (b.length < offset + length) return undefined;
    const frame = {
      opcode: b[0] & 0x0f,
      payload: b.slice(offset, offset + length),
    };
    this.#buffer = b.slice(offset + length);
    return frame;
  }
}

/** A client frame: FIN set, masked as RFC 6455 requires. */
export function encodeFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = new Uint8Array(head + 4 + n);
  frame[0] = 0x80 | opcode;
  if (n < 126) {
    frame[1] = 0x80 | n;
  } else if (n < 65536) {
    frame[1] = 0x80 | 126;
    frame[2] = n >> 8;
    frame[3] = n & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(n));
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  frame.set(mask, head);
  for (let i = 0; i < n; i++) frame[head + 4 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/** The close code and reason of a close frame's payload. */
export function closeOf(frame: RawFrame): { code: number; reason: string } {
  const p = frame.payload;
  if (p.length < 2) return { code: 1005, reason: "" };
  return {
    code: (p[0] << 8) | p[1],
    reason: new TextDecoder().decode(p.subarray(2)),
  };
}
