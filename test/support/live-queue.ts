import type { LiveQueueRead, SkillQueueRecord } from '../../lib/cms/live-queue.js';
import type { CallStatsQuery } from '../../lib/cms/request.js';
import type { StatsSource } from '../../lib/cms/stats-source.js';

/** The live queue of a fake CMS that lacks it (CTI 3.6): the counters are all such a source answers. */
export const liveQueueMissing = async (): Promise<LiveQueueRead> => ({
  kind: 'unsupported',
  reason: 'this fake CMS has no live queue',
  requests: 0,
});

/** A live-queue read of these skills at `at`: [skillId, calls waiting, longest wait s, logged on, available]. */
export function liveQueueRead(
  at: number,
  skills: readonly (readonly [number, number, number, number, number])[],
): LiveQueueRead {
  return {
    kind: 'read',
    at,
    skills: skills.map(
      ([skillId, callsWaiting, longestWaitSeconds, agentsLoggedOn, agentsAvailable]): SkillQueueRecord => ({
        skillId,
        callsWaiting,
        longestWaitSeconds,
        agentsLoggedOn,
        agentsAvailable,
        description: `Queue ${skillId}`,
      }),
    ),
    slowestBatchMs: 30,
    requests: 1,
  };
}

/**
 * A fake CMS from its counters and, optionally, its live queue (default: it has none). A read asks both at
 * once, as the real client does.
 */
export function fakeSource(
  currentCallStats: StatsSource['currentCallStats'],
  liveQueue: (query: CallStatsQuery) => Promise<LiveQueueRead> = liveQueueMissing,
): StatsSource {
  return {
    currentCallStats,
    read: async (query, options) => {
      const [stats, queue] = await Promise.all([currentCallStats(query, options), liveQueue(query)]);
      return { stats, queue };
    },
  };
}
