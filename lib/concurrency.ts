/**
 * A counting semaphore. The CMS client shares one across every call so that a burst of calls (a collector
 * fanning out over many VDNs, or concurrent API requests in one warm container) cannot open more requests
 * against CC-CMS than the operator allows.
 */
export class Limiter {
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly permits: number) {
    if (!Number.isInteger(permits) || permits < 1) {
      throw new RangeError(`a limiter needs a whole number of permits of at least 1, got ${permits}`);
    }
  }

  /** Tasks running now. */
  get active(): number {
    return this.#active;
  }

  /** Tasks waiting for a permit. */
  get pending(): number {
    return this.#waiting.length;
  }

  /**
   * Runs `task` once a permit is free, first come first served. If `signal` aborts while the task is still
   * waiting, it never starts and the promise rejects with the signal's reason.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#acquire(signal);
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  #acquire(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.#active < this.permits) {
      this.#active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const index = this.#waiting.indexOf(grant);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(grant);
    });
  }

  #release(): void {
    const next = this.#waiting.shift();
    // The permit passes straight to the next waiter, so a newcomer cannot overtake the queue.
    if (next) next();
    else this.#active -= 1;
  }
}

// --- deadlines ----------------------------------------------------------------------------------------------------

/** Time kept back from Lambda's remaining time, so that a handler still answers (and logs) before it is stopped. */
export const LAMBDA_SAFETY_MS = 1_000;

/**
 * The deadline (epoch ms) of one invocation that starts at `now`: Lambda's remaining time less LAMBDA_SAFETY_MS,
 * cut shorter by `limitMs` where a setting bounds the work. A direct invocation with a makeshift context may
 * report no usable remaining time: the limit then rules.
 */
export function invocationDeadline(
  remainingMs: number,
  now: number,
  limitMs = Number.POSITIVE_INFINITY,
): number {
  const lambdaBudget = remainingMs - LAMBDA_SAFETY_MS;
  return now + (Number.isFinite(lambdaBudget) ? Math.min(lambdaBudget, limitMs) : limitMs);
}

/** AbortSignal.timeout, like setTimeout, fires at once beyond this, so a longer wait needs no timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A signal that aborts, as AbortSignal.timeout does, once `remainingMs` have passed: at once when none are left,
 * never when more are left than a timer can hold.
 */
export function deadlineSignal(remainingMs: number): AbortSignal {
  if (remainingMs <= 0) {
    return AbortSignal.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  }
  return remainingMs <= MAX_TIMER_MS
    ? AbortSignal.timeout(Math.ceil(remainingMs))
    : new AbortController().signal;
}
