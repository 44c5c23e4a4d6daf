import { CmsAuthError } from '../errors.js';
import type { Log } from '../log.js';
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
 * Refused signatures one process may cause, ever. CMS locks the caller's IP after "too many" within a period it
 * does not publish; four is one try of each layout, and also bounds what re-reading a rotated secret may cost.
 */
export const MAX_REFUSED_SIGNATURES = 4;

/** Refusals an optional request leaves to the others (see SignatureNegotiation.turn). */
const OPTIONAL_RESERVE = 1;

/**
 * How a signed request ended, as far as the signature is concerned. `refusedKeyPair`: refused, but the key pair
 * turned out to have been rotated meanwhile, so the layout is not to blame.
 */
export type SignatureVerdict = 'accepted' | 'refused' | 'refusedKeyPair' | 'unknown';

/** The right to send one signed request; `settle` must be called once its answer (or failure) is known. */
export interface SigningTurn {
  readonly layoutName: SignatureLayoutName;
  readonly layout: SignatureLayout;
  settle(verdict: SignatureVerdict): void;
}

/**
 * The signature layout of one process, and the guard that keeps its refused signatures within
 * MAX_REFUSED_SIGNATURES whatever the number of targets, batches or retries.
 *
 * Until CMS has accepted a signature, one signed request is in flight at a time: concurrent batches wait for the
 * first answer instead of each being refused on its own. Once one is accepted, as many may be in flight as
 * refusals are left in the budget, so that even a key rotation hitting every request in flight cannot take the
 * process past the bound. With `auto`, each 401 before the first acceptance moves on to the next untried layout;
 * the first accepted one is kept for the life of the process.
 */
export class SignatureNegotiation {
  readonly #setting: SignatureSetting;
  readonly #candidates: readonly SignatureLayoutName[];
  readonly #log: Pick<Log, 'debug' | 'warn'> | undefined;
  #index = 0;
  #everAccepted = false;
  /** Whether the newest verdict was an acceptance: before it, or after a 401, requests go one at a time. */
  #trusted = false;
  #refusals = 0;
  #inFlight = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(setting: SignatureSetting, log?: Pick<Log, 'debug' | 'warn'>) {
    this.#setting = setting;
    this.#candidates = setting === 'auto' ? SIGNATURE_LAYOUT_NAMES : [setting];
    this.#log = log;
  }

  /** Signatures CMS has refused in this process. */
  get refusals(): number {
    return this.#refusals;
  }

  /** The layout the next request is signed in (undefined once every candidate has been refused). */
  get layoutName(): SignatureLayoutName | undefined {
    return this.#candidates[this.#index];
  }

  /**
   * Whether a request refused with 401 is worth sending again in another layout: only with `auto`, only before
   * CMS ever accepted a signature, and only while an untried layout and budget remain.
   */
  get mayTryAnotherLayout(): boolean {
    return this.#stopReason() === undefined && this.#setting === 'auto' && !this.#everAccepted;
  }

  /**
   * Waits for the right to send a signed request. Rejects with CmsAuthError when no more may be sent, or with
   * the signal's reason when it aborts first. An `optional` request (one the product can do without: the live
   * queue) never takes the budget's last refusal: it is sent only while, were it and every request in flight
   * refused, one would be left for the others, and refused at once when the budget can no longer leave one.
   */
  async turn(signal: AbortSignal, optional = false): Promise<SigningTurn> {
    const reserve = optional ? OPTIONAL_RESERVE : 0;
    for (;;) {
      signal.throwIfAborted();
      const stop = this.#stopReason();
      if (stop !== undefined) throw new CmsAuthError(stop);
      const left = MAX_REFUSED_SIGNATURES - this.#refusals;
      if (left <= reserve) {
        throw new CmsAuthError(
          `CMS refused ${this.#refusals} request signatures (HTTP 401) in this process; the last one it may ` +
            'cause is kept for the statistics, so optional requests (the live queue) are not signed until the ' +
            'process restarts',
        );
      }
      const layoutName = this.#candidates[this.#index];
      if (layoutName !== undefined && this.#inFlight < this.#capacity() && this.#inFlight + reserve < left) {
        this.#inFlight += 1;
        return this.#issue(layoutName);
      }
      await this.#nextVerdict(signal);
    }
  }

  /** The final error for a request refused with 401 that will not be sent again. */
  refusedError(): CmsAuthError {
    const stop = this.#stopReason();
    if (stop !== undefined) return new CmsAuthError(stop);
    if (this.#setting !== 'auto') {
      return new CmsAuthError(
        `CMS refused the request signature (HTTP 401) in layout CMS_SIGNATURE=${this.#setting}: check the access ` +
          'key, the secret key and the clock, or set CMS_SIGNATURE=auto to let the client find the layout',
      );
    }
    return new CmsAuthError(
      `CMS refused the request signature (HTTP 401) although it accepted layout ${this.layoutName} before: the ` +
        'key pair was probably rotated or the clock drifted',
    );
  }

  #capacity(): number {
    const left = MAX_REFUSED_SIGNATURES - this.#refusals;
    return this.#trusted ? left : Math.min(1, left);
  }

  #stopReason(): string | undefined {
    if (this.#refusals >= MAX_REFUSED_SIGNATURES) {
      return (
        `CMS refused ${this.#refusals} request signatures (HTTP 401) in this process; to keep CMS from locking ` +
        'this IP address no more requests are signed until the process restarts: check the key pair, the clock ' +
        'and CMS_SIGNATURE (cms-skill-metrics probe tells which)'
      );
    }
    if (this.layoutName === undefined) {
      return (
        `CMS refused the request signature (HTTP 401) in every layout (${SIGNATURE_LAYOUT_NAMES.join(', ')}): ` +
        'the access key or secret key is wrong, or the clock is off (cms-skill-metrics probe prints the offset)'
      );
    }
    return undefined;
  }

  #issue(layoutName: SignatureLayoutName): SigningTurn {
    let settled = false;
    return {
      layoutName,
      layout: SIGNATURE_LAYOUTS[layoutName],
      settle: (verdict) => {
        if (settled) return;
        settled = true;
        this.#inFlight -= 1;
        if (verdict === 'accepted') this.#accepted(layoutName);
        else if (verdict !== 'unknown') this.#refused(layoutName, verdict === 'refused');
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
    if (layoutSuspect && !this.#everAccepted && layoutName === this.layoutName && this.#setting === 'auto') {
      this.#index += 1;
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
