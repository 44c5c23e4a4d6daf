import type { VdnRead } from '../cms/vdn-read.js';
import type { Reserve } from '../deadline.js';
import { describeError, type Log } from '../log.js';
import type { SkillRead } from '../metrics/otlp-protobuf.js';
import { emptyReport, type OtlpReport, skillReads } from '../metrics/otlp-report.js';
import { COUNTERS } from '../model.js';

// The OpenTelemetry side of one collection run. Each read (the run's own, then its closing reads) is handed over
// as soon as the classic publication of it has started, and sent concurrently with it; the export has the run's
// deadline less a reserve, so that an endpoint that is down, slow or refusing costs no classic datum and never
// delays the run past its deadline. At the end the run waits for what is still in flight and reports it.

/** What a run needs of the OTLP export (OtlpExporter; tests and benchmarks hand in others). */
export interface SkillHistoryExport {
  /** `closing`: each read is its window's last. What goes out follows OTLP_DATAPOINTS (otlp-delivered.ts). */
  export(
    reads: readonly SkillRead[],
    options: { readonly deadline: number; readonly closing?: boolean },
  ): Promise<OtlpReport>;
}

/** The last stretch of the run belongs to the classic path and the run's own summary. */
export const OTLP_RESERVE: Reserve = { share: 0.1, minMs: 500, maxMs: 3_000 };

/** The run's summary of its export: counts only (each problem is logged on its own line). */
export type OtlpRunSummary = Omit<OtlpReport, 'problems'>;

export class RunExport {
  readonly #pending: Promise<OtlpReport>[] = [];

  constructor(
    private readonly history: SkillHistoryExport,
    private readonly deadline: number,
    private readonly now: () => number,
  ) {}

  /** Sends the busy skills of these reads (`closing`: a window's closing reads), each stamped with its time. */
  send(reads: readonly VdnRead[], { closing = false }: { readonly closing?: boolean } = {}): void {
    const points = reads.flatMap((read) =>
      skillReads(read, read.clock !== undefined && 'localAt' in read.clock ? read.clock.localAt : this.now()),
    );
    // Sent even when no skill is busy: the export may still owe an ended window's total.
    const exported = this.history
      .export(points, { deadline: this.deadline, closing })
      .catch((error: unknown) => {
        // An export that could not even start (its code failed to load) is a failure like any other, of every
        // counter it would have sent at most.
        const report = emptyReport();
        report.points = report.failed = points.length * COUNTERS.length;
        report.problems.push({ kind: 'failed', points: report.points, error: describeError(error).message });
        return report;
      });
    this.#pending.push(exported);
  }

  /** Waits for the requests still in flight (bounded by the export's deadline), logs the problems, sums up. */
  async settle(log: Log): Promise<OtlpRunSummary> {
    const { problems, ...summary } = emptyReport();
    for (const report of await Promise.all(this.#pending)) {
      for (const key of Object.keys(summary) as (keyof OtlpRunSummary)[]) summary[key] += report[key];
      problems.push(...report.problems);
    }
    for (const { kind, points, error } of problems) {
      if (kind === 'failed') log.error('OTLP export failed', { points, error });
      else log.warn('OTLP endpoint rejected datapoints', { points, error });
    }
    return summary;
  }
}
