import type { VdnRead } from '../cms/vdn-read.js';
import { LIVE_QUEUE_METRICS, type SkillQueue } from '../model.js';
import { byVdn, type DatumOptions, datum, isQuietVdn } from './build-datums.js';
import type { Datum } from './metric-sink.js';

// The live queue's datums (metrics.md, "Live queue"): per VDN `CallsWaiting` (the sum over its skills) and
// `LongestWaitTime` (their maximum, seconds), per skill only when the skill selection names them. They are
// instantaneous, so every one is stamped with the time of its read, not with a window's start.

/** What the live queue's datums need of a VDN's read: its window's total too, to know a quiet VDN. */
type LiveQueueOf = Pick<VdnRead, 'ccId' | 'vdn' | 'liveQueue' | 'total'>;

const isEmpty = (skill: SkillQueue): boolean => skill.callsWaiting === 0 && skill.longestWaitSeconds === 0;

function vdnLiveDatums(read: LiveQueueOf, options: Omit<DatumOptions, 'now'>): Datum[] {
  const live = read.liveQueue;
  // Nothing read, nothing published: the alarm treats a missing datapoint as not breaching.
  if (live?.kind !== 'read' || live.skills.length === 0) return [];
  // A quiet VDN (an idle window, nobody waiting) publishes no live queue, as it publishes no roll-up.
  if (isQuietVdn(read)) return [];
  const vdnDimensions = { CcId: String(read.ccId), Vdn: String(read.vdn) };
  const datums = LIVE_QUEUE_METRICS.filter((metric) => options.selection.vdn.has(metric.name)).map((metric) =>
    datum(metric.name, live.total[metric.field], live.at, vdnDimensions),
  );
  const perSkill = LIVE_QUEUE_METRICS.filter((metric) => options.selection.skill.has(metric.name));
  if (perSkill.length === 0) return datums;
  for (const skill of live.skills) {
    // An empty queue publishes nothing for its skill, as an idle window does: billed hours are busy hours.
    if (isEmpty(skill)) continue;
    const dimensions = { ...vdnDimensions, SkillId: String(skill.skillId) };
    for (const metric of perSkill) datums.push(datum(metric.name, skill[metric.field], live.at, dimensions));
  }
  return datums;
}

/**
 * The live-queue datums of a run, per VDN by call center then VDN: the VDN's figures, then each skill's by
 * ascending id. A VDN whose live queue was not read publishes none, nor does a quiet VDN (isQuietVdn).
 */
export function liveQueueDatums(reads: readonly LiveQueueOf[], options: Omit<DatumOptions, 'now'>): Datum[] {
  return byVdn(reads).flatMap((read) => vdnLiveDatums(read, options));
}
