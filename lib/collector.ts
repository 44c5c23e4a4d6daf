import { setTimeout as delay } from 'node:timers/promises';
import type { ClosingReadSettings } from './closing-read.js';
import type { StatsSource } from './cms/stats-source.js';
import {
  type ClosingSummary,
  planClosingReads,
  type TargetRead,
  takeClosingReads,
} from './collector-closing.js';
import { type LiveQueueSummary, recordLiveQueues, summarizeLiveQueues } from './collector-live-queue.js';
import { AppError, CmsIpLockedError, CmsWindowError } from './errors.js';
import { checkConsistency } from './kpi.js';
import { describeError, type Log } from './log.js';
import { buildDatums, type MetricSelection } from './metrics/build-datums.js';
import { liveQueueDatums } from './metrics/live-queue-datums.js';
import type { MetricSink } from './metrics/metric-sink.js';
import type { Target } from './model.js';
import { formatSkillList } from './skills.js';

// One run of the scheduled job: every target from CMS, KPIs derived, everything published.

export interface CollectorDeps {
  readonly cms: StatsSource;
  readonly sink: MetricSink;
  readonly log: Log;
  readonly now?: () => number;
  /** Waits on the run's clock (for a closing read); injectable so that tests need not wait for real. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface CollectionRun {
  readonly targets: readonly Target[];
  /** Epoch ms by which the run must have published (Lambda's remaining time less a margin). */
  readonly deadline: number;
  readonly selection: MetricSelection;
  /** Closing reads shortly before each window's end (lib/closing-read.ts); none when absent. */
  readonly closing?: ClosingReadSettings;
}

interface TargetFailure {
  readonly ccId: number;
  readonly vdn: number;
  readonly skillIds: string;
  readonly type: string;
  readonly code?: string;
  readonly message: string;
}

export interface RunSummary {
  readonly targets: number;
  readonly targetsSucceeded: number;
  readonly skillsRequested: number;
  readonly skillsReturned: number;
  readonly skillsMissing: number;
  readonly cmsRequests: number;
  readonly dataQualityWarnings: number;
  readonly datums: number;
  readonly datumsPublished: number;
  readonly publishCalls: number;
  readonly failures: readonly TargetFailure[];
  readonly publishFailures: readonly { readonly datums: number; readonly error: string }[];
  readonly closingReads: ClosingSummary;
  readonly liveQueue: LiveQueueSummary;
  readonly durationMs: number;
}

/**
 * Thrown after publishing when the run achieved nothing (no target collected, or no datum accepted), so that
 * Lambda's Errors metric and retries mean something. Partial failures only show in the summary and health metrics.
 */
export class CollectionFailedError extends AppError {
  readonly code = 'COLLECTION_FAILED';
  constructor(
    readonly summary: RunSummary,
    reason: string,
  ) {
    super(reason);
  }
}

/**
 * Publishing needs time too: CMS gets the run's time budget less this share, so a slow CMS cannot eat the time
 * needed to publish what did arrive (and the CollectionSuccess=0 that says what did not).
 */
const PUBLISH_RESERVE = { share: 0.25, minMs: 500, maxMs: 5_000 };

function cmsDeadline(now: number, deadline: number): number {
  const budget = Math.max(0, deadline - now);
  const reserve = Math.min(
    PUBLISH_RESERVE.maxMs,
    Math.max(PUBLISH_RESERVE.minMs, budget * PUBLISH_RESERVE.share),
  );
  return now + Math.max(0, budget - reserve);
}

interface TargetResult extends TargetRead {
  /** Data CMS sent that made this VDN's answer unusable (see lib/window.ts). */
  readonly dataQualityWarnings: number;
  readonly failures: TargetFailure[];
  readonly requests: number;
}

async function collectTarget(
  deps: CollectorDeps,
  target: Target,
  deadline: number,
  cmsLock: AbortController,
): Promise<TargetResult> {
  const now = deps.now ?? Date.now;
  const started = now();
  const failure = (skillIds: readonly number[], error: unknown): TargetFailure => ({
    ccId: target.ccId,
    vdn: target.vdn,
    skillIds: formatSkillList(skillIds),
    ...describeError(error),
  });
  try {
    const result = await deps.cms.currentCallStats(target, { deadline, signal: cmsLock.signal });
    // An IP lock refuses every target alike, and each further request could prolong it: the rest of the run
    // sends nothing more to CMS, and its VDNs report CollectionSuccess 0 with the same cause.
    const locked = result.failures.find((batch) => batch.error instanceof CmsIpLockedError);
    if (locked) cmsLock.abort(locked.error);
    const implausible = result.failures.flatMap(({ error }) =>
      error instanceof CmsWindowError ? [error] : [],
    );
    for (const error of implausible) {
      deps.log.warn('implausible window start from CMS: the VDN is not published', {
        ccId: target.ccId,
        vdn: target.vdn,
        skillId: error.skillId,
        startTime: error.startTime,
      });
    }
    return {
      dataQualityWarnings: implausible.length,
      target,
      clock: result.clock,
      outcome: {
        ccId: target.ccId,
        vdn: target.vdn,
        skills: result.skills,
        missingSkillIds: result.missingSkillIds,
        succeeded: result.failures.length === 0,
        slowestBatchMs: result.slowestBatchMs,
      },
      failures: result.failures.map((batch) => failure(batch.skillIds, batch.error)),
      requests: result.requests,
    };
  } catch (error) {
    // Whole-target failures (credentials unavailable, say) still publish CollectionSuccess=0 for the VDN.
    return {
      dataQualityWarnings: 0,
      target,
      clock: undefined,
      outcome: {
        ccId: target.ccId,
        vdn: target.vdn,
        skills: [],
        missingSkillIds: [],
        succeeded: false,
        slowestBatchMs: now() - started,
      },
      failures: [failure(target.skillIds, error)],
      requests: 0,
    };
  }
}

export async function runCollection(deps: CollectorDeps, run: CollectionRun): Promise<RunSummary> {
  const now = deps.now ?? Date.now;
  const started = now();
  const deadline = cmsDeadline(started, run.deadline);
  const cmsLock = new AbortController();
  // The normal read of each target takes its live queue along; the closing reads below do not.
  const live = recordLiveQueues(deps);
  const results = await Promise.all(
    run.targets.map((target) => collectTarget({ ...deps, cms: live.cms }, target, deadline, cmsLock)),
  );
  const liveQueue = summarizeLiveQueues(live.outcomes);

  let dataQualityWarnings = results.reduce((sum, result) => sum + result.dataQualityWarnings, 0);
  for (const { outcome } of results) {
    for (const skill of outcome.skills) {
      const warnings = checkConsistency(skill.counters);
      if (warnings.length === 0) continue;
      dataQualityWarnings += warnings.length;
      deps.log.warn('inconsistent counters from CMS: affected rates withheld', {
        ccId: outcome.ccId,
        vdn: outcome.vdn,
        skillId: skill.skillId,
        warnings: warnings.map((warning) => warning.detail),
      });
    }
  }
  const failures = results.flatMap((result) => result.failures);
  for (const { ccId, vdn, skillIds, ...error } of failures) {
    // Nested, so the cause cannot collide with the fixed keys of a log line (`message`, `level`...).
    deps.log.error('CMS collection failed', { ccId, vdn, skillIds, error });
  }

  const closingPlan = planClosingReads(results, {
    now: now(),
    deadline,
    settings: run.closing ?? { guardMs: 0, reachMs: 0 },
  });
  if (closingPlan.outOfReach > 0) {
    deps.log.warn('closing read out of reach: the run ends before the window does (raise the timeout)', {
      windows: closingPlan.outOfReach,
    });
  }
  const datums = [
    ...buildDatums(
      results.map((result) => result.outcome),
      { now: now(), selection: run.selection },
    ),
    ...closingPlan.coverage,
    ...liveQueueDatums(live.outcomes, { selection: run.selection }),
  ];
  // Publishing gets what is left of the run's time and no more, so the summary below is always logged.
  const publishBy = AbortSignal.timeout(Math.max(0, run.deadline - now()));
  const report = await deps.sink.publish(datums, { signal: publishBy });
  for (const failure of report.failures)
    deps.log.error('publishing failed', { datums: failure.datums, error: failure.error });

  // After the normal read is out, so that waiting for the window's end delays nothing already known.
  const closingReads = await takeClosingReads(
    {
      sink: { publish: (closing) => deps.sink.publish(closing, { signal: publishBy }) },
      log: deps.log,
      now,
      sleep: deps.sleep ?? ((ms) => delay(ms)),
      read: async (target, readDeadline) => {
        // After an IP lock the closing reads send nothing either: the lock's signal is already aborted.
        const result = await collectTarget(deps, target, readDeadline, cmsLock);
        for (const { ccId, vdn, skillIds, ...error } of result.failures) {
          deps.log.error('CMS closing read failed', { ccId, vdn, skillIds, error });
        }
        return result;
      },
    },
    closingPlan,
    { deadline, selection: run.selection },
  );

  const summary: RunSummary = {
    targets: run.targets.length,
    targetsSucceeded: results.filter((result) => result.outcome.succeeded).length,
    skillsRequested: run.targets.reduce((sum, target) => sum + target.skillIds.length, 0),
    skillsReturned: results.reduce((sum, result) => sum + result.outcome.skills.length, 0),
    skillsMissing: results.reduce((sum, result) => sum + result.outcome.missingSkillIds.length, 0),
    cmsRequests: results.reduce((sum, result) => sum + result.requests, 0) + liveQueue.requests,
    dataQualityWarnings,
    datums: datums.length,
    datumsPublished: report.published,
    publishCalls: report.calls,
    failures,
    publishFailures: report.failures,
    closingReads,
    liveQueue,
    durationMs: now() - started,
  };
  deps.log.info('collection run', { summary });
  if (results.every((result) => !result.outcome.succeeded && result.outcome.skills.length === 0)) {
    const causes = failures.map((f) => `${f.ccId}/${f.vdn}: ${f.code ?? f.type}`).join('; ');
    throw new CollectionFailedError(summary, `no target could be collected (${causes})`);
  }
  if (datums.length > 0 && report.published === 0) {
    throw new CollectionFailedError(summary, `none of the ${datums.length} datums could be published`);
  }
  return summary;
}
