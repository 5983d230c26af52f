/**
 * Generated client frames for the fuzz test: valid frames, mutated ones,
 * wrong types, huge numbers, deep nesting, long strings, lone surrogates,
 * random text and binary frames, all from a seeded generator so a failure
 * can be replayed from its seed.
 *
 * @module
 */

/** A small, fast, seeded generator (mulberry32). */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** One generated input: a text frame or a binary frame. */
export type FuzzInput =
  | { kind: "text"; text: string }
  | { kind: "binary"; bytes: Uint8Array };

/** App names, valid and not, that generated frames use. */
export const NAMES = [
  "a",
  "app",
  "fuzz.x",
  "A-1",
  "__proto__",
  "constructor",
  "toString",
  "",
  "a b",
  "x".repeat(65),
  "ü",
  "../etc",
] as const;

const TYPES = ["auth", "data", "subscribe", "unsubscribe", "ping"] as const;

const ODD_VALUES = [
  null,
  true,
  0,
  -0,
  1e308,
  -1e308,
  5e-324,
  9007199254740993,
  "",
  [],
  {},
  JSON.parse('{"__proto__":{"polluted":true}}'),
  "\u0000",
  "\u2028",
] as const;

/** Raw number texts JSON.parse accepts but few expect. */
const HUGE_NUMBERS = ["1e999", "-1e999", "1".repeat(400), "0.0000e-99999"];

function randomJson(rng: Prng, depth = 0): unknown {
  const roll = rng.int(depth > 3 ? 4 : 7);
  switch (roll) {
    case 0:
      return rng.pick(ODD_VALUES);
    case 1:
      return rng.int(1e9) - 5e8;
    case 2:
      return randomString(rng, rng.int(20));
    case 3:
      return rng.chance(0.5);
    case 4:
      return Array.from(
        { length: rng.int(5) },
        () => randomJson(rng, depth + 1),
      );
    default: {
      const object: Record<string, unknown> = {};
      for (let i = rng.int(5); i > 0; i--) {
        object[randomString(rng, rng.int(8))] = randomJson(rng, depth + 1);
      }
      return object;
    }
  }
}

/** Code units from every range, lone surrogates included. */
function randomString(rng: Prng, length: number): string {
  let text = "";
  for (let i = 0; i < length; i++) {
    const range = rng.int(10);
    if (range < 6) text += String.fromCharCode(0x20 + rng.int(95));
    else if (range < 7) text += String.fromCharCode(rng.int(0x20));
    else if (range < 8) text += String.fromCharCode(0xd800 + rng.int(0x800));
    else text += String.fromCharCode(0x80 + rng.int(0xff00));
  }
  return text;
}

function name(rng: Prng): string {
  return rng.chance(0.8) ? rng.pick(NAMES.slice(0, 7)) : rng.pick(NAMES);
}

/** A well-formed frame of a random type. */
export function validFrame(rng: Prng, uid: string): Record<string, unknown> {
  switch (rng.pick(TYPES)) {
    case "auth":
      return {
        type: "auth",
        uid: rng.chance(0.8) ? uid : "0".repeat(32),
        name: name(rng),
      };
    case "data":
      return rng.chance(0.2)
        ? { type: "data", uid, data: randomJson(rng) }
        : { type: "data", data: randomJson(rng) };
    case "subscribe":
      return { type: "subscribe", name: name(rng) };
    case "unsubscribe":
      return { type: "unsubscribe", name: name(rng) };
    default:
      return { type: "ping" };
  }
}

function mutate(rng: Prng, text: string): string {
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const at = rng.int(text.length + 1);
    switch (rng.int(5)) {
      case 0:
        text = text.slice(0, at) + text.slice(at + 1);
        break;
      case 1:
        text = text.slice(0, at) + randomString(rng, 1) + text.slice(at);
        break;
      case 2:
        text = text.slice(0, at);
        break;
      case 3:
        text = text.slice(0, at) + text.slice(rng.int(text.length));
        break;
      default:
        text = text.slice(0, at) + rng.pick(['"', "{", "}", ",", ":", "\\"]) +
          text.slice(at + 1);
    }
  }
  return text;
}

/** A frame whose fields have the wrong types or odd values. */
function oddFrame(rng: Prng, uid: string): string {
  const frame = validFrame(rng, uid);
  switch (rng.int(6)) {
    case 0:
      frame[rng.pick(["type", "uid", "name", "data", "token"])] = rng.pick(
        ODD_VALUES,
      );
      return JSON.stringify(frame);
    case 1:
      frame.type = rng.pick(["PING", "Auth", "data ", "__proto__", "error"]);
      return JSON.stringify(frame);
    case 2:
      delete frame[rng.pick(["uid", "name", "data"])];
      return JSON.stringify(frame);
    case 3:
      return `{"type":"data","data":${rng.pick(HUGE_NUMBERS)}}`;
    case 4:
      return `{"__proto__":{"type":"ping"},"type":${
        JSON.stringify(frame.type)
      }}`;
    default:
      return JSON.stringify(rng.pick([[frame], null, 7, "ping", [], true]));
  }
}

/** A frame nested thousands of levels deep, in data or elsewhere. */
function deepFrame(rng: Prng): string {
  const depth = 1 + rng.int(3000);
  const nested = "[".repeat(depth) + "]".repeat(depth);
  return rng.chance(0.7)
    ? `{"type":"data","data":${nested}}`
    : `{"type":"subscribe","name":${nested}}`;
}

function randomBytes(rng: Prng, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = rng.int(256);
  return bytes;
}

/**
 * One generated input. `maxFrameBytes` lets some long strings go past the
 * limit (which closes the socket) while most stay under it.
 */
export function fuzzFrame(
  rng: Prng,
  uid: string,
  maxFrameBytes: number,
): FuzzInput {
  const roll = rng.int(100);
  const text = (t: string): FuzzInput => ({ kind: "text", text: t });
  if (roll < 25) return text(JSON.stringify(validFrame(rng, uid)));
  if (roll < 50) return text(mutate(rng, JSON.stringify(validFrame(rng, uid))));
  if (roll < 65) return text(oddFrame(rng, uid));
  if (roll < 75) return text(randomString(rng, rng.int(64)));
  if (roll < 85) {
    return { kind: "binary", bytes: randomBytes(rng, rng.int(64)) };
  }
  if (roll < 90) return text(deepFrame(rng));
  const length = rng.chance(0.97)
    ? rng.int(maxFrameBytes / 2)
    : maxFrameBytes + rng.int(maxFrameBytes / 2) - 30;
  const filler = rng.chance(0.5)
    ? "x".repeat(length)
    : randomString(rng, length);
  return text(JSON.stringify({ type: "data", data: filler }));
}

/** Bytes that are not valid UTF-8, for text frames sent raw. */
export function invalidUtf8(rng: Prng): Uint8Array {
  const prefix = new TextEncoder().encode('{"type":"ping","x":"');
  const bad = rng.pick([[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xe2, 0x82], [
    0xf8,
    0x88,
    0x80,
    0x80,
    0x80,
  ], [0xc0, 0xaf]]);
  const bytes = new Uint8Array(prefix.length + bad.length + 2);
  bytes.set(prefix);
  bytes.set(bad, prefix.length);
  bytes.set([0x22, 0x7d], prefix.length + bad.length);
  return bytes;
}
