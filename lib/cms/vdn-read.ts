import { CmsWindowError } from '../errors.js';
import { newestWindow, type Rollup, rollup } from '../kpi.js';
import type { SkillStats, Target } from '../model.js';
import type { BatchOutcome } from './batch.js';
import { type CmsClock, type CmsClockReading, cmsClock, hasEnded } from './clock.js';
import type { LiveQueueRead } from './live-queue.js';
import { windowStartProblem } from './window.js';

// What CMS said about one VDN in one call, its counters and its live queue: the one shape the collector, the
// query API, the wallboard and the CLI read CMS through. It is built once, here, from the answers of the call's batches: sorted, held to the window
// rule and CMS's clock, and totalled, so that no reader sorts, filters or sums it again.

/** Skills that could not be had, and why. */
interface ReadFailure {
  readonly skillIds: readonly number[];
  readonly error: Error;
}

/** `skillIds` (of Target) are the skills asked for: validated, sorted, unique. */
export interface VdnRead extends Target {
  /** Current data, sorted by skill id: skills asked for, none of a window CMS's own clock says has ended. */
  readonly skills: readonly SkillStats[];
  /** Every skill of the newest aligned window among `skills`, summed; undefined when there are none. */
  readonly total: Rollup | undefined;
  /** Asked for in a batch that succeeded, but not returned; ascending. */
  readonly missingSkillIds: readonly number[];
  /** Returned with data of a window CMS's own clock says has ended: refused, a data-quality warning each. */
  readonly endedSkillIds: readonly number[];
  /** Batches that failed for good: their skills are neither in `skills` nor missing. */
  readonly failures: readonly ReadFailure[];
  /** CMS's latency: its slowest batch, retries included, credential reads not; undefined when nothing was sent. */
  readonly latencyMs: number | undefined;
  /** HTTP requests made (attempts), for health and benchmarks. */
  readonly requests: number;
  /** CMS's clock at its earliest answer, or why it gave none; undefined when no window came back to judge by. */
  readonly clock: CmsClock | undefined;
  /**
   * The VDN's live queue (`totalskillstatusex3`), read at the same time as the counters: each skill's figures
   * and the VDN's roll-up, or why there are none; undefined when it was not asked for (a closing read).
   */
  readonly liveQueue: LiveQueueRead | undefined;
}

export interface CallFacts {
  readonly requests: number;
  /** Time the batches spent reading the key pair again (after a 401): not CMS's. */
  readonly credentialMs: number;
  /** Our clock when the call ended, against which window starts are judged. */
  readonly now: number;
  /** The live queue's read, when it was asked for. */
  readonly liveQueue?: LiveQueueRead | undefined;
}

/**
 * The read of one call from its batches. CMS data is untrusted: one skill whose window start cannot be the
 * current window (window.ts) makes the whole answer a protocol error, since the roll-up, the timestamps and
 * DataAge would all be built on it; batches that failed on their own keep their own error.
 */
export function vdnRead(target: Target, outcomes: readonly BatchOutcome[], call: CallFacts): VdnRead {
  let returned: SkillStats[] = [];
  let missing: number[] = [];
  const failures: ReadFailure[] = [];
  const readings: CmsClockReading[] = [];
  for (const outcome of outcomes) {
    if ('error' in outcome) {
      failures.push({ skillIds: outcome.skillIds, error: outcome.error });
      continue;
    }
    readings.push(outcome.clock);
    // A server may answer for skills it was not asked about; only this batch's skills count.
    const bySkill = new Map(outcome.records.map((record) => [record.skillId, record]));
    for (const skillId of outcome.skillIds) {
      const record = bySkill.get(skillId);
      if (record) returned.push(record);
      else missing.push(skillId);
    }
  }
  for (const skill of returned) {
    const problem = windowStartProblem(skill.windowStart, call.now);
    if (problem === undefined) continue;
    const answered = [...returned.map((each) => each.skillId), ...missing].sort((a, b) => a - b);
    failures.push({
      skillIds: answered,
      error: new CmsWindowError(skill.skillId, skill.windowStart, problem),
    });
    returned = [];
    missing = [];
    break;
  }
  const clock = cmsClock(readings, newestWindow(returned));
  const time = clock !== undefined && 'cmsAt' in clock ? clock : undefined;
  const ended = (skill: SkillStats) => time !== undefined && hasEnded(skill.windowStart, time);
  const skills = returned.filter((skill) => !ended(skill)).sort((a, b) => a.skillId - b.skillId);
  const slowestMs = Math.max(0, ...outcomes.map((outcome) => outcome.ms));
  return {
    ccId: target.ccId,
    vdn: target.vdn,
    skillIds: target.skillIds,
    skills,
    total: rollup(skills),
    missingSkillIds: missing.sort((a, b) => a - b),
    endedSkillIds: returned
      .filter(ended)
      .map((skill) => skill.skillId)
      .sort((a, b) => a - b),
    failures,
    latencyMs: call.requests === 0 ? undefined : Math.max(0, slowestMs - call.credentialMs),
    requests: call.requests,
    clock,
    liveQueue: call.liveQueue,
  };
}

/** The read of a call that failed as a whole (the key pair could not be read, say): nothing was sent. */
export function failedRead(target: Target, error: Error): VdnRead {
  const { ccId, vdn, skillIds } = target;
  return {
    ccId,
    vdn,
    skillIds,
    skills: [],
    total: undefined,
    missingSkillIds: [],
    endedSkillIds: [],
    failures: [{ skillIds, error }],
    latencyMs: undefined,
    requests: 0,
    clock: undefined,
    liveQueue: undefined,
  };
}
