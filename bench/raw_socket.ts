/**
 * A minimal WebSocket client over a raw TCP connection, for load
 * generation. It reads in large chunks and walks frame headers in place,
 * calling a handler with byte offsets, so one core can receive several
 * hundred thousand frames a second without an event or a string per frame.
 *
 * Only what a relay sends is understood: unfragmented text frames, ping
 * (answered with pong) and close. Frames it sends are masked with a zero
 * key, which the protocol allows and which makes masking free.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Called for each complete frame with its payload at `buf[start, end)`. */
export type FrameHandler = (
  opcode: number,
  buf: Uint8Array,
  start: number,
  end: number,
) => void;

/** WebSocket opcodes this client handles. */
export const Opcode = { text: 1, close: 8, ping: 9, pong: 10 } as const;

/** One client connection to `ws://127.0.0.1:<port>/ws`. */
export class RawSocket {
  readonly #conn: Deno.TcpConn;
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;
  /** Receives every text frame once {@linkcode RawSocket.run} is going. */
  onFrame: FrameHandler = () => {};
  /** Resolves when the connection has ended, either side closing it. */
  readonly done: Promise<void>;
  #resolveDone!: () => void;

  private constructor(conn: Deno.TcpConn, bufferBytes: number) {
    this.#conn = conn;
    this.#buf = new Uint8Array(bufferBytes);
    this.done = new Promise((resolve) => this.#resolveDone = resolve);
  }

  /** Whether the connection has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Connect and complete the upgrade; rejects if it is not accepted within
   * `timeoutMs`.
   */
  static async connect(
    port: number,
    bufferBytes = 16384,
    timeoutMs = 10_000,
  ): Promise<RawSocket> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const socket = new RawSocket(conn, bufferBytes);
    // Closing the connection makes a pending read fail, so nothing waits on.
    const timer = setTimeout(() => socket.close(), timeoutMs);
    try {
      conn.setNoDelay(true);
      await socket.#write(encoder.encode(upgradeRequest(port)));
      await socket.#readHeaders();
    } catch (error) {
      socket.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return socket;
  }

  /**
   * Read frames until the connection ends, calling `onFrame` for text
   * frames. Never rejects: a broken connection simply ends.
   */
  async run(): Promise<void> {
    try {
      this.#scan();
      while (!this.#closed) {
        this.#makeRoom();
        const n = await this.#conn.read(this.#buf.subarray(this.#end));
        if (n === null) break;
        this.#end += n;
        this.#scan();
      }
    } catch {
      // A reset or a close from our side: the connection is over either way.
    } finally {
      this.close();
    }
  }

  /**
   * The next text frame as a string, for handshakes. Must not be mixed
   * with {@linkcode RawSocket.run}.
   */
  async nextText(timeoutMs: number): Promise<string> {
    let text: string | undefined;
    const previous = this.onFrame;
    this.onFrame = (_op, buf, start, end) => {
      text ??= decoder.decode(buf.subarray(start, end));
    };
    const deadline = Date.now() + timeoutMs;
    const timer = setTimeout(() => this.close(), timeoutMs);
    try {
      while (text === undefined) {
        if (this.#scanOne()) continue;
        if (this.#closed || Date.now() > deadline) {
          throw new Error("connection ended before a frame arrived");
        }
        this.#makeRoom();
        const n = await this.#conn.read(this.#buf.subarray(this.#end));
        if (n === null) throw new Error("connection closed by the server");
        this.#end += n;
      }
      return text;
    } finally {
      clearTimeout(timer);
      this.onFrame = previous;
    }
  }

  /** Send one text frame. */
  send(text: string): Promise<void> {
    return this.sendBytes(encodeFrame(text));
  }

  /** Send bytes already framed by {@linkcode encodeFrame}, in order. */
  sendBytes(bytes: Uint8Array): Promise<void> {
    return this.#write(bytes);
  }

  /** Drop the connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime.
    }
    this.#resolveDone();
  }

  /** Writes are chained so that frames from several callers never mix. */
  #write(bytes: Uint8Array): Promise<void> {
    const write = this.#writing.then(async () => {
      let offset = 0;
      while (offset < bytes.length) {
        offset += await this.#conn.write(bytes.subarray(offset));
      }
    });
    this.#writing = write.catch(() => {});
    return write;
  }

  async #readHeaders(): Promise<void> {
    while (true) {
      this.#makeRoom();
      const n = await this.#conn.read(this.#buf.subarray(this.#end));
      if (n === null) throw new Error("closed during the upgrade");
      this.#end += n;
      const head = headerEnd(this.#buf, this.#end);
      if (head < 0) continue;
      const status = decoder.decode(this.#buf.subarray(0, 12));
      if (status !== "HTTP/1.1 101") {
        throw new Error(`upgrade refused: ${status}`);
      }
      this.#start = head;
      return;
    }
  }

  /** Handle every complete frame in the buffer. */
  #scan(): void {
    while (this.#scanOne());
  }

  /** Handle one complete frame if the buffer holds one. */
  #scanOne(): boolean {
    const buf = this.#buf;
    const s = this.#start;
    const available = this.#end - s;
    if (available < 2) return false;

    let length = buf[s + 1] & 0x7f;
    let header = 2;
    if (length === 126) {
      if (available < 4) return false;
      length = (buf[s + 2] << 8) | buf[s + 3];
      header = 4;
    } else if (length === 127) {
      if (available < 10) return false;
      length = buf[s + 6] * 2 ** 24 +
        ((buf[s + 7] << 16) | (buf[s + 8] << 8) | buf[s + 9]);
      header = 10;
    }
    if (buf[s + 1] & 0x80) header += 4;
    if (available < header + length) {
      this.#ensureCapacity(header + length);
      return false;
    }

    this.#start = s + header + length;
    this.#dispatch(buf[s] & 0x0f, s + header, s + header + length);
    return true;
  }

  #dispatch(opcode: number, start: number, end: number): void {
    if (opcode === Opcode.text) {
      this.onFrame(opcode, this.#buf, start, end);
    } else if (opcode === Opcode.ping) {
      const pong = encodeControl(Opcode.pong, this.#buf.slice(start, end));
      this.#write(pong).catch(() => {});
    } else if (opcode === Opcode.close) {
      this.close();
    }
  }

  /** Move unread bytes to the front when the tail runs short. */
  #makeRoom(): void {
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      return;
    }
    if (this.#buf.length - this.#end >= this.#buf.length / 4) return;
    this.#buf.copyWithin(0, this.#start, this.#end);
    this.#end -= this.#start;
    this.#start = 0;
    if (this.#end === this.#buf.length) this.#ensureCapacity(this.#end);
  }

  /** Grow the buffer so a frame of `bytes` fits once compacted. */
  #ensureCapacity(bytes: number): void {
    if (bytes <= this.#buf.length / 2) return;
    let size = this.#buf.length;
    while (size < bytes * 2) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#buf.subarray(this.#start, this.#end));
    this.#end -= this.#start;
    this.#start = 0;
    this.#buf = grown;
  }
}

/** A masked (zero key) text frame carrying `text`. */
export function encodeFrame(text: string): Uint8Array {
  return encodeControl(Opcode.text, encoder.encode(text));
}

/** Several text frames in one buffer, to send with one write. */
export function encodeFrames(texts: readonly string[]): Uint8Array {
  const frames = texts.map(encodeFrame);
  const out = new Uint8Array(frames.reduce((sum, f) => sum + f.length, 0));
  let offset = 0;
  for (const frame of frames) {
    out.set(frame, offset);
    offset += frame.length;
  }
  return out;
}

function encodeControl(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const header = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = new Uint8Array(header + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) {
    out[1] = 0x80 | n;
  } else if (n < 65536) {
    out[1] = 0x80 | 126;
    out[2] = n >> 8;
    out[3] = n & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(n));
  }
  out.set(payload, header + 4);
  return out;
}

function upgradeRequest(port: number): string {
  return [
    "GET /ws HTTP/1.1",
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    "",
    "",
  ].join("\r\n");
}

/** Offset just past the blank line ending the response head, or -1. */
function headerEnd(buf: Uint8Array, end: number): number {
  for (let i = 3; i < end; i++) {
    if (
      buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 &&
      buf[i - 3] === 13
    ) return i + 1;
  }
  return -1;
}
