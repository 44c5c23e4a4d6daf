import { CoalescingCache } from '../api/cache.js';
import { describeError, type Log } from '../log.js';
import type { Datum, MetricSink } from '../metrics/metric-sink.js';

// How the wallboard reads back what the collector published (its health, the VDN's day so far): in the
// deployment, a CloudWatch read shared by every viewer of a container for a while, a failure being a reading that
// says so; in a local run, the datums caught on their way to the sink.

export type VdnRef = { readonly ccId: number; readonly vdn: number };

/** CloudWatch could not be read: what the wallboard shows instead of the figures. */
interface Unavailable {
  readonly kind: 'unavailable';
  readonly reason: string;
}

/** `sink` with every datum shown to `observe` before it is published. */
export function observedSink(sink: MetricSink, observe: (datums: readonly Datum[]) => void): MetricSink {
  return {
    publish: (datums) => {
      observe(datums);
      return sink.publish(datums);
    },
  };
}

interface SharedReadBackOptions {
  readonly ttlMs: number;
  readonly now: () => number;
  readonly log: Log;
  /** What is read, for the log line of a failure (`collector health`). */
  readonly what: string;
}

/** One CloudWatch read per key, shared by every viewer for `ttlMs`; a failure is logged and read as unavailable. */
export class SharedReadBack<T> {
  readonly #cache: CoalescingCache<T>;

  constructor(private readonly options: SharedReadBackOptions) {
    this.#cache = new CoalescingCache({ ttlMs: options.ttlMs, maxEntries: 256, now: options.now });
  }

  async read(vdn: VdnRef, key: string, load: () => Promise<T>): Promise<T | Unavailable> {
    try {
      const { value } = await this.#cache.get(key, load);
      return value;
    } catch (error) {
      this.options.log.warn(`wallboard: ${this.options.what} could not be read`, {
        ccId: vdn.ccId,
        vdn: vdn.vdn,
        error: describeError(error),
      });
      // The error's name (AccessDenied, TimeoutError...) says what to fix; its message may name resources.
      const name = error instanceof Error ? error.name : 'error';
      return { kind: 'unavailable', reason: `CloudWatch could not be read: ${name}` };
    }
  }
}
