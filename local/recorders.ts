import type { Datum, MetricSink } from '../lib/metrics/metric-sink.js';
import { type HealthMetricName, WINDOW_MS } from '../lib/model.js';
import { HEALTH_LOOKBACK_MINUTES, healthOf, SHOWN_NAMES } from '../lib/wallboard/health.js';
import type { VdnRef } from '../lib/wallboard/read-back.js';
import type { HealthReading } from '../lib/wallboard/render.js';
import type { HealthSource } from '../lib/wallboard/service.js';
import {
  firstWindowOf,
  TODAY_COUNTERS,
  TODAY_NAMES,
  type TodayCounter,
  type TodayReading,
  type TodaySource,
} from '../lib/wallboard/today.js';

// Local runs have no CloudWatch to read the wallboard's health and day so far back from: these recorders catch
// the collector's datums on their way to the terminal table and answer the wallboard from them.

/** `sink` with every datum shown to `observe` before it is published. */
function observedSink(sink: MetricSink, observe: (datums: readonly Datum[]) => void): MetricSink {
  return {
    publish: (datums) => {
      observe(datums);
      return sink.publish(datums);
    },
  };
}

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
