import type { LiveQueueRead, SkillQueueRecord } from '../../lib/cms/live-queue.js';

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
