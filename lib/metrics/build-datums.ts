import type { VdnRead } from '../cms/vdn-read.js';
import { computeKpis } from '../kpi.js';
import {
  COUNTERS,
  type Counters,
  KPIS,
  type Kpis,
  LIVE_QUEUE_METRICS,
  METRIC_UNITS,
  type MetricName,
} from '../model.js';
import { quoted } from '../text.js';
import type { Datum } from './metric-sink.js';

/**
 * Which counters, KPIs and live-queue metrics to publish per level. Health metrics are always published: an alarm on a missing
 * `CollectionSuccess` must never be silenced by a selection.
 */
export interface MetricSelection {
  readonly skill: ReadonlySet<MetricName>;
  readonly vdn: ReadonlySet<MetricName>;
}

/** The names a selection may contain: the counters, the KPIs, then the live queue's, in contract order. */
const SELECTABLE: readonly MetricName[] = [...COUNTERS, ...KPIS, ...LIVE_QUEUE_METRICS].map(
  (metric) => metric.name,
);

export const ALL_METRICS: MetricSelection = { skill: new Set(SELECTABLE), vdn: new Set(SELECTABLE) };

/**
 * What SKILL_METRICS publishes when unset. Custom metrics are billed per metric and hour, and a skill is many
 * metrics: per skill, the two counters behind the abandonment rate (metric math) keep a useful history at a
 * sixth of the price of all twelve; every other figure of a skill is live on the wallboard and the query API,
 * and the VDN roll-ups, which the alarms read, keep all of them.
 */
export const DEFAULT_SKILL_METRICS: readonly MetricName[] = ['CallsOffered', 'CallsAbandoned'];

export const DEFAULT_METRICS: MetricSelection = {
  skill: new Set(DEFAULT_SKILL_METRICS),
  vdn: new Set(SELECTABLE),
};

/**
 * The VDN roll-ups the shipped stack reads back, no more: the rate alarms' counters and the longest wait (stack/
 * alarms.ts), the VDN's graphs (stack/dashboard.ts) and the wallboard's day so far (lib/wallboard/today.ts).
 * test/stack-vdn-metrics.test.ts derives the same list from the generated stack, so that the two cannot drift.
 */
export const STACK_VDN_METRICS: readonly MetricName[] = [
  'CallsOffered',
  'CallsAnswered',
  'CallsAbandoned',
  'CallsAnsweredIn20s',
  'WrapUps',
  'WrapUpTime',
  'CallsWaiting',
  'LongestWaitTime',
];

/**
 * What SKILL_METRICS and VDN_METRICS publish when unset and OTLP_ENDPOINT is set. The OTLP export carries every
 * counter of every busy skill, priced by the byte, so nothing per skill is classic, and per VDN only what the
 * stack reads back: CallsEnded, IvrTalkTime and the KPIs of a VDN are sums and ratios over its skills' OTLP
 * series (PromQL's `sum by (vdn)`).
 */
export const OTLP_DEFAULT_METRICS: MetricSelection = {
  skill: new Set(),
  vdn: new Set(STACK_VDN_METRICS),
};

/**
 * Reads a selection: `all`, `none`, or a comma list of counter, KPI and live-queue metric names. Throws a plain Error listing the
 * valid names on anything else; the configuration says which variable it came from and what unset means.
 */
export function parseMetricSelection(text: string): ReadonlySet<MetricName> {
  const trimmed = text.trim();
  if (trimmed === 'all') return new Set(SELECTABLE);
  if (trimmed === 'none') return new Set();
  const valid = new Set<string>(SELECTABLE);
  const selected = new Set<MetricName>();
  for (const entry of trimmed.split(',').map((part) => part.trim())) {
    if (!valid.has(entry)) {
      const what = entry === '' ? 'an empty entry' : quoted(entry);
      throw new Error(
        `${what} is not a counter, KPI or live-queue metric name; write "all", "none" or a comma list of ${SELECTABLE.join(',')} ` +
          '(health metrics are always published)',
      );
    }
    selected.add(entry as MetricName);
  }
  return selected;
}

type Dimensions = Datum['dimensions'];

export function datum(name: MetricName, value: number, timestamp: number, dimensions: Dimensions): Datum {
  return { name, unit: METRIC_UNITS[name], value, timestamp, dimensions };
}

/** Counters then KPIs, in contract order, restricted to the selection; absent KPIs give no datum. */
function statDatums(
  counters: Counters,
  kpis: Kpis,
  selected: ReadonlySet<MetricName>,
  timestamp: number,
  dimensions: Dimensions,
): Datum[] {
  const datums: Datum[] = [];
  for (const { name } of COUNTERS) {
    if (selected.has(name)) datums.push(datum(name, counters[name], timestamp, dimensions));
  }
  for (const { name } of KPIS) {
    const value = kpis[name];
    if (value !== undefined && selected.has(name)) datums.push(datum(name, value, timestamp, dimensions));
  }
  return datums;
}

const isIdle = (counters: Counters): boolean => COUNTERS.every(({ name }) => counters[name] === 0);

/**
 * Whether a VDN's read is quiet: a window in which nothing happened and nobody waiting (the live queue read
 * empty, or not read at all). A quiet read publishes no VDN roll-up, counters, KPIs and live queue alike: a
 * custom metric is billed only for the hours in which it receives data, so a closed line costs nothing at night.
 * Its health metrics are still published. No alarm changes its verdict (stack/alarms.ts): the rate alarms
 * compute no rate below their volume guard and treat missing data as not breaching, and the longest-wait alarm,
 * which a wait of 0 could not breach, treats missing data as not breaching too. A window summed over the day
 * adds nothing for a missing window, as it added 0 for a published zero (the dashboard's today tile, the
 * wallboard's day so far).
 */
export function isQuietVdn(read: Pick<VdnRead, 'total' | 'liveQueue'>): boolean {
  if (read.total === undefined || !isIdle(read.total.counters)) return false;
  const live = read.liveQueue;
  return live?.kind !== 'read' || (live.total.callsWaiting === 0 && live.total.longestWaitSeconds === 0);
}

export interface DatumOptions {
  readonly now: number;
  readonly selection: MetricSelection;
  /** The run's health metrics; false for a closing read, whose health is its WindowCoverage. Default true. */
  readonly health?: boolean;
}

function vdnDatums(read: VdnRead, options: DatumOptions): Datum[] {
  const { now, selection } = options;
  const vdnDimensions: Dimensions = { CcId: String(read.ccId), Vdn: String(read.vdn) };
  const datums: Datum[] = [];

  const { total } = read;
  if (total && !isQuietVdn(read)) {
    datums.push(...statDatums(total.counters, total.kpis, selection.vdn, total.windowStart, vdnDimensions));
  }

  for (const skill of read.skills) {
    // A window in which nothing happened publishes nothing: CloudWatch bills a metric only for the hours in
    // which it receives data, so idle queues (nights, closed lines) cost nothing. Graphs fill the gaps with 0,
    // and the health metrics, which say whether the collector ran, are always published.
    if (isIdle(skill.counters)) continue;
    const dimensions = { ...vdnDimensions, SkillId: String(skill.skillId) };
    const kpis = computeKpis(skill.counters);
    datums.push(...statDatums(skill.counters, kpis, selection.skill, skill.windowStart, dimensions));
  }
  if (options.health === false) return datums;

  datums.push(datum('CollectionSuccess', read.failures.length === 0 ? 1 : 0, now, vdnDimensions));
  if (read.latencyMs !== undefined) datums.push(datum('CmsLatency', read.latencyMs, now, vdnDimensions));
  datums.push(datum('SkillsMissing', read.missingSkillIds.length, now, vdnDimensions));
  if (total) {
    // Negative when the CMS clock runs ahead of ours: published as is, since hiding it would hide the skew.
    datums.push(datum('DataAge', (now - total.windowStart) / 1000, now, vdnDimensions));
  }
  return datums;
}

/**
 * The datums of one run (metrics.md). Per VDN, ordered by call center then VDN: the roll-up (none for a quiet
 * VDN, isQuietVdn), each skill by ascending id (skills whose counters are all zero are left out), then the
 * health metrics. Skill and roll-up
 * datums carry their window's start, health datums `now`.
 */
/** Reads ordered by call center, then VDN: the order datums are published in. */
export const byVdn = <T extends Pick<VdnRead, 'ccId' | 'vdn'>>(reads: readonly T[]): T[] =>
  [...reads].sort((a, b) => a.ccId - b.ccId || a.vdn - b.vdn);

export function buildDatums(reads: readonly VdnRead[], options: DatumOptions): Datum[] {
  return byVdn(reads).flatMap((read) => vdnDatums(read, options));
}

/** A VDN's WindowCoverage, stamped like the window's counters, so that it lands in the window's period. */
export function coverageDatum(
  target: { readonly ccId: number; readonly vdn: number },
  windowStart: number,
  percent: number,
): Datum {
  return datum('WindowCoverage', percent, windowStart, {
    CcId: String(target.ccId),
    Vdn: String(target.vdn),
  });
}
