import type { LiveQueueRead, SkillQueueRecord } from '../../lib/cms/live-queue.js';
import { rollupQueue } from '../../lib/cms/queue-view.js';
import type { CallStatsQuery } from '../../lib/cms/request.js';
import type { StatsSource } from '../../lib/cms/stats-source.js';

/** The live queue of a fake CMS that lacks it (CTI 3.6). */
export const liveQueueMissing = (): LiveQueueRead => ({
  kind: 'unsupported',
  reason: 'this fake CMS has no live queue',
  requests: 0,
});

/** A live-queue read of these skills at `at`: [skillId, calls waiting, longest wait s, logged on, available]. */
export function liveQueueRead(
  at: number,
  skills: readonly (readonly [number, number, number, number, number])[],
): LiveQueueRead {
  const records = skills.map(
    ([skillId, callsWaiting, longestWaitSeconds, agentsLoggedOn, agentsAvailable]): SkillQueueRecord => ({
      skillId,
      callsWaiting,
      longestWaitSeconds,
      agentsLoggedOn,
      agentsAvailable,
      description: `Queue ${skillId}`,
    }),
  );
  return { kind: 'read', at, skills: records, total: rollupQueue(records), slowestBatchMs: 30, requests: 1 };
}

/**
 * A fake CMS from its counters and its live queue (default: it has none): a read that asks for the live queue
 * gets it in the same VdnRead, as from the real client.
 */
export function withLiveQueue(
  counters: StatsSource['currentCallStats'],
  liveQueue: (query: CallStatsQuery) => LiveQueueRead = liveQueueMissing,
): StatsSource {
  return {
    currentCallStats: async (query, options) => {
      const read = await counters(query, options);
      return options.liveQueue === true ? { ...read, liveQueue: liveQueue(query) } : read;
    },
  };
}
