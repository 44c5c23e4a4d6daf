import { performance } from 'node:perf_hooks';
import { CmsClient } from '../lib/cms/client.js';
import { staticCredentials } from '../lib/cms/credentials.js';
import { runCollection } from '../lib/collector.js';
import { loadCmsSettings } from '../lib/config.js';
import type { Log } from '../lib/log.js';
import type { Datum, MetricSink } from '../lib/metrics/datum.js';
import { ALL_METRICS, DEFAULT_METRICS, type MetricSelection } from '../lib/metrics/datums.js';
import { COUNTERS, type SkillStats, type Target } from '../lib/model.js';
import { type OpeningHours, startCmsSimulator } from '../local/simulator/index.js';
import type { Figure } from './report.js';

/**
 * What the metrics of one VDN cost a month: the real collector (CMS client, KPI code, datum builder) runs once a
 * minute through a simulated day against the simulator, whose queues take calls only in opening hours, and every
 * datum it publishes is metered as CloudWatch bills it: a custom metric costs for each hour in which it
 * receives data. The day runs on a simulated clock, so it takes seconds, not a day.
 */

/** us-east-1 list prices (aws-facts.md): custom metrics by tier, per metric-month; PutMetricData per call. */
export const METRIC_TIERS: readonly { readonly upTo: number; readonly usd: number }[] = [
  { upTo: 10_000, usd: 0.3 },
  { upTo: 250_000, usd: 0.1 },
  { upTo: 1_000_000, usd: 0.05 },
  { upTo: Number.POSITIVE_INFINITY, usd: 0.02 },
];
export const PUT_METRIC_DATA_USD = 0.01 / 1_000;
/** A metric-month is 730 metric-hours; a month is 365/12 days. */
export const HOURS_PER_MONTH = 730;
export const DAYS_PER_MONTH = 365 / 12;
/** Datums per PutMetricData request (the service limit the sink batches to). */
const DATUMS_PER_CALL = 1_000;

/** Dollars a month for this many metric-months, tier by tier. */
export function metricDollars(metricMonths: number): number {
  let dollars = 0;
  let below = 0;
  for (const tier of METRIC_TIERS) {
    const inTier = Math.max(0, Math.min(metricMonths, tier.upTo) - below);
    dollars += inTier * tier.usd;
    below = tier.upTo;
  }
  return dollars;
}

/** The monthly bill of a day's metering, repeated every day of the month. */
export function monthlyCost(day: { metricHours: number; putMetricDataCalls: number }) {
  const metricHours = day.metricHours * DAYS_PER_MONTH;
  const metricUsd = metricDollars(metricHours / HOURS_PER_MONTH);
  const callsUsd = day.putMetricDataCalls * DAYS_PER_MONTH * PUT_METRIC_DATA_USD;
  return { metricHours, metricUsd, callsUsd, totalUsd: metricUsd + callsUsd };
}

/** Meters datums as CloudWatch bills them: the distinct (metric, dimensions) pairs of each hour of receipt. */
export class MeteringSink implements MetricSink {
  readonly #hours = new Map<number, Set<string>>();
  datums = 0;
  calls = 0;

  constructor(private readonly clock: () => number) {}

  #lastRunDatums = 0;

  async publish(datums: readonly Datum[]) {
    this.#meter(datums);
    this.#lastRunDatums = datums.length;
    const calls = Math.ceil(datums.length / DATUMS_PER_CALL);
    this.calls += calls;
    return { published: datums.length, calls, failures: [] };
  }

  /** Datums that the run just published would have carried too, batched with them. */
  addToLastRun(datums: readonly Datum[]): void {
    this.#meter(datums);
    const before = Math.ceil(this.#lastRunDatums / DATUMS_PER_CALL);
    this.#lastRunDatums += datums.length;
    this.calls += Math.ceil(this.#lastRunDatums / DATUMS_PER_CALL) - before;
  }

  #meter(datums: readonly Datum[]): void {
    const hour = Math.floor(this.clock() / 3_600_000);
    let metrics = this.#hours.get(hour);
    if (metrics === undefined) {
      metrics = new Set();
      this.#hours.set(hour, metrics);
    }
    for (const datum of datums) {
      const { CcId, Vdn, SkillId } = datum.dimensions;
      metrics.add(`${datum.name}|${CcId}|${Vdn}|${SkillId ?? ''}`);
    }
    this.datums += datums.length;
  }

  get metricHours(): number {
    let total = 0;
    for (const metrics of this.#hours.values()) total += metrics.size;
    return total;
  }

  /** Metric-hours of each hour of the day, for the results file. */
  get byHour(): number[] {
    return [...this.#hours.entries()].sort(([a], [b]) => a - b).map(([, metrics]) => metrics.size);
  }
}

export interface CostPlan {
  readonly skills: number;
  readonly openingHours: OpeningHours;
  /** Minutes between collector runs (the schedule). */
  readonly everyMinutes: number;
}

export interface CostRun {
  readonly label: string;
  readonly metricHoursPerDay: number;
  readonly putMetricDataCallsPerDay: number;
  readonly datumsPerDay: number;
  readonly metricHoursByHour: readonly number[];
}

export interface CostResult {
  readonly plan: CostPlan;
  readonly before: CostRun;
  readonly after: CostRun;
  readonly cmsRequests: number;
  readonly elapsedMs: number;
}

const DAY = Date.UTC(2026, 10, 26);
const silent: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export async function runCostBench(plan: CostPlan): Promise<CostResult> {
  const started = performance.now();
  let clock = DAY;
  const now = () => clock;
  const keys = { accessKey: 'bench-access-key', secretKey: 'bench-secret-key' };
  const simulator = await startCmsSimulator({
    ...keys,
    now,
    openingHours: plan.openingHours,
    maxRecordedRequests: 0,
  });
  try {
    const cms = new CmsClient({
      ...loadCmsSettings({ CMS_BASE_URL: simulator.url }),
      credentials: staticCredentials({ ...keys, caCertificate: simulator.caCertificate }),
      now,
    });
    const target: Target = {
      ccId: 1,
      vdn: 170,
      skillIds: Array.from({ length: plan.skills }, (_, i) => i + 1),
    };
    // Both selections see the very same CMS answers: CMS is read once per run.
    let cmsRequests = 0;
    let reading: { at: number; result: Awaited<ReturnType<CmsClient['currentCallStats']>> } | undefined;
    const source = {
      currentCallStats: async (query: Target, options: { deadline: number }) => {
        if (reading?.at !== clock) {
          reading = { at: clock, result: await cms.currentCallStats(query, options) };
          cmsRequests += reading.result.requests;
        }
        return reading.result;
      },
    };
    const sinks = { before: new MeteringSink(now), after: new MeteringSink(now) };
    const selections: Record<keyof typeof sinks, MetricSelection> = {
      before: ALL_METRICS,
      after: DEFAULT_METRICS,
    };
    // Scheduled runs start a second into each minute, as EventBridge invokes them.
    for (let minute = 0; minute < 24 * 60; minute += plan.everyMinutes) {
      clock = DAY + minute * 60_000 + 1_000;
      for (const name of ['before', 'after'] as const) {
        // The previous defaults published idle skills too: their zero counters are metered on top.
        await runCollection(
          { cms: source, sink: sinks[name], log: silent, now },
          { targets: [target], deadline: clock + 30_000, selection: selections[name] },
        );
      }
      if (reading)
        sinks.before.addToLastRun(idleZeroCounters(reading.result.skills, selections.before, clock));
    }
    const run = (name: keyof typeof sinks, label: string): CostRun => ({
      label,
      metricHoursPerDay: sinks[name].metricHours,
      putMetricDataCallsPerDay: sinks[name].calls,
      datumsPerDay: sinks[name].datums,
      metricHoursByHour: sinks[name].byHour,
    });
    return {
      plan,
      before: run('before', 'every counter and KPI of every skill, idle or not (the previous defaults)'),
      after: run(
        'after',
        'the defaults: CallsOffered and CallsAbandoned per skill, nothing for an idle skill',
      ),
      cmsRequests,
      elapsedMs: performance.now() - started,
    };
  } finally {
    await simulator.close();
  }
}

/**
 * The previous collector also published the zero counters of idle skills (their rates are absent either way);
 * the current one never does, so "before" meters them on top of what the run published: the datums the old
 * builder wrote, in the same batches.
 */
function idleZeroCounters(skills: readonly SkillStats[], selection: MetricSelection, at: number): Datum[] {
  const names = COUNTERS.filter((counter) => selection.skill.has(counter.name));
  return skills
    .filter((skill) => names.every((counter) => skill.counters[counter.name] === 0))
    .flatMap((skill) =>
      names.map(
        (counter): Datum => ({
          name: counter.name,
          unit: counter.unit,
          value: 0,
          timestamp: at,
          dimensions: { CcId: '1', Vdn: '170', SkillId: String(skill.skillId) },
        }),
      ),
    );
}

export function costFigures(result: CostResult): Figure[] {
  const { skills, openingHours } = result.plan;
  const hours = `${String(openingHours.opensAtHour).padStart(2, '0')}:00–${String(openingHours.closesAtHour).padStart(2, '0')}:00`;
  const figure = (run: CostRun, id: string, goal?: Figure['goal']): Figure[] => {
    const month = monthlyCost({
      metricHours: run.metricHoursPerDay,
      putMetricDataCalls: run.putMetricDataCallsPerDay,
    });
    return [
      {
        id: `cost.${id}.usdPerMonth`,
        label: `cost, ${skills} skills of one VDN busy ${hours}, $/month: ${run.label}`,
        value: Math.round(month.totalUsd * 100) / 100,
        unit: 'USD',
        ...(goal ? { goal } : {}),
        note:
          `${Math.round(month.metricHours).toLocaleString('en')} metric-hours/month ($${month.metricUsd.toFixed(2)}) + ` +
          `${Math.round(run.putMetricDataCallsPerDay * DAYS_PER_MONTH).toLocaleString('en')} PutMetricData calls ($${month.callsUsd.toFixed(2)})`,
      },
    ];
  };
  return [...figure(result.before, 'before'), ...figure(result.after, 'after', { op: '<=', value: 150 })];
}
