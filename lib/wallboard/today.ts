import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { deadlineSignal } from '../concurrency.js';
import type { Log } from '../log.js';
import type { Datum, MetricSink } from '../metrics/metric-sink.js';
import { type CounterName, WINDOW_MS } from '../model.js';
import { observedSink, SharedReadBack, type VdnRef } from './read-back.js';

// A VDN's day so far on the wallboard: calls offered, answered, abandoned and answered within 20 s since local
// midnight, each 5-minute window counted once with its last read (the Maximum of its period), summed. Read back
// from CloudWatch in the deployment, or caught on its way to the sink in a local run. Only the VDN's own roll-up
// series are read, four of them: GetMetricData is billed per metric requested, and a widget that fetched every
// skill's series at each refresh would cost hundreds of dollars a month (aws-facts.md, "Reading metrics back
// costs money").

/** The counters the day is made of: enough for the day's abandonment rate and service level. */
export const TODAY_COUNTERS = [
  'CallsOffered',
  'CallsAnswered',
  'CallsAbandoned',
  'CallsAnsweredIn20s',
] as const satisfies readonly CounterName[];

type TodayCounter = (typeof TODAY_COUNTERS)[number];

export type TodayReading =
  | {
      readonly kind: 'known';
      /** The first instant of the day, epoch ms. */
      readonly since: number;
      readonly counters: Readonly<Record<TodayCounter, number>>;
    }
  | { readonly kind: 'unavailable'; readonly reason: string };

/** A VDN's counters since `since`; never throws (unavailable is a reading). */
export interface TodaySource {
  read(vdn: VdnRef, since: number, deadline: number): Promise<TodayReading>;
}

/** The window a datapoint stamped at `at` belongs to counts on the day it started: windows from `since` on. */
const firstWindowOf = (since: number) => Math.ceil(since / WINDOW_MS) * WINDOW_MS;

const TODAY_NAMES: ReadonlySet<string> = new Set(TODAY_COUNTERS);

/** Local runs: keeps each VDN window's largest counters as they pass to the real sink. */
export class TodayRecorder implements TodaySource {
  /** `ccId/vdn` → window start → counter → the window's largest value so far. */
  readonly #windows = new Map<string, Map<number, Map<TodayCounter, number>>>();

  /** `sink` with every published VDN counter recorded first. */
  recording(sink: MetricSink): MetricSink {
    return observedSink(sink, (datums) => this.observe(datums));
  }

  observe(datums: readonly Datum[]): void {
    for (const datum of datums) {
      if (!TODAY_NAMES.has(datum.name) || datum.dimensions.SkillId !== undefined) continue;
      const key = `${datum.dimensions.CcId}/${datum.dimensions.Vdn}`;
      const windows = this.#windows.get(key) ?? new Map<number, Map<TodayCounter, number>>();
      this.#windows.set(key, windows);
      const windowStart = Math.floor(datum.timestamp / WINDOW_MS) * WINDOW_MS;
      const counters = windows.get(windowStart) ?? new Map<TodayCounter, number>();
      windows.set(windowStart, counters);
      const name = datum.name as TodayCounter;
      counters.set(name, Math.max(counters.get(name) ?? 0, datum.value));
    }
  }

  async read(vdn: VdnRef, since: number): Promise<TodayReading> {
    const sums = Object.fromEntries(TODAY_COUNTERS.map((name) => [name, 0])) as Record<TodayCounter, number>;
    for (const [windowStart, counters] of this.#windows.get(`${vdn.ccId}/${vdn.vdn}`) ?? []) {
      if (windowStart < firstWindowOf(since)) continue;
      for (const [name, value] of counters) sums[name] += value;
    }
    return { kind: 'known', since, counters: sums };
  }
}

export interface CloudWatchTodayOptions {
  readonly client: CloudWatchClient;
  readonly namespace: string;
  readonly log: Log;
  readonly now?: () => number;
}

/** The day moves once per collector run (a minute): viewers share one CloudWatch read per VDN this long. */
const TODAY_CACHE_MS = 60_000;
/** A 25-hour day holds 300 windows: a page of GetMetricData, with room; more pages would be a CloudWatch fault. */
const MAX_PAGES = 5;

/** The deployment: one GetMetricData call of the VDN's four roll-up counters since the day began. */
export class CloudWatchToday implements TodaySource {
  readonly #readBack: SharedReadBack<TodayReading>;
  readonly #now: () => number;

  constructor(private readonly options: CloudWatchTodayOptions) {
    this.#now = options.now ?? Date.now;
    this.#readBack = new SharedReadBack({
      ttlMs: TODAY_CACHE_MS,
      now: this.#now,
      log: options.log,
      what: 'the day so far',
    });
  }

  read(vdn: VdnRef, since: number, deadline: number): Promise<TodayReading> {
    const key = `${vdn.ccId}/${vdn.vdn}/${since}`;
    return this.#readBack.read(vdn, key, () => this.#load(vdn, since, deadline));
  }

  async #load(vdn: VdnRef, since: number, deadline: number): Promise<TodayReading> {
    const start = firstWindowOf(since);
    const dimensions = [
      { Name: 'CcId', Value: String(vdn.ccId) },
      { Name: 'Vdn', Value: String(vdn.vdn) },
    ];
    const sums = Object.fromEntries(TODAY_COUNTERS.map((name) => [name, 0])) as Record<TodayCounter, number>;
    const add = (results: readonly MetricDataResult[] | undefined) => {
      TODAY_COUNTERS.forEach((name, index) => {
        const result = results?.find((item) => item.Id === `c${index}`);
        for (const value of result?.Values ?? []) sums[name] += value;
      });
    };
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const output = await this.options.client.send(
        new GetMetricDataCommand({
          StartTime: new Date(start),
          EndTime: new Date(Math.max(this.#now(), start + WINDOW_MS)),
          NextToken: nextToken,
          MetricDataQueries: TODAY_COUNTERS.map((name, index) => ({
            Id: `c${index}`,
            ReturnData: true,
            // A window's Maximum is its last read: each window counts once, however often it was read.
            MetricStat: {
              Metric: { Namespace: this.options.namespace, MetricName: name, Dimensions: dimensions },
              Period: WINDOW_MS / 1_000,
              Stat: 'Maximum',
            },
          })),
        }),
        { abortSignal: deadlineSignal(deadline - Date.now()) },
      );
      add(output.MetricDataResults);
      nextToken = output.NextToken;
      if (nextToken === undefined) return { kind: 'known', since, counters: sums };
    }
    throw new Error(`GetMetricData returned more than ${MAX_PAGES} pages for one day`);
  }
}
