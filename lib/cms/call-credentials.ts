import { once } from 'node:events';
import { CmsAuthError, CmsError, CmsTimeoutError } from '../errors.js';
import { type CmsCredentials, type CredentialSource, sameKeyPair } from './credentials.js';

/** What re-reading the key pair after a 401 found: a new pair, the same pair, or a failure to read it. */
export type RefreshOutcome = 'rotated' | 'unchanged' | CmsError;

/**
 * The key pair the batches of one call sign with, and the one refresh a 401 may bring it. Every read is bounded
 * by the call's signal: a slow Secrets Manager costs the time left, never more.
 */
export class CallCredentials {
  #current: CmsCredentials;
  #refresh: Promise<CmsCredentials | CmsError> | undefined;

  private constructor(
    private readonly source: CredentialSource,
    private readonly signal: AbortSignal,
    first: CmsCredentials,
  ) {
    this.#current = first;
  }

  /** Reads the key pair once, before any batch starts. A failure of the source itself is thrown as it is. */
  static async read(source: CredentialSource, signal: AbortSignal): Promise<CallCredentials> {
    const first = await untilAborted(
      source.current(signal),
      signal,
      'the deadline passed while the CMS credentials were being read',
    );
    return new CallCredentials(source, signal, first);
  }

  /** The key pair in use; a batch that waited for its turn signs with a pair refreshed meanwhile. */
  get current(): CmsCredentials {
    return this.#current;
  }

  /**
   * After a 401 with `used`: whether the source now holds another pair (worth a retry; it becomes the call's
   * pair), or the error if the source could not be read. The refresh runs once per call, however many batches
   * were refused.
   */
  async refreshedAfter401(used: CmsCredentials): Promise<RefreshOutcome> {
    // A pair already refreshed by another call of this process counts as the rotation: no second read.
    this.#refresh ??= untilAborted(
      this.#latest(used),
      this.signal,
      'the deadline passed while the CMS credentials were being read again',
    ).then(
      (fresh) => {
        this.#current = fresh;
        return fresh;
      },
      (error: unknown) => (error instanceof CmsError ? error : new CmsAuthError(undefined, { cause: error })),
    );
    const fresh = await this.#refresh;
    if (fresh instanceof CmsError) return fresh;
    return sameKeyPair(fresh, used) ? 'unchanged' : 'rotated';
  }

  async #latest(used: CmsCredentials): Promise<CmsCredentials> {
    const current = await this.source.current(this.signal);
    return sameKeyPair(current, used) ? this.source.refresh(this.signal) : current;
  }
}

/**
 * `work`'s outcome, or as soon as `signal` aborts its reason: a CmsTimeoutError saying `what` when the deadline
 * passed, the CMS failure that stopped the call (an IP lock) otherwise.
 */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  const decided = new AbortController();
  try {
    // Only waits for the first of the two; which one decides is read from the signal below.
    await Promise.race([work, signal.aborted || once(signal, 'abort', { signal: decided.signal })]).catch(
      () => undefined,
    );
  } finally {
    decided.abort();
  }
  // Once the call is stopped, that is the cause, even when a source listening to the same signal gave up first
  // with an error of its own.
  if (!signal.aborted) return work;
  const reason: unknown = signal.reason;
  throw reason instanceof CmsError && !(reason instanceof CmsTimeoutError)
    ? reason
    : new CmsTimeoutError(what);
}
