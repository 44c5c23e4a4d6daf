// Identical queries share CMS calls: callers that arrive while a call is under way join it, and for `ttlMs` after
// it succeeded its answer is reused. A Lambda container serves one request at a time, so there the reuse is what
// counts (CMS sees at most one call per distinct query per container and period, and the stack caps the
// containers); where one process serves many callers at once (the local server, multi-concurrency hosts) joining
// calls in flight counts too. Failures are never kept: the next caller asks again.

/** Where an answer came from: a new load, a load another caller had started, or a stored answer. */
export type CacheSource = 'miss' | 'coalesced' | 'hit';

export interface CoalescingCacheOptions<V> {
  /** How long a successful load is reused; 0 keeps nothing (identical concurrent callers still share a load). */
  readonly ttlMs: number;
  /** Upper bound on stored answers; the oldest go first. */
  readonly maxEntries: number;
  /** Upper bound on the summed weight of stored answers (e.g. bytes); an answer heavier than that is not kept. */
  readonly maxWeight?: number;
  readonly weigh?: (value: V) => number;
  readonly now: () => number;
}

interface Entry<V> {
  readonly value: V;
  readonly storedAt: number;
  readonly weight: number;
}

export class CoalescingCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #inFlight = new Map<string, Promise<V>>();
  #weight = 0;

  constructor(private readonly options: CoalescingCacheOptions<V>) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError(`a cache needs room for at least one entry, got ${options.maxEntries}`);
    }
  }

  /** Stored answers (fresh or not yet pruned). */
  get size(): number {
    return this.#entries.size;
  }

  /** Summed weight of stored answers. */
  get weight(): number {
    return this.#weight;
  }

  async get(key: string, load: () => Promise<V>): Promise<{ value: V; source: CacheSource }> {
    const entry = this.#entries.get(key);
    if (entry) {
      if (this.#isFresh(entry)) return { value: entry.value, source: 'hit' };
      this.#remove(key, entry);
    }
    const pending = this.#inFlight.get(key);
    if (pending) return { value: await pending, source: 'coalesced' };

    const loading = (async () => {
      try {
        const value = await load();
        this.#store(key, value);
        return value;
      } finally {
        this.#inFlight.delete(key);
      }
    })();
    this.#inFlight.set(key, loading);
    return { value: await loading, source: 'miss' };
  }

  #isFresh(entry: Entry<V>): boolean {
    const age = this.options.now() - entry.storedAt;
    // A clock that stepped backwards makes an entry's age unknowable: treat it as stale rather than eternal.
    return age >= 0 && age < this.options.ttlMs;
  }

  #remove(key: string, entry: Entry<V>): void {
    this.#entries.delete(key);
    this.#weight -= entry.weight;
  }

  #store(key: string, value: V): void {
    if (this.options.ttlMs <= 0) return;
    const weight = this.options.weigh?.(value) ?? 0;
    const maxWeight = this.options.maxWeight ?? Number.POSITIVE_INFINITY;
    if (weight > maxWeight) return;
    const previous = this.#entries.get(key);
    if (previous) this.#remove(key, previous);
    for (const [storedKey, entry] of this.#entries) if (!this.#isFresh(entry)) this.#remove(storedKey, entry);
    // Map iteration follows insertion order, so the first entries are the oldest.
    for (const [storedKey, entry] of this.#entries) {
      if (this.#entries.size < this.options.maxEntries && this.#weight + weight <= maxWeight) break;
      this.#remove(storedKey, entry);
    }
    this.#entries.set(key, { value, storedAt: this.options.now(), weight });
    this.#weight += weight;
  }
}
