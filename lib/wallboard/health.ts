import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { deadlineSignal } from '../concurrency.js';
import type { Log } from '../log.js';
import type { Datum, MetricSink } from '../metrics/metric-sink.js';
import type { HealthMetricName } from '../model.js';
import { observedSink, SharedReadBack, type VdnRef } from './read-back.js';
import type { CollectorHealth, HealthReading } from './render.js';
import type { HealthSource } from './service.js';

// The collector's health as the wallboard shows it: what the collector itself published (CollectionSuccess,
// CmsLatency, SkillsMissing, DataAge), read back from CloudWatch in the deployment, or caught on its way to
// the sink in a local run. A VDN with no health datapoint in the look-back period has a silent collector.

/** How far back a health datapoint still counts: three missed one-minute runs and more are worth showing. */
const HEALTH_LOOKBACK_MINUTES = 15;
/** Health metrics move once per collector run (a minute): viewers share one CloudWatch read per VDN this long. */
const HEALTH_CACHE_MS = 30_000;

const healthOf = (at: number, values: ReadonlyMap<HealthMetricName, number>): CollectorHealth => ({
  at,
  collectionSuccess: values.get('CollectionSuccess'),
  cmsLatencyMs: values.get('CmsLatency'),
  skillsMissing: values.get('SkillsMissing'),
  dataAgeSeconds: values.get('DataAge'),
});

/**
 * The health metrics the wallboard shows (healthOf), and so the only ones it reads: GetMetricData bills each
 * metric asked for. WindowCoverage describes finished windows, which the alarms watch.
 */
const SHOWN: readonly HealthMetricName[] = ['CollectionSuccess', 'CmsLatency', 'SkillsMissing', 'DataAge'];
const SHOWN_NAMES: ReadonlySet<string> = new Set(SHOWN);

/** Local runs: keeps the newest health datums of each VDN as they pass to the real sink. */
export class HealthRecorder implements HealthSource {
  readonly #latest = new Map<string, { at: number; values: Map<HealthMetricName, number> }>();
  readonly #since: number;

  constructor(private readonly now: () => number = Date.now) {
    this.#since = now();
  }

  /** `sink` with every published health datum recorded first. */
  recording(sink: MetricSink): MetricSink {
    return observedSink(sink, (datums) => this.observe(datums));
  }

  observe(datums: readonly Datum[]): void {
    for (const datum of datums) {
      if (!SHOWN_NAMES.has(datum.name) || datum.dimensions.SkillId !== undefined) continue;
      const key = `${datum.dimensions.CcId}/${datum.dimensions.Vdn}`;
      let entry = this.#latest.get(key);
      if (entry === undefined || datum.timestamp > entry.at) {
        entry = { at: datum.timestamp, values: new Map() };
        this.#latest.set(key, entry);
      }
      if (datum.timestamp === entry.at) entry.values.set(datum.name as HealthMetricName, datum.value);
    }
  }

  async read(vdn: VdnRef): Promise<HealthReading> {
    const entry = this.#latest.get(`${vdn.ccId}/${vdn.vdn}`);
    const lookbackMs = HEALTH_LOOKBACK_MINUTES * 60_000;
    if (entry === undefined || this.now() - entry.at > lookbackMs) {
      const minutes = Math.min(HEALTH_LOOKBACK_MINUTES, Math.ceil((this.now() - this.#since) / 60_000));
      return { kind: 'silent', sinceMinutes: Math.max(1, minutes) };
    }
    return { kind: 'known', health: healthOf(entry.at, entry.values) };
  }
}

export interface CloudWatchHealthOptions {
  readonly client: CloudWatchClient;
  readonly namespace: string;
  readonly log: Log;
  readonly now?: () => number;
}

/** The deployment: the newest health datapoints of the VDN, one GetMetricData call for the metrics shown. */
export class CloudWatchHealth implements HealthSource {
  readonly #readBack: SharedReadBack<HealthReading>;
  readonly #now: () => number;

  constructor(private readonly options: CloudWatchHealthOptions) {
    this.#now = options.now ?? Date.now;
    this.#readBack = new SharedReadBack({
      ttlMs: HEALTH_CACHE_MS,
      now: this.#now,
      log: options.log,
      what: 'collector health',
    });
  }

  read(vdn: VdnRef, deadline: number): Promise<HealthReading> {
    return this.#readBack.read(vdn, `${vdn.ccId}/${vdn.vdn}`, () => this.#load(vdn, deadline));
  }

  async #load(vdn: VdnRef, deadline: number): Promise<HealthReading> {
    const end = this.#now();
    const dimensions = [
      { Name: 'CcId', Value: String(vdn.ccId) },
      { Name: 'Vdn', Value: String(vdn.vdn) },
    ];
    const output = await this.options.client.send(
      new GetMetricDataCommand({
        StartTime: new Date(end - HEALTH_LOOKBACK_MINUTES * 60_000),
        EndTime: new Date(end),
        ScanBy: 'TimestampDescending',
        MetricDataQueries: SHOWN.map((name, index) => ({
          Id: `h${index}`,
          ReturnData: true,
          MetricStat: {
            Metric: { Namespace: this.options.namespace, MetricName: name, Dimensions: dimensions },
            Period: 60,
            // A minute with a failed and a successful run counts as failed.
            Stat: name === 'CollectionSuccess' ? 'Minimum' : 'Maximum',
          },
        })),
      }),
      { abortSignal: deadlineSignal(deadline - Date.now()) },
    );
    const values = new Map<HealthMetricName, number>();
    let at: number | undefined;
    SHOWN.forEach((name, index) => {
      const result = output.MetricDataResults?.find((item) => item.Id === `h${index}`);
      const value = result?.Values?.[0];
      const timestamp = result?.Timestamps?.[0];
      if (value === undefined || timestamp === undefined) return;
      values.set(name, value);
      if (name === 'CollectionSuccess') at = timestamp.getTime();
    });
    if (at === undefined) return { kind: 'silent', sinceMinutes: HEALTH_LOOKBACK_MINUTES };
    return { kind: 'known', health: healthOf(at, values) };
  }
}
