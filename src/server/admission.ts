/**
 * Connection limits of one isolate: how many sockets in all, and how many
 * from one client address.
 *
 * A socket is counted from its upgrade (not its open), so a burst of
 * upgrades cannot slip past the limit before the first one opens.
 *
 * @module
 */

/** Why a connection was refused, as counted in metrics. */
export type Refusal = "isolate" | "address";

/** Limits on open sockets; 0 means no limit. */
export interface AdmissionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

/** Counts sockets per isolate and per client address. */
export class Admission {
  readonly #limits: AdmissionLimits;
  readonly #byAddress = new Map<string, number>();
  #total = 0;

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  /** Sockets counted now. */
  get size(): number {
    return this.#total;
  }

  /**
   * Count one more socket from `address`, or say which limit refuses it.
   * An admitted socket must be released exactly once, with the returned
   * function.
   */
  admit(address: string): { release: () => void } | Refusal {
    const { maxConnections, maxConnectionsPerAddress } = this.#limits;
    if (maxConnections > 0 && this.#total >= maxConnections) return "isolate";
    const held = this.#byAddress.get(address) ?? 0;
    if (maxConnectionsPerAddress > 0 && held >= maxConnectionsPerAddress) {
      return "address";
    }

    this.#total++;
    this.#byAddress.set(address, held + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#release(address);
      },
    };
  }

  #release(address: string): void {
    this.#total--;
    const held = (this.#byAddress.get(address) ?? 1) - 1;
    if (held > 0) this.#byAddress.set(address, held);
    else this.#byAddress.delete(address);
  }
}
