/**
 * What a collection should publish, worked out from what the simulator served and the contract (metrics.md),
 * and the differences between that and what the fake CloudWatch received: the end-to-end check of the collector
 * shared by the integration tests and the fault suite.
 */
import {
  COUNTERS,
  KPIS,
  LIVE_QUEUE_METRICS,
  type LiveQueueMetricName,
  METRIC_UNITS,
  type MetricName,
} from '../../lib/model.js';
import type { CmsQueueRecord, CmsSimulator, CmsSkillRecord } from '../../local/simulator/index.js';
import type { ReceivedDatum } from './fake-aws.js';
import { expectedKpis, nearestDouble } from './kpi-oracle.js';

/** A collector target both ways: as CMS_TARGETS spells it, and as the skills it covers. */
export interface TargetSpec {
  readonly ccId: number;
  readonly vdn: number;
  /** As written in CMS_TARGETS. */
  readonly skillList: string;
  readonly skillIds: readonly number[];
}

/** first to last, both included: the skills of a `first-last` skill list. */
export function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, index) => first + index);
}

export function targetsJson(targets: readonly TargetSpec[]): string {
  return JSON.stringify(
    targets.map((target) => ({ ccId: target.ccId, vdn: target.vdn, skillIds: target.skillList })),
  );
}

type CounterValues = Omit<CmsSkillRecord, 'id' | 'startTime'>;

function statDatums(
  values: CounterValues,
  timestamp: number,
  dimensions: Record<string, string>,
): ReceivedDatum[] {
  const datum = (name: MetricName, value: number): ReceivedDatum => ({
    name,
    unit: METRIC_UNITS[name],
    value,
    timestamp,
    dimensions,
  });
  const kpis = expectedKpis(values);
  return [
    ...COUNTERS.map((counter) => datum(counter.name, values[counter.cmsField])),
    ...KPIS.flatMap(({ name }) => {
      const value = kpis[name];
      return value === undefined ? [] : [datum(name, value)];
    }),
  ];
}

/** A live-queue datum without its timestamp: the time of the read, which only the run knows. */
type LiveDatum = Omit<ReceivedDatum, 'timestamp'>;

export interface ExpectedVdn {
  /** Roll-up and per-skill counters and KPIs, each stamped with its window's start. */
  readonly stats: readonly ReceivedDatum[];
  /**
   * The live queue (metrics.md, "Live queue") with every metric selected per skill: the VDN's calls waiting
   * (sum) and longest wait (maximum), and each skill's whose queue is not empty.
   */
  readonly live: readonly LiveDatum[];
  readonly windowStart: number;
  readonly missingSkills: number;
}

/** What CMS's live-queue fields are called in the contract's metrics. */
const QUEUE_FIELDS: Readonly<Record<LiveQueueMetricName, 'queueSize' | 'queueTime'>> = {
  CallsWaiting: 'queueSize',
  LongestWaitTime: 'queueTime',
};

function liveDatums(records: readonly CmsQueueRecord[], vdnDimensions: Record<string, string>): LiveDatum[] {
  if (records.length === 0) return [];
  const live = (name: LiveQueueMetricName, value: number, dimensions: Record<string, string>) => ({
    name,
    unit: METRIC_UNITS[name],
    value,
    dimensions,
  });
  const waiting = records.reduce((sum, record) => sum + record.queueSize, 0);
  const longest = Math.max(...records.map((record) => record.queueTime));
  return [
    live('CallsWaiting', waiting, vdnDimensions),
    live('LongestWaitTime', longest, vdnDimensions),
    ...records
      .filter((record) => record.queueSize > 0 || record.queueTime > 0)
      .flatMap((record) =>
        LIVE_QUEUE_METRICS.map(({ name }) =>
          live(name, record[QUEUE_FIELDS[name]], { ...vdnDimensions, SkillId: String(record.skillId) }),
        ),
      ),
  ];
}

/**
 * The counters, KPIs and live queue metrics.md says a run at `at` publishes for a target the simulator served
 * in full, with every metric selected per skill.
 */
export function expectedVdn(
  simulator: Pick<CmsSimulator, 'statsAt' | 'queueAt'>,
  target: TargetSpec,
  at: number,
): ExpectedVdn {
  const served = target.skillIds.flatMap((skillId) => {
    const record = simulator.statsAt(target.ccId, target.vdn, skillId, at);
    return record === undefined ? [] : [record];
  });
  const vdnDimensions = { CcId: String(target.ccId), Vdn: String(target.vdn) };
  const windowStart = Math.max(...served.map((record) => record.startTime));
  const current = served.filter((record) => record.startTime === windowStart);
  const sums = Object.fromEntries(
    COUNTERS.map(({ cmsField }) => [cmsField, current.reduce((sum, record) => sum + record[cmsField], 0)]),
  ) as unknown as CounterValues;
  return {
    stats: [
      ...statDatums(sums, windowStart, vdnDimensions),
      // A skill whose counters are all zero publishes nothing (metrics.md, idle windows).
      ...served
        .filter((record) => COUNTERS.some(({ cmsField }) => record[cmsField] !== 0))
        .flatMap((record) =>
          statDatums(record, record.startTime, { ...vdnDimensions, SkillId: String(record.id) }),
        ),
    ],
    live: liveDatums(
      target.skillIds.flatMap((skillId) => simulator.queueAt(target.ccId, target.vdn, skillId, at) ?? []),
      vdnDimensions,
    ),
    windowStart,
    missingSkills: target.skillIds.length - served.length,
  };
}

/** `Name CcId=1 Vdn=170 SkillId=3`: what identifies a datum within one run. */
export function datumKey(datum: ReceivedDatum): string {
  const { CcId, Vdn, SkillId } = datum.dimensions;
  return `${datum.name} CcId=${CcId} Vdn=${Vdn}${SkillId === undefined ? '' : ` SkillId=${SkillId}`}`;
}

/** The datums of one VDN (roll-up, skills and health) among everything received. */
function datumsOfVdn(received: readonly ReceivedDatum[], target: TargetSpec): ReceivedDatum[] {
  return received.filter(
    (datum) => datum.dimensions.CcId === String(target.ccId) && datum.dimensions.Vdn === String(target.vdn),
  );
}

/** How long before its health datums a run may have read the live queue. */
const MAX_RUN_MS = 30_000;

/**
 * Differences between what was received for one VDN and what a successful collection publishes: every counter
 * and KPI exactly once with its value, unit and window timestamp; the live queue's figures with their values,
 * all stamped with one time of reading within the run; CollectionSuccess 1; SkillsMissing; a CmsLatency; a
 * DataAge that is the age of the window at the run's time. Empty when they agree.
 */
export function healthyVdnMismatches(
  received: readonly ReceivedDatum[],
  expected: ExpectedVdn,
  target: TargetSpec,
): string[] {
  const mine = datumsOfVdn(received, target);
  const mismatches: string[] = [];
  const byKey = new Map<string, ReceivedDatum[]>();
  for (const datum of mine) byKey.set(datumKey(datum), [...(byKey.get(datumKey(datum)) ?? []), datum]);
  const take = (key: string): ReceivedDatum | undefined => {
    const found = byKey.get(key) ?? [];
    byKey.delete(key);
    if (found.length > 1) mismatches.push(`${key}: received ${found.length} times`);
    return found[0];
  };
  for (const want of expected.stats) {
    const key = datumKey(want);
    const got = take(key);
    if (got === undefined) mismatches.push(`${key}: missing`);
    else if (got.unit !== want.unit || got.timestamp !== want.timestamp || got.value !== want.value) {
      mismatches.push(`${key}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    }
  }
  const readAt = new Set<number>();
  for (const want of expected.live) {
    const key = datumKey({ ...want, timestamp: 0 });
    const got = take(key);
    if (got === undefined) mismatches.push(`${key}: missing`);
    else if (got.unit !== want.unit || got.value !== want.value) {
      mismatches.push(`${key}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    } else readAt.add(got.timestamp);
  }
  const health = (name: MetricName) => take(`${name} CcId=${target.ccId} Vdn=${target.vdn}`);
  const success = health('CollectionSuccess');
  if (success?.value !== 1 || success.unit !== 'Count') {
    mismatches.push(`CollectionSuccess: ${JSON.stringify(success)}`);
  }
  const missing = health('SkillsMissing');
  if (missing?.value !== expected.missingSkills || missing.unit !== 'Count') {
    mismatches.push(`SkillsMissing: ${JSON.stringify(missing)}, expected ${expected.missingSkills}`);
  }
  const latency = health('CmsLatency');
  if (!(latency !== undefined && latency.value >= 0 && latency.unit === 'Milliseconds')) {
    mismatches.push(`CmsLatency: ${JSON.stringify(latency)}`);
  }
  const age = health('DataAge');
  const runTime = success?.timestamp;
  if (
    age === undefined ||
    runTime === undefined ||
    age.unit !== 'Seconds' ||
    age.timestamp !== runTime ||
    latency?.timestamp !== runTime ||
    missing?.timestamp !== runTime ||
    age.value !== nearestDouble(BigInt(runTime - expected.windowStart), 1000n)
  ) {
    mismatches.push(`DataAge: ${JSON.stringify(age)} at run time ${runTime}`);
  }
  const [liveAt, ...others] = readAt;
  if (
    others.length > 0 ||
    (liveAt !== undefined && runTime !== undefined && !(liveAt <= runTime && runTime - liveAt < MAX_RUN_MS))
  ) {
    mismatches.push(`live queue stamped ${[...readAt].join(', ')}, run at ${runTime}`);
  }
  for (const key of byKey.keys()) mismatches.push(`${key}: not expected`);
  return mismatches;
}

const LIVE_NAMES: ReadonlySet<string> = new Set(LIVE_QUEUE_METRICS.map((metric) => metric.name));

/**
 * Differences between what was received for one VDN and what a failed collection publishes: CollectionSuccess
 * 0, SkillsMissing 0, CmsLatency when a request was sent to CMS (`sent`: not when the key pair could not even be
 * read), and nothing else (no counter, no KPI, no DataAge). The live queue is read apart from the counters, so a
 * VDN whose counters failed may still publish it: it is not looked at here.
 */
export function failedVdnMismatches(
  received: readonly ReceivedDatum[],
  target: TargetSpec,
  { sent = true } = {},
): string[] {
  const mine = datumsOfVdn(received, target).filter((datum) => !LIVE_NAMES.has(datum.name));
  const mismatches: string[] = [];
  const names = mine.map((datum) => datum.name).sort();
  const expected = [...(sent ? ['CmsLatency'] : []), 'CollectionSuccess', 'SkillsMissing'];
  if (JSON.stringify(names) !== JSON.stringify(expected)) {
    mismatches.push(`published ${names.join(', ')}`);
  }
  for (const datum of mine) {
    if (datum.dimensions.SkillId !== undefined) mismatches.push(`${datumKey(datum)}: a skill datum`);
    if (datum.name === 'CollectionSuccess' && datum.value !== 0)
      mismatches.push('CollectionSuccess is not 0');
    if (datum.name === 'SkillsMissing' && datum.value !== 0) mismatches.push('SkillsMissing is not 0');
    if (datum.name === 'CmsLatency' && !(datum.value >= 0)) mismatches.push('CmsLatency is negative');
  }
  return mismatches;
}
