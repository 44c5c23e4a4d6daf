/**
 * A VdnRead as the CMS client builds it, for fakes of StatsSource: the batches' answers go through the product's
 * own vdnRead, so a fake is held to the same window rule, clock rule and totals as CMS's real answers.
 */

import { buildReport } from '../../lib/api/report.js';
import type { BatchOutcome } from '../../lib/cms/batch.js';
import type { LiveQueueRead } from '../../lib/cms/live-queue.js';
import { type VdnRead, vdnRead } from '../../lib/cms/vdn-read.js';
import { alignedWindowStart } from '../../lib/cms/window.js';
import type { CmsError } from '../../lib/errors.js';
import type { SkillStats, Target } from '../../lib/model.js';

export interface FakeAnswer {
  /** What CMS returned; `windowStart` as CMS sent its `startTime` (aligned here, as the parser does). */
  readonly skills?: readonly SkillStats[];
  /** CMS's time when it answered, sent as an IMF-fixdate `Date` header (whole seconds). */
  readonly cmsAt?: number;
  /** The `Date` header as sent, instead of `cmsAt`'s. */
  readonly date?: string;
  /** Our clock when the answer arrived; default `cmsAt`, else the newest window's start plus a minute. */
  readonly localAt?: number;
  /** Batches that failed, and why. */
  readonly failures?: readonly { readonly skillIds: readonly number[]; readonly error: CmsError }[];
  /** The slowest batch; default 40 ms. */
  readonly ms?: number;
  readonly requests?: number;
  /** The live queue's read, when the fake was asked for it. */
  readonly liveQueue?: LiveQueueRead | undefined;
}

export function readOf(target: Target, answer: FakeAnswer = {}): VdnRead {
  const records = (answer.skills ?? []).map((skill) => ({
    ...skill,
    windowStart: alignedWindowStart(skill.windowStart),
  }));
  const ms = answer.ms ?? 40;
  const failed = new Set(answer.failures?.flatMap((failure) => failure.skillIds));
  const asked = target.skillIds.filter((skillId) => !failed.has(skillId));
  const newest = Math.max(0, ...records.map((record) => record.windowStart));
  const localAt = answer.localAt ?? answer.cmsAt ?? newest + 60_000;
  const date = answer.date ?? (answer.cmsAt === undefined ? undefined : new Date(answer.cmsAt).toUTCString());
  const outcomes: BatchOutcome[] = [
    ...(asked.length > 0 ? [{ skillIds: asked, ms, records, clock: { date, localAt } }] : []),
    ...(answer.failures ?? []).map((failure) => ({ ...failure, ms })),
  ];
  return vdnRead(target, outcomes, {
    requests: answer.requests ?? 1,
    credentialMs: 0,
    now: localAt,
    liveQueue: answer.liveQueue,
  });
}

/** The report of what CMS answered for a VDN, read as the client reads it (readOf). */
export function reportOf(
  answer: {
    ccId: number;
    vdn: number;
    skills: readonly SkillStats[];
    missingSkillIds: readonly number[];
  },
  liveQueue?: LiveQueueRead,
) {
  const skillIds = [...answer.skills.map((each) => each.skillId), ...answer.missingSkillIds];
  return buildReport(
    readOf({ ccId: answer.ccId, vdn: answer.vdn, skillIds }, { skills: answer.skills, liveQueue }),
  );
}
