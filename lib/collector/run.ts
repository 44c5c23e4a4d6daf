import { setTimeout as delay } from 'node:timers/promises';
import type { StatsSource } from '../cms/stats-source.js';
import { failedRead, type VdnRead } from '../cms/vdn-read.js';
import { deadlineLess, deadlineSignal, type Reserve } from '../deadline.js';
import { AppError, CmsIpLockedError, CmsWindowError } from '../errors.js';
import { checkConsistency } from '../kpi.js';
import { describeError, type Log } from '../log.js';
import { buildDatums, type MetricSelection } from '../metrics/build-datums.js';
import { liveQueueDatums } from '../metrics/live-queue-datums.js';
import type { MetricSink } from '../metrics/metric-sink.js';
import type { Target } from '../model.js';
import { formatSkillList } from '../skills.js';
import { clip } from '../text.js';
import { type ClosingSummary, planClosingReads, takeClosingReads } from './closing.js';
import type { ClosingReadSettings } from './closing-read.js';
import { type LiveQueueSummary, logLiveQueueFailures, summarizeLiveQueues } from './live-queue.js';
import { OTLP_RESERVE, type OtlpRunSummary, RunExport, type SkillHistoryExport } from './otlp.js';

// One run of the scheduled job: every target from CMS, KPIs derived, everything published.

export interface CollectorDeps {
  readonly cms: StatsSource;
  readonly sink: MetricSink;
  readonly log: Log;
  readonly now?: () => number;
  /** Waits on the run's clock (for a closing read); injectable so that tests need not wait for real. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The OpenTelemetry export of every busy skill's counters (OTLP_ENDPOINT); none when absent. */
  readonly otlp?: SkillHistoryExport;
}

export interface CollectionRun {
  readonly targets: readonly Target[];
  /** Epoch ms by which the run must have published (Lambda's remaining time less a margin). */
  readonly deadline: number;
  readonly selection: MetricSelection;
  /** Closing reads shortly before each window's end (closing-read.ts); none when absent. */
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
  /** The OTLP export of the run and its closing reads, when on. */
  readonly otlp?: OtlpRunSummary;
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

/** Failures of each kind a logged summary shows, and the kinds it lists; the rest are only counted. */
const SUMMARY_LIMITS = { firstOfEachKind: 3, kinds: 10, skillListChars: 100, publishErrorChars: 300 };
/** VDNs the error of a run that collected nothing names; the others are counted. */
const CAUSES_NAMED = 5;

/** Some failures of a run: how many, and per kind (an error code) how many and the first few. */
interface FailureDigest<T> {
  readonly count: number;
  readonly kinds: Readonly<Record<string, { readonly count: number; readonly first: readonly T[] }>>;
  /** Failures of the kinds beyond SUMMARY_LIMITS.kinds. */
  readonly otherKinds?: number;
}

function digest<T>(items: readonly T[], kindOf: (item: T) => string): FailureDigest<T> {
  const kinds = new Map<string, { count: number; first: T[] }>();
  let otherKinds = 0;
  for (const item of items) {
    const kind = kindOf(item);
    const entry = kinds.get(kind);
    if (entry) {
      entry.count += 1;
      if (entry.first.length < SUMMARY_LIMITS.firstOfEachKind) entry.first.push(item);
    } else if (kinds.size < SUMMARY_LIMITS.kinds) kinds.set(kind, { count: 1, first: [item] });
    else otherKinds += 1;
  }
  return { count: items.length, kinds: Object.fromEntries(kinds), ...(otherKinds > 0 ? { otherKinds } : {}) };
}

/**
 * The run summary as logged: one line whatever the number of targets, within CloudWatch Logs' 256 KB per event.
 * Failures are counted by kind with the first few of each (every one of them has its own line already).
 */
function loggedSummary(summary: RunSummary) {
  return {
    ...summary,
    failures: digest(
      summary.failures.map((failure) => ({
        ...failure,
        skillIds: clip(failure.skillIds, SUMMARY_LIMITS.skillListChars),
      })),
      (failure) => failure.code ?? failure.type,
    ),
    publishFailures: digest(
      summary.publishFailures.map((failure) => ({
        ...failure,
        error: clip(failure.error, SUMMARY_LIMITS.publishErrorChars),
      })),
      (failure) => clip(failure.error.split(':')[0] ?? '', 100),
    ),
  };
}

/**
 * Publishing needs time too: CMS gets the run's time budget less this share, so a slow CMS cannot eat the time
 * needed to publish what did arrive (and the CollectionSuccess=0 that says what did not).
 */
const PUBLISH_RESERVE: Reserve = { share: 0.25, minMs: 500, maxMs: 5_000 };

function failuresOf(read: VdnRead): TargetFailure[] {
  return read.failures.map(({ skillIds, error }) => ({
    ccId: read.ccId,
    vdn: read.vdn,
    skillIds: formatSkillList(skillIds),
    ...describeError(error),
  }));
}

async function readTarget(
  deps: CollectorDeps,
  target: Target,
  options: { readonly deadline: number; readonly liveQueue: boolean },
  cmsLock: AbortController,
): Promise<VdnRead> {
  try {
    const read = await deps.cms.currentCallStats(target, { ...options, signal: cmsLock.signal });
    // An IP lock refuses every target alike, and each further request could prolong it: the rest of the run
    // sends nothing more to CMS, and its VDNs report CollectionSuccess 0 with the same cause.
    const locked = read.failures.find((batch) => batch.error instanceof CmsIpLockedError);
    if (locked) cmsLock.abort(locked.error);
    return read;
  } catch (error) {
    // Whole-target failures (credentials unavailable, say) still publish CollectionSuccess=0 for the VDN.
    return failedRead(target, error instanceof Error ? error : new Error(String(error)));
  }
}

/** Logs what CMS sent that cannot be published as it is, and returns how many data-quality warnings that is. */
function checkData(log: Log, read: VdnRead): number {
  const where = { ccId: read.ccId, vdn: read.vdn };
  let warnings = 0;
  for (const { error } of read.failures) {
    if (!(error instanceof CmsWindowError)) continue;
    warnings += 1;
    log.warn('implausible window start from CMS: the VDN is not published', {
      ...where,
      skillId: error.skillId,
      windowStart: error.windowStart,
    });
  }
  if (read.endedSkillIds.length > 0) {
    warnings += read.endedSkillIds.length;
    log.warn("data of a window CMS's own clock says has ended: refused, not published into that window", {
      ...where,
      skillIds: formatSkillList(read.endedSkillIds),
    });
  }
  for (const skill of read.skills) {
    const found = checkConsistency(skill.counters);
    if (found.length === 0) continue;
    warnings += found.length;
    log.warn('inconsistent counters from CMS: affected rates withheld', {
      ...where,
      skillId: skill.skillId,
      warnings: found.map((warning) => warning.detail),
    });
  }
  return warnings;
}

export async function runCollection(deps: CollectorDeps, run: CollectionRun): Promise<RunSummary> {
  const now = deps.now ?? Date.now;
  const started = now();
  const deadline = deadlineLess(PUBLISH_RESERVE, started, run.deadline);
  const cmsLock = new AbortController();
  // The normal read of each target takes its live queue along, at the same time; the closing reads below do not.
  const reads = await Promise.all(
    run.targets.map((target) => readTarget(deps, target, { deadline, liveQueue: true }, cmsLock)),
  );
  logLiveQueueFailures(deps.log, reads);
  const liveQueue = summarizeLiveQueues(reads);

  const dataQualityWarnings = reads.reduce((sum, read) => sum + checkData(deps.log, read), 0);
  const failures = reads.flatMap(failuresOf);
  for (const { ccId, vdn, skillIds, ...error } of failures) {
    // Nested, so the cause cannot collide with the fixed keys of a log line (`message`, `level`...).
    deps.log.error('CMS collection failed', { ccId, vdn, skillIds, error });
  }

  const closingPlan = planClosingReads(reads, {
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
    ...buildDatums(reads, { now: now(), selection: run.selection }),
    ...liveQueueDatums(reads, { selection: run.selection }),
  ];
  // Publishing gets what is left of the run's time and no more, so the summary below is always logged.
  const publishBy = deadlineSignal(run.deadline - now());
  const publishing = deps.sink.publish(datums, { signal: publishBy });
  const history = deps.otlp && new RunExport(deps.otlp, deadlineLess(OTLP_RESERVE, now(), run.deadline), now);
  history?.send(reads);
  const report = await publishing;
  for (const failure of report.failures)
    deps.log.error('publishing failed', { datums: failure.datums, error: failure.error });

  // After the normal read is out, so that waiting for the window's end delays nothing already known.
  const closingReads = await takeClosingReads(
    {
      sink: { publish: (closing) => deps.sink.publish(closing, { signal: publishBy }) },
      ...(history
        ? { onRead: (closing: readonly VdnRead[]) => history.send(closing, { closing: true }) }
        : {}),
      log: deps.log,
      now,
      sleep: deps.sleep ?? ((ms) => delay(ms)),
      read: async (target, readDeadline) => {
        // After an IP lock the closing reads send nothing either: the lock's signal is already aborted.
        const read = await readTarget(deps, target, { deadline: readDeadline, liveQueue: false }, cmsLock);
        for (const { ccId, vdn, skillIds, ...error } of failuresOf(read)) {
          deps.log.error('CMS closing read failed', { ccId, vdn, skillIds, error });
        }
        return read;
      },
    },
    closingPlan,
    { deadline, selection: run.selection },
  );
  const otlp = await history?.settle(deps.log);

  const summary: RunSummary = {
    targets: run.targets.length,
    targetsSucceeded: reads.filter((read) => read.failures.length === 0).length,
    skillsRequested: run.targets.reduce((sum, target) => sum + target.skillIds.length, 0),
    skillsReturned: reads.reduce((sum, read) => sum + read.skills.length, 0),
    skillsMissing: reads.reduce((sum, read) => sum + read.missingSkillIds.length, 0),
    cmsRequests: reads.reduce((sum, read) => sum + read.requests, 0) + liveQueue.requests,
    dataQualityWarnings,
    datums: datums.length,
    datumsPublished: report.published,
    publishCalls: report.calls,
    failures,
    publishFailures: report.failures,
    closingReads,
    liveQueue,
    ...(otlp ? { otlp } : {}),
    durationMs: now() - started,
  };
  deps.log.info('collection run', { summary: loggedSummary(summary) });
  if (reads.every((read) => read.failures.length > 0 && read.skills.length === 0)) {
    const causes = failures.slice(0, CAUSES_NAMED).map((f) => `${f.ccId}/${f.vdn}: ${f.code ?? f.type}`);
    if (failures.length > CAUSES_NAMED) causes.push(`and ${failures.length - CAUSES_NAMED} more`);
    throw new CollectionFailedError(summary, `no target could be collected (${causes.join('; ')})`);
  }
  if (datums.length > 0 && report.published === 0) {
    throw new CollectionFailedError(summary, `none of the ${datums.length} datums could be published`);
  }
  return summary;
}
