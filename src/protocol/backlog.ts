/**
 * Inputs a session holds back while the relay verifies a signature or a
 * token, so they are handled in the order they arrived once the verdict is
 * in.
 *
 * @module
 */

/** One input held back: a text frame, or the marker of a binary frame. */
export type HeldInput =
  | { kind: "text"; text: string }
  | { kind: "oversize" }
  | { kind: "binary" };

/**
 * Rough bookkeeping cost of one held input on top of its text, so that a
 * flood of tiny frames is bounded as well as a few large ones.
 */
const ENTRY_COST = 64;

/** A first-in first-out queue of inputs with a bound on what it holds. */
export class Backlog {
  readonly #limit: number;
  #inputs: HeldInput[] = [];
  #size = 0;

  /** `limit` bounds the held text in UTF-16 code units (plus overhead). */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Inputs held. */
  get length(): number {
    return this.#inputs.length;
  }

  /** Hold one input. Returns false, holding nothing more, past the limit. */
  push(input: HeldInput): boolean {
    if (this.#size + cost(input) > this.#limit) return false;
    this.#inputs.push(input);
    this.#size += cost(input);
    return true;
  }

  /** The oldest input, removed from the queue. */
  shift(): HeldInput | undefined {
    const input = this.#inputs.shift();
    if (input) this.#size -= cost(input);
    return input;
  }

  /** Forget everything held. */
  clear(): void {
    this.#inputs = [];
    this.#size = 0;
  }
}

function cost(input: HeldInput): number {
  return ENTRY_COST + (input.kind === "text" ? input.text.length : 0);
}
