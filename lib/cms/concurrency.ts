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
