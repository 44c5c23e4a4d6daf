import { LIVE_QUEUE_METRICS, type SkillQueue } from '../model.js';

// The live queue's figures as the product shows them (metrics.md, "Live queue"): a skill's four figures, and a
// VDN's two, each by the roll-up its metric names (the sum of calls waiting, the maximum of the longest wait).
// Agents have no VDN figure: an agent may serve several skills, so their counts do not add up.

/** A skill's live queue in the query API and the wallboard. */
export interface QueueView {
  readonly callsWaiting: number;
  readonly longestWaitSeconds: number;
  readonly agentsLoggedOn: number;
  readonly agentsAvailable: number;
}

/** A VDN's live queue: calls waiting over all its skills, and the longest wait among them. */
export interface QueueRollup {
  readonly callsWaiting: number;
  readonly longestWaitSeconds: number;
}

export function queueView(skill: SkillQueue): QueueView {
  const { callsWaiting, longestWaitSeconds, agentsLoggedOn, agentsAvailable } = skill;
  return { callsWaiting, longestWaitSeconds, agentsLoggedOn, agentsAvailable };
}

/** The VDN figures of these skills, each rolled up as its metric says; 0 waiting and 0 s for no skill. */
export function rollupQueue(skills: readonly SkillQueue[]): QueueRollup {
  const value = (metric: (typeof LIVE_QUEUE_METRICS)[number]): number => {
    const values = skills.map((skill) => skill[metric.field]);
    return metric.rollup === 'sum' ? values.reduce((sum, each) => sum + each, 0) : Math.max(0, ...values);
  };
  return Object.fromEntries(LIVE_QUEUE_METRICS.map((metric) => [metric.field, value(metric)])) as Record<
    (typeof LIVE_QUEUE_METRICS)[number]['field'],
    number
  >;
}
