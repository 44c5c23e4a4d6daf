import { performance } from 'node:perf_hooks';
import { CmsClient } from '../lib/cms/client.js';
import { staticCredentials } from '../lib/cms/credentials.js';
import { loadCmsSettings } from '../lib/cms/settings.js';
import type { VdnRead } from '../lib/cms/vdn-read.js';
import { CLOSING_READ_DEFAULTS } from '../lib/collector/closing-read.js';
import { runCollection } from '../lib/collector/run.js';
import type { Log } from '../lib/log.js';
import { DEFAULT_METRICS, type MetricSelection, OTLP_DEFAULT_METRICS } from '../lib/metrics/build-datums.js';
import type { Datum, MetricSink } from '../lib/metrics/metric-sink.js';
import type { OtlpDatapoints } from '../lib/metrics/otlp-config.js';
import { OtlpExporter } from '../lib/metrics/otlp-sink.js';
import {
  COUNTERS,
  KPIS,
  type MetricName,
  OTLP_COUNTER_NAMES,
  OTLP_SERVICE_NAME,
  type SkillStats,
  type Target,
} from '../lib/model.js';
import { type OpeningHours, startCmsSimulator } from '../local/simulator/index.js';
import type { Figure } from './report.js';

/**
 * What the metrics of one VDN cost a month: the real collector (CMS client, KPI code, datum builder) runs once a
 * minute through a simulated day against the simulator, whose queues take calls only in opening hours, and every
 * datum it publishes is metered as CloudWatch bills it: a custom metric costs for each hour in which it
 * receives data. The day runs on a simulated clock, so it takes seconds, not a day.
 */

/** us-east-1 list prices (aws-facts.md): custom metrics by tier, per metric-month; PutMetricData per call. */
const METRIC_TIERS: readonly { readonly upTo: number; readonly usd: number }[] = [
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

/** CloudWatch OTLP ingestion, per GB (aws-facts.md); a GB taken as 10^9 bytes, the larger count. */
const OTLP_USD_PER_GB = 0.5;

/**
 * Bytes CloudWatch bills for OTLP datapoints, by its documented rule ("the serialized size of each datapoint:
 * name, labels, resource attributes, timestamps, value"): each datapoint as serialized in the request, plus its
 * metric's name and the resource's attributes, which a request carries once for many datapoints. A read sends
 * only the counters that changed, so which names come with the datapoints is not counted: each is billed with
 * the longest (the larger count).
 */
function otlpBilledBytes(requestBytes: number, points: number): number {
  const name = Math.max(...COUNTERS.map(({ name }) => OTLP_COUNTER_NAMES[name].length));
  const resource = 'service.name'.length + OTLP_SERVICE_NAME.length;
  return requestBytes + points * (name + resource);
}

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
  /** Datums of each run, in order. */
  readonly runs: number[] = [];

  async publish(datums: readonly Datum[]) {
    this.#meter(datums);
    this.#lastRunDatums = datums.length;
    this.runs.push(datums.length);
    const calls = Math.ceil(datums.length / DATUMS_PER_CALL);
    this.calls += calls;
    return { published: datums.length, calls, failures: [] };
  }

  /** Datums that the run just published would have carried too, batched with them. */
  addToLastRun(datums: readonly Datum[]): void {
    this.#meter(datums);
    const before = Math.ceil(this.#lastRunDatums / DATUMS_PER_CALL);
    this.#lastRunDatums += datums.length;
    this.runs[this.runs.length - 1] = this.#lastRunDatums;
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
  readonly id: string;
  readonly label: string;
  readonly metricHoursPerDay: number;
  readonly putMetricDataCallsPerDay: number;
  readonly datumsPerDay: number;
  readonly metricHoursByHour: readonly number[];
  /** Datums of each run: what a fleet of such VDNs, collected together, would batch. */
  readonly datumsPerRun: readonly number[];
  /** The OTLP export of the day, when the variant has one: datapoints and uncompressed protobuf bytes. */
  readonly otlpPointsPerDay: number;
  readonly otlpBytesPerDay: number;
}

/** One way of publishing the same CMS answers. */
export interface CostVariant {
  readonly id: string;
  readonly label: string;
  readonly selection: MetricSelection;
  /** Publish the zero counters of idle skills too, as the collector did before it skipped them. */
  readonly idleSkillsToo: boolean;
  /** Take a closing read before each window's end, as the collector does by default. */
  readonly closingReads: boolean;
  /** Export every busy skill's counters over OTLP too, through the real exporter, with these datapoints. */
  readonly otlp?: OtlpDatapoints;
}

/** Every counter and KPI: all the collector published, per skill and per VDN, before it read the live queue. */
const COUNTERS_AND_KPIS: ReadonlySet<MetricName> = new Set(
  [...COUNTERS, ...KPIS].map((metric) => metric.name),
);

export const PREVIOUS_DEFAULTS: CostVariant = {
  id: 'before',
  label: 'previous defaults (12 metrics per skill, idle skills too)',
  selection: { skill: COUNTERS_AND_KPIS, vdn: COUNTERS_AND_KPIS },
  idleSkillsToo: true,
  closingReads: false,
};

export const CURRENT_DEFAULTS: CostVariant = {
  id: 'after',
  label: 'defaults (2 counters per skill, idle skills skipped)',
  selection: DEFAULT_METRICS,
  idleSkillsToo: false,
  closingReads: true,
};

/**
 * OTLP on, the defaults: per skill nothing classic, every counter of every busy skill's window total over OTLP;
 * the VDN roll-ups and health classic.
 */
const OTLP_DEFAULTS: CostVariant = {
  id: 'otlp',
  label:
    "OTLP on (each busy skill's window totals, every counter, over OTLP; the roll-ups the stack reads and health classic)",
  selection: OTLP_DEFAULT_METRICS,
  idleSkillsToo: false,
  closingReads: true,
  otlp: 'window-totals',
};

/** OTLP on with OTLP_DATAPOINTS=every-read: each read's new figures too. */
const OTLP_EVERY_READ: CostVariant = {
  ...OTLP_DEFAULTS,
  id: 'otlpEveryRead',
  label: "OTLP on, every read (each read's changed counters too, OTLP_DATAPOINTS=every-read)",
  otlp: 'every-read',
};

export interface CostResult {
  readonly plan: CostPlan;
  readonly runs: readonly CostRun[];
  readonly cmsRequests: number;
  readonly elapsedMs: number;
}

const DAY = Date.UTC(2026, 10, 26);
/** The collector's time budget per run: its default timeout less Lambda's safety margin. */
const RUN_BUDGET_MS = 109_000;
const silent: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export async function runCostBench(
  plan: CostPlan,
  variants: readonly CostVariant[] = [PREVIOUS_DEFAULTS, CURRENT_DEFAULTS, OTLP_DEFAULTS, OTLP_EVERY_READ],
): Promise<CostResult> {
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
    // Every variant sees the very same CMS answers: CMS is read once per instant.
    let cmsRequests = 0;
    type Options = { readonly deadline: number; readonly liveQueue?: boolean | undefined };
    const perInstant = (liveQueue: boolean) => {
      const readings = new Map<number, VdnRead>();
      const once = async (options: Options) => {
        let result = readings.get(clock);
        if (result === undefined) {
          result = await cms.currentCallStats(target, { ...options, liveQueue });
          cmsRequests += result.requests + (result.liveQueue?.requests ?? 0);
          readings.set(clock, result);
          // Only the instants of the current run are ever read again.
          for (const at of readings.keys()) if (at < clock - 60_000) readings.delete(at);
        }
        return result;
      };
      return { readings, once };
    };
    // A run's normal read takes the live queue along, its closing read does not.
    const counters = perInstant(false);
    const both = perInstant(true);
    const source = {
      currentCallStats: (_query: Target, options: Options) =>
        options.liveQueue === true ? both.once(options) : counters.once(options),
    };
    const closing = {
      guardMs: CLOSING_READ_DEFAULTS.guardSeconds * 1_000,
      reachMs: CLOSING_READ_DEFAULTS.reachSeconds * 1_000,
    };
    // The wait for a closing read jumps the simulated clock instead of sleeping.
    const sleep = async (ms: number) => {
      clock += ms;
    };
    const sinks = variants.map(() => new MeteringSink(now));
    // The real exporter (policy, encoder, batching, gzip) with a transport that accepts everything at once.
    const otlpExporters = variants.map(
      (variant) =>
        variant.otlp &&
        new OtlpExporter({
          endpoint: new URL('http://127.0.0.1:9/v1/metrics'),
          now,
          datapoints: variant.otlp,
          post: async () => ({
            status: 200,
            retryAfter: undefined,
            contentType: undefined,
            body: Buffer.alloc(0),
          }),
        }),
    );
    const otlpDay = variants.map(() => ({ points: 0, bytes: 0 }));
    // Scheduled runs start a second into each minute, as EventBridge invokes them.
    for (let minute = 0; minute < 24 * 60; minute += plan.everyMinutes) {
      const runStart = DAY + minute * 60_000 + 1_000;
      for (const [index, variant] of variants.entries()) {
        const sink = sinks[index] as MeteringSink;
        const otlp = otlpExporters[index];
        clock = runStart;
        const summary = await runCollection(
          { cms: source, sink, log: silent, now, sleep, ...(otlp ? { otlp } : {}) },
          {
            targets: [target],
            deadline: runStart + RUN_BUDGET_MS,
            selection: variant.selection,
            ...(variant.closingReads ? { closing } : {}),
          },
        );
        const day = otlpDay[index] as { points: number; bytes: number };
        day.points += summary.otlp?.points ?? 0;
        day.bytes += summary.otlp?.bytes ?? 0;
        const first = both.readings.get(runStart);
        if (variant.idleSkillsToo && first) {
          sink.addToLastRun(idleZeroCounters(first.skills, variant.selection, clock));
        }
      }
    }
    return {
      plan,
      runs: variants.map((variant, index) => {
        const sink = sinks[index] as MeteringSink;
        return {
          id: variant.id,
          label: variant.label,
          metricHoursPerDay: sink.metricHours,
          putMetricDataCallsPerDay: sink.calls,
          datumsPerDay: sink.datums,
          metricHoursByHour: sink.byHour,
          datumsPerRun: sink.runs,
          otlpPointsPerDay: otlpDay[index]?.points ?? 0,
          otlpBytesPerDay: otlpDay[index]?.bytes ?? 0,
        };
      }),
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

/**
 * What `vdns` VDNs like the metered one cost a month: the classic metrics (tiers over the whole fleet), the
 * PutMetricData calls of runs that batch every VDN's datums together, and the OTLP ingestion (priced by the
 * documented per-datapoint rule; the request bytes alone are reported beside it).
 */
function fleetMonthlyCost(run: CostRun, vdns: number) {
  const metricMonths = (run.metricHoursPerDay * vdns * DAYS_PER_MONTH) / HOURS_PER_MONTH;
  const calls = run.datumsPerRun.reduce(
    (sum, datums) => sum + Math.ceil((datums * vdns) / DATUMS_PER_CALL),
    0,
  );
  const otlpRequestGb = (run.otlpBytesPerDay * vdns * DAYS_PER_MONTH) / 1e9;
  const otlpBilledGb =
    (otlpBilledBytes(run.otlpBytesPerDay, run.otlpPointsPerDay) * vdns * DAYS_PER_MONTH) / 1e9;
  const metricUsd = metricDollars(metricMonths);
  const callsUsd = calls * DAYS_PER_MONTH * PUT_METRIC_DATA_USD;
  const otlpUsd = otlpBilledGb * OTLP_USD_PER_GB;
  return {
    metricMonths,
    metricUsd,
    callsUsd,
    otlpRequestGb,
    otlpBilledGb,
    otlpUsd,
    otlpPoints: run.otlpPointsPerDay * vdns * DAYS_PER_MONTH,
    totalUsd: metricUsd + callsUsd + otlpUsd,
  };
}

const dollars = (usd: number) => `$${usd.toFixed(2)}`;

export function costFigures(result: CostResult): Figure[] {
  const { skills, openingHours } = result.plan;
  const hour = (value: number) => `${String(value).padStart(2, '0')}:00`;
  const hours = `${hour(openingHours.opensAtHour)}–${hour(openingHours.closesAtHour)}`;
  return result.runs.flatMap((run): Figure[] => {
    const month = monthlyCost({
      metricHours: run.metricHoursPerDay,
      putMetricDataCalls: run.putMetricDataCallsPerDay,
    });
    const calls = Math.round(run.putMetricDataCallsPerDay * DAYS_PER_MONTH);
    if (run.otlpPointsPerDay === 0) {
      return [
        {
          id: `cost.${run.id}.usdPerMonth`,
          label: `cost, ${skills} skills of one VDN busy ${hours}, $/month: ${run.label}`,
          value: Math.round(month.totalUsd * 100) / 100,
          unit: 'USD',
          // The target of the current defaults: per-skill history at a twelfth of what a 500-skill VDN used to cost.
          ...(run.id === CURRENT_DEFAULTS.id ? { goal: { op: '<=' as const, value: 150 } } : {}),
          note:
            `${Math.round(month.metricHours).toLocaleString('en')} metric-hours/month ($${month.metricUsd.toFixed(2)}) + ` +
            `${calls.toLocaleString('en')} PutMetricData calls ($${month.callsUsd.toFixed(2)})`,
        },
      ];
    }
    // Every counter of every busy skill for a few dollars: one VDN within $10, twenty within $100.
    return [1, 20].map((vdns): Figure => {
      const fleet = fleetMonthlyCost(run, vdns);
      return {
        id: `cost.${run.id}.${vdns}vdn.usdPerMonth`,
        label: `cost, ${vdns} VDN${vdns === 1 ? '' : 's'} × ${skills} skills busy ${hours}, $/month: ${run.label}`,
        value: Math.round(fleet.totalUsd * 100) / 100,
        unit: 'USD',
        ...(run.id === OTLP_DEFAULTS.id ? { goal: { op: '<=' as const, value: vdns === 1 ? 10 : 100 } } : {}),
        note:
          `OTLP ${(fleet.otlpPoints / 1e6).toFixed(1)} M datapoints, ${fleet.otlpBilledGb.toFixed(2)} GB billed ` +
          `(${fleet.otlpRequestGb.toFixed(2)} GB of requests) ${dollars(fleet.otlpUsd)} + classic ` +
          `${Math.round(fleet.metricMonths).toLocaleString('en')} metric-months ${dollars(fleet.metricUsd)} + ` +
          `PutMetricData ${dollars(fleet.callsUsd)}`,
      };
    });
  });
}
