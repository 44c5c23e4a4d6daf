import { performance } from 'node:perf_hooks';
import { createCollectorHandler } from '../lib/lambda/collector.js';
import { WINDOW_MS } from '../lib/model.js';
import { seededRandom } from '../local/simulator/random.js';
import { startWorld, type World, worldCloudWatch, worldCredentials } from '../test/support/world.js';
import { quietLog } from './quiet-log.js';
import type { Figure } from './report.js';
import { median } from './stats.js';

/**
 * How much of each 5-minute window's calls its published totals hold: the real collector handler, on the
 * deployed schedule (every minute, each run fired up to 2 s late, as EventBridge does), against the simulator's
 * traffic model over TLS, publishing to the fake AWS endpoint. The clock is simulated and jumps over the waits,
 * so hours of windows take seconds; the CMS client, TLS and PutMetricData are real. A window's published value
 * is what CloudWatch keeps for it (the Maximum of its datapoints); its truth is the simulator's count at the
 * window's last millisecond. Measured with closing reads off (the schedule alone) and on (the defaults).
 */

const NAMESPACE = 'Bench/Windows';
const TARGETS = [
  { ccId: 1, vdn: 170, skillIds: '1-100' },
  { ccId: 1, vdn: 171, skillIds: '1-50' },
];
/** The stack's defaults (serverless.yml): timeout and memory of the collector. */
const TIMEOUT_MS = 110_000;
const MEMORY_GB = 256 / 1024;
/** Lambda on arm64, us-east-1, per GB-second. */
const USD_PER_GB_SECOND = 0.0000133334;
const WINDOWS_PER_MONTH = (30 * 86_400_000) / WINDOW_MS;
const MAX_FIRING_DELAY_MS = 2_000;

export interface WindowsResult {
  readonly windows: number;
  /** Published / true final CallsOffered, summed over every VDN and window, in percent. */
  readonly coverageWithout: number;
  readonly coverageWith: number;
  /** Lowest single-window share with closing reads, in percent. */
  readonly worstWindowWith: number;
  /** WindowCoverage values the collector published. */
  readonly windowCoverage: readonly number[];
  /** Per window, how long the run that took its closing read waited. */
  readonly waitsMs: readonly number[];
  /** Wall time of each waiting run's own work (both reads and publishing; its wait costs none here). */
  readonly closingWorkMs: readonly number[];
  readonly valuesAbove: number;
}

interface ModeResult {
  readonly coverage: number;
  readonly worstWindow: number;
  readonly valuesAbove: number;
  readonly windowCoverage: number[];
  readonly waitsMs: number[];
  readonly closingWorkMs: number[];
}

async function runMode(
  world: World,
  clock: { shiftMs: number },
  options: { readonly firstWindow: number; readonly windows: number; readonly reachSeconds: number },
): Promise<ModeResult> {
  const { simulator, aws } = world;
  aws.clearRecords();
  const now = () => Date.now() + clock.shiftMs;
  const handler = createCollectorHandler(
    {
      CMS_BASE_URL: simulator.url,
      CMS_TARGETS: JSON.stringify(TARGETS),
      METRIC_NAMESPACE: NAMESPACE,
      CLOSING_READ_REACH_SECONDS: String(options.reachSeconds),
    },
    {
      credentials: worldCredentials(world),
      cloudWatch: worldCloudWatch(world),
      log: quietLog(),
      clock: {
        now,
        sleep: async (ms) => {
          clock.shiftMs += ms;
        },
      },
    },
  );
  const random = seededRandom(12);
  const waitsMs: number[] = [];
  const closingWorkMs: number[] = [];
  for (let window = 0; window < options.windows; window += 1) {
    for (let minute = 0; minute < 5; minute += 1) {
      const firesAt =
        options.firstWindow + window * WINDOW_MS + minute * 60_000 + random() * MAX_FIRING_DELAY_MS;
      // A run that waited ends after the next one would have fired: that one then starts at once.
      clock.shiftMs += Math.max(0, firesAt - now());
      const started = performance.now();
      const summary = await handler({}, { getRemainingTimeInMillis: () => TIMEOUT_MS });
      if (summary.closingReads.targets > 0) {
        waitsMs.push(summary.closingReads.waitedMs);
        closingWorkMs.push(performance.now() - started);
      }
    }
  }

  const datums = aws.putMetricDataCalls.flatMap((call) => call.datums);
  /** What CloudWatch keeps of each series' window: the Maximum of its CallsOffered datapoints. */
  const kept = new Map<string, number>();
  for (const d of datums) {
    if (d.name !== 'CallsOffered') continue;
    const key = `${d.dimensions.Vdn}/${d.dimensions.SkillId ?? 'all'}/${Math.floor(d.timestamp / WINDOW_MS) * WINDOW_MS}`;
    kept.set(key, Math.max(kept.get(key) ?? 0, d.value));
  }
  let published = 0;
  let truth = 0;
  let worstWindow = 100;
  let valuesAbove = 0;
  for (let window = 0; window < options.windows; window += 1) {
    const start = options.firstWindow + window * WINDOW_MS;
    for (const target of TARGETS) {
      const [first, last] = target.skillIds.split('-').map(Number) as [number, number];
      let windowTruth = 0;
      for (let skillId = first; skillId <= last; skillId += 1) {
        const final =
          simulator.statsAt(target.ccId, target.vdn, skillId, start + WINDOW_MS - 1)?.allCallCount ?? 0;
        windowTruth += final;
        if ((kept.get(`${target.vdn}/${skillId}/${start}`) ?? 0) > final) valuesAbove += 1;
      }
      const windowPublished = kept.get(`${target.vdn}/all/${start}`) ?? 0;
      if (windowPublished > windowTruth) valuesAbove += 1;
      published += windowPublished;
      truth += windowTruth;
      if (windowTruth > 0) worstWindow = Math.min(worstWindow, (100 * windowPublished) / windowTruth);
    }
  }
  return {
    coverage: truth === 0 ? Number.NaN : (100 * published) / truth,
    worstWindow,
    valuesAbove,
    windowCoverage: datums.filter((d) => d.name === 'WindowCoverage').map((d) => d.value),
    waitsMs,
    closingWorkMs,
  };
}

export async function runWindowsBench(options: { readonly windows: number }): Promise<WindowsResult> {
  const clock = { shiftMs: 0 };
  const world = await startWorld({ simulator: { now: () => Date.now() + clock.shiftMs } });
  try {
    // Windows of the last hours: PutMetricData takes timestamps up to two weeks old, not from the future.
    const firstWindow = Math.floor((Date.now() - (options.windows + 2) * WINDOW_MS) / WINDOW_MS) * WINDOW_MS;
    const reset = () => {
      clock.shiftMs = firstWindow - Date.now();
    };
    reset();
    const without = await runMode(world, clock, {
      firstWindow,
      windows: options.windows,
      reachSeconds: 0,
    });
    reset();
    const withClosing = await runMode(world, clock, {
      firstWindow,
      windows: options.windows,
      reachSeconds: 60,
    });
    return {
      windows: options.windows,
      coverageWithout: without.coverage,
      coverageWith: withClosing.coverage,
      worstWindowWith: withClosing.worstWindow,
      windowCoverage: withClosing.windowCoverage,
      waitsMs: withClosing.waitsMs,
      closingWorkMs: withClosing.closingWorkMs,
      valuesAbove: without.valuesAbove + withClosing.valuesAbove,
    };
  } finally {
    await world.close();
  }
}

export function windowsFigures(result: WindowsResult): Figure[] {
  const meanWaitMs = result.waitsMs.reduce((sum, ms) => sum + ms, 0) / Math.max(1, result.waitsMs.length);
  const gbSecondsPerMonth = MEMORY_GB * (meanWaitMs / 1_000) * WINDOWS_PER_MONTH;
  const scope = `${result.windows} windows × ${TARGETS.length} VDNs, runs every minute`;
  return [
    {
      id: 'windows.coverage.closing',
      label: 'window coverage of the final totals: published CallsOffered / true final, with closing reads',
      value: result.coverageWith,
      unit: '%',
      goal: { op: '>=', value: 98 },
      note: `${scope}; worst window ${result.worstWindowWith.toFixed(1)} %; ${result.valuesAbove} published values above the truth`,
    },
    {
      id: 'windows.coverage.scheduleOnly',
      label: 'window coverage of the final totals without closing reads (the schedule alone)',
      value: result.coverageWithout,
      unit: '%',
      note: scope,
    },
    {
      id: 'windows.windowCoverage.min',
      label: 'WindowCoverage published with the closing reads: lowest / median',
      value: Math.min(...result.windowCoverage),
      unit: '%',
      note: `median ${median(result.windowCoverage).toFixed(2)} % over ${result.windowCoverage.length} datapoints`,
    },
    {
      id: 'windows.wait.gbSecondsPerMonth',
      label: 'closing wait: Lambda GB-seconds per month at 256 MB (one waiting run per window)',
      value: gbSecondsPerMonth,
      unit: 'GB-s',
      note:
        `mean wait ${(meanWaitMs / 1_000).toFixed(1)} s per window × ${WINDOWS_PER_MONTH} windows a month ≈ ` +
        `$${(gbSecondsPerMonth * USD_PER_GB_SECOND).toFixed(2)} a month on arm64 (before the free tier); the ` +
        `waiting run's own reads and publishing took ${median(result.closingWorkMs).toFixed(0)} ms (median, here)`,
    },
  ];
}
