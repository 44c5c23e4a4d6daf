import { performance } from 'node:perf_hooks';
import { deadlineSignal } from '../concurrency.js';
import { CmsError, CmsTimeoutError } from '../errors.js';

// One call to CMS stops at its deadline, when the caller's signal aborts, or when one of its batches meets a
// failure the others would meet too. Whichever comes first, the signal's reason is the CmsError that every
// batch stopped by it reports, so nothing downstream has to tell the causes apart.

export interface CallStop {
  /** Aborts with a CmsError reason. */
  readonly signal: AbortSignal;
  /** performance.now() value of the deadline: immune to wall-clock steps during the call. */
  readonly deadlineAt: number;
  /** Stops the call's other batches with `reason` as their error. */
  abort(reason: CmsError): void;
  /** Lets go of the caller's signal once the call is over. */
  dispose(): void;
}

/** The stop of a call with `remainingMs` until its deadline, cancelled with `caller` as well. */
export function stopForCall(remainingMs: number, caller: AbortSignal | undefined): CallStop {
  const controller = new AbortController();
  const deadline = deadlineSignal(remainingMs);
  const limit = AbortSignal.any([deadline, caller].filter((signal) => signal !== undefined));
  const onLimit = (): void => {
    // The deadline's and a caller's reasons are both bare DOMExceptions: only the source says which one passed.
    // A caller that stops the call for a CMS reason (an IP lock found by another call) passes that reason on.
    const callerReason: unknown = caller?.reason;
    controller.abort(
      deadline.aborted
        ? new CmsTimeoutError('the deadline passed before CMS answered')
        : callerReason instanceof CmsError
          ? callerReason
          : new CmsTimeoutError('the caller cancelled the request to CMS'),
    );
  };
  if (limit.aborted) onLimit();
  else limit.addEventListener('abort', onLimit, { once: true });
  return {
    signal: controller.signal,
    deadlineAt: performance.now() + remainingMs,
    abort: (reason) => controller.abort(reason),
    dispose: () => limit.removeEventListener('abort', onLimit),
  };
}
