import {
  alignedWindowStart,
  type ClosingReadSettings,
  planClosingRead,
  windowCoverage,
} from './closing-read.js';
import type { CmsClockReading } from './cms/clock.js';
import { rollup } from './kpi.js';
import type { Log } from './log.js';
import { buildDatums, coverageDatum, type MetricSelection, type VdnOutcome } from './metrics/build-datums.js';
import type { Datum, MetricSink } from './metrics/metric-sink.js';
import type { Target } from './model.js';

// The closing reads of one collection run (lib/closing-read.ts decides when): after the run's normal read has
// been published, the targets whose window ends within reach wait together, are read once more shortly before
// the end, and that read is published like any other, with each VDN's WindowCoverage.

/** One target's read: what it returned and CMS's clock when it answered (undefined when nothing came back). */
export interface TargetRead {
  readonly target: Target;
  readonly outcome: VdnOutcome;
  readonly clock: CmsClockReading | undefined;
}

interface PendingClose {
  readonly target: Target;
  /** Aligned start of the window to close. */
  readonly windowStart: number;
  /** Timestamp of that window's datums (the newest `startTime`, as CMS sent it). */
  readonly timestamp: number;
  /** Coverage of the run's normal read: what stays true of the window if the closing read misses it. */
  readonly coverage: number;
}

/** Targets whose windows end together: one wait, one read each. */
interface ClosingGroup {
  /** Our clock: when to read, and when CMS's window ends. */
  readonly readAt: number;
  readonly endsAt: number;
  readonly pending: PendingClose[];
}

export interface ClosingPlan {
  /** WindowCoverage of the windows this run's normal read already closed (it fell within the guard). */
  readonly coverage: readonly Datum[];
  readonly groups: readonly ClosingGroup[];
  /** Windows this run should have closed but could not before its deadline. */
  readonly outOfReach: number;
}

export function planClosingReads(
  reads: readonly TargetRead[],
  run: { readonly now: number; readonly deadline: number; readonly settings: ClosingReadSettings },
): ClosingPlan {
  const coverage: Datum[] = [];
  const groups = new Map<number, ClosingGroup>();
  let outOfReach = 0;
  for (const { target, outcome, clock } of reads) {
    const total = rollup(outcome.skills);
    if (total === undefined || clock === undefined) continue;
    const decision = planClosingRead(
      { startTime: total.windowStart, clock, now: run.now, deadline: run.deadline },
      run.settings,
    );
    if (decision.kind === 'none') continue;
    const read = windowCoverage(alignedWindowStart(total.windowStart), clock.cmsAt);
    if (decision.kind === 'outOfReach') outOfReach += 1;
    if (decision.kind !== 'wait') {
      coverage.push(coverageDatum(target, total.windowStart, read));
      continue;
    }
    const pending = {
      target,
      windowStart: decision.windowStart,
      timestamp: total.windowStart,
      coverage: read,
    };
    const group = groups.get(decision.windowStart);
    if (group === undefined) {
      groups.set(decision.windowStart, {
        readAt: decision.readAt,
        endsAt: decision.endsAt,
        pending: [pending],
      });
    } else {
      // Each target's estimate of CMS's clock differs by a few ms: the earliest one keeps every read inside.
      groups.set(decision.windowStart, {
        readAt: Math.min(group.readAt, decision.readAt),
        endsAt: Math.min(group.endsAt, decision.endsAt),
        pending: [...group.pending, pending],
      });
    }
  }
  return { coverage, groups: [...groups.values()], outOfReach };
}

export interface ClosingDeps {
  readonly sink: MetricSink;
  readonly log: Log;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Reads one target with the given deadline (our clock), logging its failures. */
  readonly read: (target: Target, deadline: number) => Promise<TargetRead>;
  /** Hears every closing read once its classic publication has started (the OTLP export). */
  readonly onRead?: (reads: readonly TargetRead[]) => void;
}

export interface ClosingSummary {
  /** Targets read again before their window's end. */
  readonly targets: number;
  /** Longest wait of the run for a closing read. */
  readonly waitedMs: number;
  /** Closing reads that failed or landed in the next window: their window kept the earlier read's values. */
  readonly missed: number;
  readonly outOfReach: number;
  readonly datums: number;
  readonly datumsPublished: number;
}

/** Waits for and takes the planned closing reads, and publishes them with their WindowCoverage. */
export async function takeClosingReads(
  deps: ClosingDeps,
  plan: ClosingPlan,
  run: { readonly deadline: number; readonly selection: MetricSelection },
): Promise<ClosingSummary> {
  const results = await Promise.all(plan.groups.map((group) => closeGroup(deps, group, run)));
  return {
    targets: plan.groups.reduce((sum, group) => sum + group.pending.length, 0),
    waitedMs: Math.max(0, ...results.map((result) => result.waitedMs)),
    missed: results.reduce((sum, result) => sum + result.missed, 0),
    outOfReach: plan.outOfReach,
    datums: results.reduce((sum, result) => sum + result.datums, 0),
    datumsPublished: results.reduce((sum, result) => sum + result.published, 0),
  };
}

async function closeGroup(
  deps: ClosingDeps,
  group: ClosingGroup,
  run: { readonly deadline: number; readonly selection: MetricSelection },
): Promise<{ waitedMs: number; missed: number; datums: number; published: number }> {
  const waitedMs = Math.max(0, group.readAt - deps.now());
  if (waitedMs > 0) await deps.sleep(waitedMs);
  // A retry after CMS's boundary would only read the next window: the guard bounds the closing read.
  const deadline = Math.min(group.endsAt, run.deadline);
  const reads = await Promise.all(group.pending.map((pending) => deps.read(pending.target, deadline)));

  const coverage: Datum[] = [];
  let missed = 0;
  reads.forEach((read, index) => {
    const pending = group.pending[index] as PendingClose;
    const total = rollup(read.outcome.skills);
    const closed =
      total !== undefined &&
      read.clock !== undefined &&
      alignedWindowStart(total.windowStart) === pending.windowStart;
    if (closed) {
      coverage.push(
        coverageDatum(
          pending.target,
          total.windowStart,
          windowCoverage(pending.windowStart, read.clock.cmsAt),
        ),
      );
      return;
    }
    missed += 1;
    coverage.push(coverageDatum(pending.target, pending.timestamp, pending.coverage));
    deps.log.warn('closing read missed its window: the window keeps the earlier read', {
      ccId: pending.target.ccId,
      vdn: pending.target.vdn,
      windowStart: new Date(pending.windowStart).toISOString(),
      answeredWindow: total === undefined ? null : new Date(total.windowStart).toISOString(),
    });
  });
  const datums = [
    ...buildDatums(
      reads.map((read) => read.outcome),
      { now: deps.now(), selection: run.selection, health: false },
    ),
    ...coverage,
  ];
  const publishing = deps.sink.publish(datums);
  deps.onRead?.(reads);
  const report = await publishing;
  for (const failure of report.failures) {
    deps.log.error('publishing the closing read failed', { datums: failure.datums, error: failure.error });
  }
  return { waitedMs, missed, datums: datums.length, published: report.published };
}
