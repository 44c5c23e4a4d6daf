import { CmsAuthError, type CmsError, CmsSigningPausedError, CmsSigningReservedError } from '../errors.js';
import type { Log } from '../log.js';
import type { CmsCredentials } from './credentials.js';
import { RefusalBudget, type RefusalRules, type SettleCharge } from './refusal-budget.js';
import {
  SIGNATURE_LAYOUT_NAMES,
  SIGNATURE_LAYOUTS,
  type SignatureLayout,
  type SignatureLayoutName,
} from './sign.js';

/** CMS_SIGNATURE: one layout pinned, or `auto` to find the one CMS accepts. */
export type SignatureSetting = 'auto' | SignatureLayoutName;
export const SIGNATURE_SETTINGS: readonly SignatureSetting[] = ['auto', ...SIGNATURE_LAYOUT_NAMES];

/**
/** Charges of the refusal budget an optional request leaves free for the others (see SignatureNegotiation.turn). */
const OPTIONAL_RESERVE = 1;

/**
 * How a signed request ended, as far as the signature is concerned. `refusedKeyPair`: refused, but the key pair
 * turned out to have been rotated meanwhile, so the layout is not to blame. `unknown`: sent, but no status line
 * was seen (a timeout, a reset). `notRefused`: CMS cannot have counted it, because no connection
 * was established, or because the answer was another status than 200 and 401 (a proxy's 5xx, the lock's 403).
 */
export type SignatureVerdict = 'accepted' | 'refused' | 'refusedKeyPair' | 'unknown' | 'notRefused';

/** The right to send one signed request; `settle` must be called once its answer (or failure) is known. */
export interface SigningTurn {
  readonly layoutName: SignatureLayoutName;
  readonly layout: SignatureLayout;
  settle(verdict: SignatureVerdict, keyPair: CmsCredentials): void;
}

/**
 * The signature layout of one process, and its refusal budget (lib/cms/refusal-budget.ts): every target, batch,
 * retry and secret re-read takes its turn here, and no turn is given while the budget is spent.
 *
 * Until CMS has accepted a signature, one signed request is in flight at a time: concurrent batches wait for the
 * first answer instead of each being refused on its own. Once one is accepted, as many may be in flight as the
 * budget has room for. With `auto`, each 401 before the first acceptance moves on to the next layout; the first
 * accepted one is kept for the life of the process. A search that ran out of layouts starts again from the first
 * a period later: a CMS that refused a good layout once, by mistake, is then found after all.
 */
export class SignatureNegotiation {
  readonly #setting: SignatureSetting;
  readonly #candidates: readonly SignatureLayoutName[];
  readonly #log: Pick<Log, 'debug' | 'warn'> | undefined;
  readonly #budget: RefusalBudget;
  readonly #rules: RefusalRules;
  readonly #now: () => number;
  #index = 0;
  /** When the last layout of the search was refused. */
  #searchEndedAt: number | undefined;
  #everAccepted = false;
  /** Whether the newest verdict was an acceptance: before it, or after a 401, requests go one at a time. */
  #trusted = false;
  #refusals = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(
    setting: SignatureSetting,
    rules: RefusalRules,
    now: () => number,
    log?: Pick<Log, 'debug' | 'warn'>,
  ) {
    this.#setting = setting;
    this.#candidates = setting === 'auto' ? SIGNATURE_LAYOUT_NAMES : [setting];
    this.#budget = new RefusalBudget(rules, now);
    this.#rules = rules;
    this.#now = now;
    this.#log = log;
  }

  /**
   * Whether a request refused with 401 is worth sending again in another layout: only with `auto`, only before
   * CMS ever accepted a signature, and only while signing is not paused.
   */
  get mayTryAnotherLayout(): boolean {
    return this.#paused() === undefined && this.#setting === 'auto' && !this.#everAccepted;
  }

  /**
   * Waits for the right to send a signed request. Rejects with CmsSigningPausedError while no more may be sent,
   * or with the signal's reason when it aborts first. An `optional` request (one the product can do without: the
   * live queue) never takes the budget's last charge: it is signed only while, were it and every request in
   * flight refused, one charge would still be free for the others. It waits while a request in flight may yet
   * be refunded, and is rejected with CmsSigningReservedError when nothing in flight can free one; the budget
   * recovers as its charges age out, and optional requests are signed again.
   */
  async turn(signal: AbortSignal, optional = false): Promise<SigningTurn> {
    for (;;) {
      signal.throwIfAborted();
      const paused = this.#paused();
      if (paused !== undefined) throw paused;
      const layoutName = this.#candidates[this.#index];
      if (optional && this.#budget.room <= OPTIONAL_RESERVE) {
        if (this.#budget.inFlight === 0) throw this.#reserved();
      } else if (layoutName !== undefined && (this.#trusted || this.#budget.inFlight === 0)) {
        const settleCharge = this.#budget.reserve();
        if (settleCharge) return this.#issue(layoutName, settleCharge);
      }
      await this.#nextVerdict(signal);
    }
  }

  /** The final error for a request refused with 401 that will not be sent again. */
  refusedError(): CmsError {
    const paused = this.#paused();
    if (paused !== undefined) return paused;
    if (this.#setting !== 'auto') {
      return new CmsAuthError(
        `CMS refused the request signature (HTTP 401) in layout CMS_SIGNATURE=${this.#setting}: check the access ` +
          'key, the secret key and the clock, or set CMS_SIGNATURE=auto to let the client find the layout',
      );
    }
    return new CmsAuthError(
      `CMS refused the request signature (HTTP 401) although it accepted layout ${this.#candidates[this.#index]} ` +
        'before: the key pair was probably rotated or the clock drifted',
    );
  }

  /** Why nothing may be signed now, and until when; undefined when signing may go on. */
  #paused(): CmsSigningPausedError | undefined {
    const now = this.#now();
    if (this.#searchEndedAt !== undefined) {
      const resumesAt = this.#searchEndedAt + this.#rules.periodMs;
      if (now < resumesAt) {
        return new CmsSigningPausedError(
          `CMS refused the request signature (HTTP 401) in every layout (${SIGNATURE_LAYOUT_NAMES.join(', ')}): ` +
            'the access key or secret key is wrong, or the clock is off',
          resumesAt,
        );
      }
      this.#index = 0;
      this.#searchEndedAt = undefined;
    }
    if (this.#budget.room > 0 || this.#budget.inFlight > 0) return undefined;
    return new CmsSigningPausedError(
      `${this.#rules.limit} signed requests were refused (HTTP 401) or got no answer within ` +
        `${this.#rules.periodMs / 1_000} s`,
      this.#budget.resumesAt,
    );
  }

  /** Why an optional request is not signed now: the budget's last free charge is kept for the others. */
  #reserved(): CmsSigningReservedError {
    const resumesAt = this.#budget.resumesAt;
    return new CmsSigningReservedError(
      this.#rules.limit - this.#budget.room,
      this.#rules.limit,
      Number.isFinite(resumesAt) ? resumesAt : undefined,
    );
  }

  #issue(layoutName: SignatureLayoutName, settleCharge: SettleCharge): SigningTurn {
    let settled = false;
    return {
      layoutName,
      layout: SIGNATURE_LAYOUTS[layoutName],
      settle: (verdict, keyPair) => {
        if (settled) return;
        settled = true;
        settleCharge(verdict === 'refusedKeyPair' ? 'refused' : verdict, { keyPair, layoutName });
        if (verdict === 'accepted') this.#accepted(layoutName);
        else if (verdict === 'refused' || verdict === 'refusedKeyPair') {
          this.#refused(layoutName, verdict === 'refused');
        }
        for (const wake of this.#waiting.splice(0)) wake();
      },
    };
  }

  #accepted(layoutName: SignatureLayoutName): void {
    this.#trusted = true;
    if (this.#everAccepted) return;
    this.#everAccepted = true;
    if (this.#setting !== 'auto') return;
    const fields = {
      signatureLayout: layoutName,
      refusedSignatures: this.#refusals,
      pin: `CMS_SIGNATURE=${layoutName}`,
    };
    // Negotiating costs refused signatures at every cold start; the operator should pin what was found.
    if (this.#refusals > 0) {
      this.#log?.warn(
        `CMS accepted the C2 signature layout ${layoutName} after refusing ${this.#refusals}; set CMS_SIGNATURE=${layoutName} to pin it`,
        fields,
      );
    } else {
      this.#log?.debug(`CMS accepted the C2 signature layout ${layoutName}`, fields);
    }
  }

  #refused(layoutName: SignatureLayoutName, layoutSuspect: boolean): void {
    this.#refusals += 1;
    this.#trusted = false;
    // Only the layout in use moves on: a late 401 for a layout already abandoned says nothing new.
    const current = this.#candidates[this.#index];
    if (layoutSuspect && !this.#everAccepted && layoutName === current && this.#setting === 'auto') {
      this.#index += 1;
      if (this.#index === this.#candidates.length) this.#searchEndedAt = this.#now();
    }
  }

  #nextVerdict(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#waiting.indexOf(wake);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(signal.reason);
      };
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(wake);
    });
  }
}
