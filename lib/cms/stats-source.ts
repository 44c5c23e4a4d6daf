import type { CallStatsOptions, CallStatsResult } from './client.js';
import type { LiveQueueRead } from './live-queue.js';
import type { CallStatsQuery } from './request.js';

/**
 * What the collector, the query API and the wallboard need of CMS: one VDN's current statistics, batch failures
 * reported in the result rather than thrown, alone (a closing read) or with its live queue, which a CMS may
 * lack. CmsClient is the product's one implementation; tests hand in fakes.
 */
export interface StatsSource {
  currentCallStats(query: CallStatsQuery, options: CallStatsOptions): Promise<CallStatsResult>;
  /** The counters and the live queue, both calls at once: the read costs the slower of the two. */
  read(query: CallStatsQuery, options: CallStatsOptions): Promise<VdnRead>;
}

/** One read of a VDN: its window counters and its live queue, asked for at the same moment. */
export interface VdnRead {
  readonly stats: CallStatsResult;
  readonly queue: LiveQueueRead;
}
