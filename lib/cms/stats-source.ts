import type { CallStatsOptions } from './client.js';
import type { CallStatsQuery } from './request.js';
import type { VdnRead } from './vdn-read.js';

/**
 * What the collector, the query API and the wallboard need of CMS: one VDN's current statistics, with its live
 * queue when asked (a CMS may lack it), batch failures reported in the result rather than thrown. CmsClient is
 * the product's one implementation; tests hand in fakes.
 */
export interface StatsSource {
  currentCallStats(query: CallStatsQuery, options: CallStatsOptions): Promise<VdnRead>;
}
