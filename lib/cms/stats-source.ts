import type { CallStatsOptions, CallStatsResult } from './client.js';
import type { LiveQueueRead } from './live-queue.js';
import type { CallStatsQuery } from './request.js';

/**
 * What the collector, the query API and the wallboard need of CMS: one VDN's current statistics, batch failures
 * reported in the result rather than thrown, and its live queue, which a CMS may lack. CmsClient is the
 * product's one implementation; tests hand in fakes.
 */
export interface StatsSource {
  currentCallStats(query: CallStatsQuery, options: CallStatsOptions): Promise<CallStatsResult>;
  liveQueue(query: CallStatsQuery, options: CallStatsOptions): Promise<LiveQueueRead>;
}

/** One read of a VDN: its window counters and its live queue, asked for at the same moment. */
export interface VdnRead {
  readonly stats: CallStatsResult;
  readonly queue: LiveQueueRead;
}

/**
 * Both calls of one read go out together, so that a read costs the slower of the two round trips, not their
 * sum, and both describe the same moment.
 */
export async function readVdn(
  source: StatsSource,
  query: CallStatsQuery,
  options: CallStatsOptions,
): Promise<VdnRead> {
  const [stats, queue] = await Promise.all([
    source.currentCallStats(query, options),
    source.liveQueue(query, options),
  ]);
  return { stats, queue };
}
