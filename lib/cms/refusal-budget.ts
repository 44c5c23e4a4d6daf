import { type CmsCredentials, sameKeyPair } from './credentials.js';
import type { SignatureLayoutName } from './sign.js';

// CMS locks the caller's IP after too many wrong signatures within a period it does not publish, and it counts
// every wrong signature that arrives, whether or not the client ever reads the 401 (cms-api.md, "Refused
// signatures and the IP lock"). The budget therefore charges every signed request from before it is sent until
// a period after its outcome, unless the outcome was a clear acceptance. An unknown outcome (no answer seen) is
// refunded when a later request of the same signer is accepted, which shows that it was no refusal.
//
// Why this bounds what CMS counts: a charged request reaches CMS between its reservation and its settlement, and
// its charge is held from the reservation until a period after the settlement. Of the charged requests that
// reach CMS within any period, the one reserved last was reserved while every other one still held its charge,
// so there are at most `limit` of them.

/** CMS_REFUSAL_LIMIT charged signatures at most in any CMS_REFUSAL_PERIOD_SECONDS. */
export interface RefusalRules {
  readonly limit: number;
  readonly periodMs: number;
}

/** Who signed a request: the key pair and the layout. */
export interface Signer {
  readonly keyPair: CmsCredentials;
  readonly layoutName: SignatureLayoutName;
}

/** `notRefused`: CMS cannot have counted the request (it never got a connection, or got another answer). */
export type ChargeOutcome = 'accepted' | 'refused' | 'unknown' | 'notRefused';

/** Settles one reserved charge; later calls are ignored. */
export type SettleCharge = (outcome: ChargeOutcome, signer: Signer) => void;

interface Charge {
  /** Undefined while the request is in flight. */
  settledAt: number | undefined;
  /** Set for an unknown outcome: the signer whose acceptance refunds it. */
  refundedBy: Signer | undefined;
}

export class RefusalBudget {
  #charges: Charge[] = [];

  constructor(
    private readonly rules: RefusalRules,
    private readonly now: () => number,
  ) {}

  /** Requests that may still be charged now. */
  get room(): number {
    return this.rules.limit - this.#current().length;
  }

  /** Charged requests still in flight. */
  get inFlight(): number {
    return this.#current().filter(({ settledAt }) => settledAt === undefined).length;
  }

  /** While nothing is in flight: when its oldest charge ages out, and the budget has room for one more. */
  get resumesAt(): number {
    return Math.min(...this.#current().flatMap(({ settledAt }) => settledAt ?? [])) + this.rules.periodMs;
  }

  /** The charge of one signed request, taken before it is sent; undefined when the budget is spent. */
  reserve(): SettleCharge | undefined {
    if (this.room <= 0) return undefined;
    const charge: Charge = { settledAt: undefined, refundedBy: undefined };
    this.#charges.push(charge);
    return (outcome, signer) => {
      if (charge.settledAt !== undefined || !this.#charges.includes(charge)) return;
      if (outcome === 'accepted' || outcome === 'notRefused') {
        const refunded = ({ refundedBy }: Charge) =>
          outcome === 'accepted' && refundedBy !== undefined && sameSigner(refundedBy, signer);
        this.#charges = this.#charges.filter((each) => each !== charge && !refunded(each));
        return;
      }
      charge.settledAt = this.now();
      if (outcome === 'unknown') charge.refundedBy = signer;
    };
  }

  /** Drops the charges that aged out; a clock set back keeps them longer, never shorter. */
  #current(): Charge[] {
    const now = this.now();
    this.#charges = this.#charges.filter(
      ({ settledAt }) => settledAt === undefined || now - settledAt < this.rules.periodMs,
    );
    return this.#charges;
  }
}

function sameSigner(a: Signer, b: Signer): boolean {
  return a.layoutName === b.layoutName && sameKeyPair(a.keyPair, b.keyPair);
}
