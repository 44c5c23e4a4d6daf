import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CmsError, CmsIpLockedError } from '../errors.js';
import type { SkillStats } from '../model.js';
import { type BatchAnswer, SignatureRefused } from './attempt.js';
import type { CallStop } from './call-stop.js';
import type { SignatureNegotiation } from './signature-negotiation.js';

/** Full-jitter exponential backoff: spreads the retries of many batches instead of synchronising them. */
const BACKOFF = { baseMs: 100, capMs: 2_000 } as const;

export type BatchOutcome<R = SkillStats> =
  | ({ readonly skillIds: readonly number[]; readonly ms: number } & BatchAnswer<R>)
  | { readonly skillIds: readonly number[]; readonly ms: number; readonly error: CmsError };

export interface RetryPolicy {
  readonly maxAttempts: number;
  /** The backoff jitter, in [0, 1). */
  readonly random: () => number;
  /** Decides whether a refused signature is worth another layout, and what to report when it is not. */
  readonly negotiation: SignatureNegotiation;
}

/**
 * Attempts one batch until it has an answer or fails for good, and reports which, with the time it took:
 * retryable failures within maxAttempts and the deadline, a 401 in another layout or with a rotated key pair,
 * and failures every batch would meet (an IP lock, the refused-signature budget) stop the call's other batches.
 */
export async function fetchBatch<R>(
  skillIds: readonly number[],
  attempt: (mayRefresh: boolean) => Promise<BatchAnswer<R>>,
  stop: CallStop,
  policy: RetryPolicy,
): Promise<BatchOutcome<R>> {
  const started = performance.now();
  const outcome = (result: BatchAnswer<R> | { error: CmsError }): BatchOutcome<R> => ({
    skillIds,
    ms: Math.round(performance.now() - started),
    ...result,
  });
  let failedAttempts = 0;
  let reauthenticated = false;
  for (;;) {
    let error: CmsError;
    try {
      return outcome(await attempt(!reauthenticated));
    } catch (caught) {
      if (!(caught instanceof CmsError)) throw caught;
      error = caught;
    }
    if (error instanceof CmsIpLockedError) {
      // Every further request would be refused too and could prolong the lock: the call's other batches stop.
      stop.abort(error);
      return outcome({ error });
    }
    if (error instanceof SignatureRefused) {
      if (error.refresh !== 'notTried') reauthenticated = true;
      if (error.refresh instanceof CmsError) return outcome({ error: error.refresh });
      if (stop.signal.aborted) return outcome({ error: policy.negotiation.refusedError() });
      // A rotated key pair gets one try of its own, outside the retry budget of the old one.
      if (error.refresh === 'rotated' || policy.negotiation.mayTryAnotherLayout) continue;
      // The call's other batches would be refused alike: each refusal brings CMS's IP lock closer.
      const refused = policy.negotiation.refusedError();
      stop.abort(refused);
      return outcome({ error: refused });
    }
    failedAttempts += 1;
    if (!error.retryable || failedAttempts >= policy.maxAttempts || stop.signal.aborted) {
      return outcome({ error });
    }
    const delay = policy.random() * Math.min(BACKOFF.capMs, BACKOFF.baseMs * 2 ** (failedAttempts - 1));
    if (performance.now() + delay >= stop.deadlineAt) return outcome({ error });
    // A stop during the backoff rejects the sleep; the batch then reports its own last failure.
    const slept = await sleep(delay, true, { signal: stop.signal }).catch(() => false);
    if (!slept) return outcome({ error });
  }
}
