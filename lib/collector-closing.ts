import {
  type ClosingReadSettings,
  CONFIRMATION_DELAY_MS,
  planClosingRead,
  windowCoverage,
} from './closing-read.js';
import type { VdnRead } from './cms/vdn-read.js';
import type { Log } from './log.js';
import { buildDatums, coverageDatum, type MetricSelection } from './metrics/build-datums.js';
import type { Datum, MetricSink } from './metrics/metric-sink.js';
import type { Target } from './model.js';

// The closing reads of one collection run (lib/closing-read.ts decides when): after the run's normal read has
// been published, the targets whose window ends within reach wait together, are read once more shortly before
// the end, and that read is published like any other. Their WindowCoverage follows once a read just after the
// end shows that CMS's `Date` was CMS's clock: a coverage it cannot stand behind is not published.

interface PendingClose {
  readonly target: Target;
  /** Aligned start of the window to close. */
  readonly windowStart: number;
  /** Coverage of the read already taken: what stays true of the window if no closing read does better. */
  readonly coverage: number;
  /** False when the run's own read was already the window's closing read. */
  readonly reread: boolean;
}

/** Targets whose windows end together: one wait, one read each, one confirmation. */
interface ClosingGroup {
  /** Our clock: when to read (undefined when every read of the group is already closing), and the end. */
  readonly readAt: number | undefined;
  readonly endsAt: number;
  readonly pending: readonly PendingClose[];
}

export interface ClosingPlan {
  readonly groups: readonly ClosingGroup[];
  /** Windows this run should have closed but could not before its deadline. */
  readonly outOfReach: number;
  /** VDNs whose closing read is skipped: CMS's answers gave no clock to time it by, and why. */
  readonly noClock: readonly { readonly ccId: number; readonly vdn: number; readonly problem: string }[];
}

export function planClosingReads(
  reads: readonly VdnRead[],
  run: { readonly now: number; readonly deadline: number; readonly settings: ClosingReadSettings },
): ClosingPlan {
  const groups = new Map<number, ClosingGroup>();
  const noClock: { ccId: number; vdn: number; problem: string }[] = [];
  let outOfReach = 0;
  for (const read of reads) {
    const { total, clock } = read;
    if (total === undefined || clock === undefined || run.settings.reachMs <= 0) continue;
    if ('problem' in clock) {
      noClock.push({ ccId: read.ccId, vdn: read.vdn, problem: clock.problem });
      continue;
    }
    const decision = planClosingRead(
      { windowStart: total.windowStart, clock, now: run.now, deadline: run.deadline },
      run.settings,
    );
    if (decision.kind === 'none') continue;
    if (decision.kind === 'outOfReach') {
      outOfReach += 1;
      continue;
    }
    const readAt = decision.kind === 'wait' ? decision.readAt : undefined;
    const pending: PendingClose = {
      target: { ccId: read.ccId, vdn: read.vdn, skillIds: read.skillIds },
      windowStart: decision.windowStart,
      coverage: windowCoverage(decision.windowStart, clock.cmsAt),
      reread: decision.kind === 'wait',
    };
    const group = groups.get(decision.windowStart);
    // Each target's estimate of CMS's clock differs by a few ms: the earliest one keeps every read inside.
    const earliest = (a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined ? (a ?? b) : Math.min(a, b);
    groups.set(decision.windowStart, {
      readAt: earliest(group?.readAt, readAt),
      endsAt: Math.min(group?.endsAt ?? decision.endsAt, decision.endsAt),
      pending: [...(group?.pending ?? []), pending],
    });
  }
  return { groups: [...groups.values()], outOfReach, noClock };
}

export interface ClosingDeps {
  readonly sink: MetricSink;
  readonly log: Log;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Reads one target with the given deadline (our clock), logging its failures. */
  readonly read: (target: Target, deadline: number) => Promise<VdnRead>;
  /** Hears every closing read once its classic publication has started (the OTLP export). */
  readonly onRead?: (reads: readonly VdnRead[]) => void;
}

export interface ClosingSummary {
  /** Targets read again before their window's end. */
  readonly targets: number;
  /** Longest wait of the run for a closing read and its confirmation. */
  readonly waitedMs: number;
  /** Closing reads that failed or landed in the next window: their window kept the earlier read's values. */
  readonly missed: number;
  readonly outOfReach: number;
  /** VDNs whose closing read was skipped for want of a CMS clock. */
  readonly skipped: number;
  /** Windows whose WindowCoverage was withheld: CMS's `Date` could not be confirmed as its clock. */
  readonly unconfirmed: number;
  readonly datums: number;
  readonly datumsPublished: number;
}

/** Waits for and takes the planned closing reads, and publishes them with the WindowCoverage confirmed. */
export async function takeClosingReads(
  deps: ClosingDeps,
  plan: ClosingPlan,
  run: { readonly deadline: number; readonly selection: MetricSelection },
): Promise<ClosingSummary> {
  const [first] = plan.noClock;
  if (first) {
    deps.log.warn('no CMS clock: closing reads skipped, no WindowCoverage published', {
      vdns: plan.noClock.map(({ ccId, vdn }) => `${ccId}/${vdn}`),
      problem: first.problem,
    });
  }
  const results = await Promise.all(plan.groups.map((group) => closeGroup(deps, group, run)));
  const sum = (field: 'missed' | 'datums' | 'published') =>
    results.reduce((total, result) => total + result[field], 0);
  return {
    targets: plan.groups.reduce((total, group) => total + group.pending.filter((p) => p.reread).length, 0),
    waitedMs: Math.max(0, ...results.map((result) => result.waitedMs)),
    missed: sum('missed'),
    outOfReach: plan.outOfReach,
    skipped: plan.noClock.length,
    unconfirmed: results.filter((result) => !result.confirmed).length,
    datums: sum('datums'),
    datumsPublished: sum('published'),
  };
}

async function closeGroup(
  deps: ClosingDeps,
  group: ClosingGroup,
  run: { readonly deadline: number; readonly selection: MetricSelection },
): Promise<{ waitedMs: number; missed: number; confirmed: boolean; datums: number; published: number }> {
  const started = deps.now();
  const waitUntil = async (at: number) => {
    if (at > deps.now()) await deps.sleep(at - deps.now());
  };
  if (group.readAt !== undefined) await waitUntil(group.readAt);
  // A retry after CMS's boundary would only read the next window: the guard bounds the closing read.
  const deadline = Math.min(group.endsAt, run.deadline);
  const toRead = group.pending.filter((pending) => pending.reread);
  const reads = await Promise.all(toRead.map((pending) => deps.read(pending.target, deadline)));

  let missed = 0;
  const coverage = group.pending.map((pending) => {
    const index = toRead.indexOf(pending);
    const read = reads[index];
    if (read === undefined) return coverageDatum(pending.target, pending.windowStart, pending.coverage);
    if (read.total?.windowStart === pending.windowStart && read.clock && 'cmsAt' in read.clock) {
      return coverageDatum(
        pending.target,
        pending.windowStart,
        windowCoverage(pending.windowStart, read.clock.cmsAt),
      );
    }
    missed += 1;
    deps.log.warn('closing read missed its window: the window keeps the earlier read', {
      ccId: pending.target.ccId,
      vdn: pending.target.vdn,
      windowStart: new Date(pending.windowStart).toISOString(),
      answeredWindow: read.total === undefined ? null : new Date(read.total.windowStart).toISOString(),
    });
    return coverageDatum(pending.target, pending.windowStart, pending.coverage);
  });

  // The counters go out at once, before the window's period ends, so that an alarm judging the period sees the
  // window's final count; only the coverage waits for the clock's confirmation. The OTLP export hears the reads
  // once their classic publication has started.
  const counters = buildDatums(reads, { now: deps.now(), selection: run.selection, health: false });
  const publishing = publish(deps, counters);
  deps.onRead?.(reads);
  let published = await publishing;
  const confirmed = await confirmClock(deps, group, run.deadline, waitUntil);
  if (confirmed) published += await publish(deps, coverage);
  const datums = counters.length + (confirmed ? coverage.length : 0);
  return {
    waitedMs: deps.now() - started,
    missed,
    confirmed,
    datums,
    published,
  };
}

async function publish(deps: ClosingDeps, datums: readonly Datum[]): Promise<number> {
  if (datums.length === 0) return 0;
  const report = await deps.sink.publish(datums);
  for (const failure of report.failures) {
    deps.log.error('publishing the closing read failed', { datums: failure.datums, error: failure.error });
  }
  return report.published;
}

/**
 * Whether CMS's `Date` was its clock: read just after the window's end by that `Date`, CMS answers with a later
 * window and a `Date` that agrees with it. A `Date` running ahead of CMS's window finds the old window still
 * served, and then no longer agrees with it. One target answers for the group: they share one CMS.
 */
async function confirmClock(
  deps: ClosingDeps,
  group: ClosingGroup,
  deadline: number,
  waitUntil: (at: number) => Promise<void>,
): Promise<boolean> {
  const [first] = group.pending;
  if (first === undefined) return false;
  await waitUntil(group.endsAt + CONFIRMATION_DELAY_MS);
  const check = await deps.read(first.target, deadline);
  const moved = check.total !== undefined && check.total.windowStart > first.windowStart;
  if (moved && check.clock !== undefined && 'cmsAt' in check.clock) return true;
  deps.log.warn("CMS's Date header is not confirmed as its clock: no WindowCoverage published", {
    windowStart: new Date(first.windowStart).toISOString(),
    vdns: group.pending.map(({ target }) => `${target.ccId}/${target.vdn}`),
    problem:
      check.clock !== undefined && 'problem' in check.clock
        ? check.clock.problem
        : check.failures.length > 0
          ? 'the read after the window’s end failed'
          : 'the read after the window’s end still showed the window',
  });
  return false;
}
