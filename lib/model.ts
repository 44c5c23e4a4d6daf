// The metric contract of ../shared/spec/metrics.md in one place: every module that names a counter, a KPI or a
// unit reads it from here, so a rename cannot drift between the CMS parser, the publishers and the API.

export const COUNTERS = [
  { name: 'CallsOffered', cmsField: 'allCallCount', unit: 'Count' },
  { name: 'CallsAnswered', cmsField: 'cnnedCallCount', unit: 'Count' },
  { name: 'CallsAbandoned', cmsField: 'abanCallCount', unit: 'Count' },
  { name: 'CallsEnded', cmsField: 'callEndCount', unit: 'Count' },
  { name: 'CallsAnsweredIn20s', cmsField: 'cnnedIn20sCallCount', unit: 'Count' },
  { name: 'WrapUps', cmsField: 'clearUpCallCount', unit: 'Count' },
  { name: 'WrapUpTime', cmsField: 'clearUpTime', unit: 'Seconds' },
  { name: 'IvrTalkTime', cmsField: 'talkTimeOnIvr', unit: 'Seconds' },
] as const;

/**
 * The same counters as OpenTelemetry (OTLP) metrics (metrics.md, "OpenTelemetry (OTLP) export"): `cec_` and the
 * counter's name in snake case, each a cumulative monotonic Sum of integers per skill. KPIs are not sent: PromQL
 * computes them from these.
 */
export const OTLP_COUNTER_NAMES: Readonly<Record<CounterName, `cec_${string}`>> = {
  CallsOffered: 'cec_calls_offered',
  CallsAnswered: 'cec_calls_answered',
  CallsAbandoned: 'cec_calls_abandoned',
  CallsEnded: 'cec_calls_ended',
  CallsAnsweredIn20s: 'cec_calls_answered_in_20s',
  WrapUps: 'cec_wrap_ups',
  WrapUpTime: 'cec_wrap_up_time_seconds',
  IvrTalkTime: 'cec_ivr_talk_time_seconds',
};

/** OTLP datapoint attributes (string values) and the resource's `service.name`. */
export const OTLP_ATTRIBUTES = { ccId: 'cc_id', vdn: 'vdn', skillId: 'skill_id' } as const;
export const OTLP_SERVICE_NAME = 'cms-skill-metrics';
/** UCUM units of the OTLP counters, from the classic unit. */
export const OTLP_UNITS = { Count: '1', Seconds: 's' } as const;

// Each KPI is `part` per `of`: a percentage for rates, a plain ratio for the average (metrics.md, "Derived KPIs").
export const KPIS = [
  { name: 'AbandonmentRate', unit: 'Percent', part: 'CallsAbandoned', of: 'CallsOffered' },
  { name: 'AnswerRate', unit: 'Percent', part: 'CallsAnswered', of: 'CallsOffered' },
  { name: 'ServiceLevel20s', unit: 'Percent', part: 'CallsAnsweredIn20s', of: 'CallsOffered' },
  { name: 'AverageWrapUpTime', unit: 'Seconds', part: 'WrapUpTime', of: 'WrapUps' },
] as const;

export const HEALTH_METRICS = [
  { name: 'CollectionSuccess', unit: 'Count' },
  { name: 'CmsLatency', unit: 'Milliseconds' },
  { name: 'SkillsMissing', unit: 'Count' },
  { name: 'DataAge', unit: 'Seconds' },
  // Published with each closing read, stamped with the window it describes: how much of the finished window
  // its last published read covered (lib/collector/closing-read.ts).
  { name: 'WindowCoverage', unit: 'Percent' },
] as const;

// The live queue (metrics.md, "Live queue"): instantaneous figures of `totalskillstatusex3`, stamped with the time
// of the read. A VDN's figure is the sum (calls waiting) or the maximum (longest wait) over its skills.
export const LIVE_QUEUE_METRICS = [
  { name: 'CallsWaiting', unit: 'Count', field: 'callsWaiting', rollup: 'sum' },
  { name: 'LongestWaitTime', unit: 'Seconds', field: 'longestWaitSeconds', rollup: 'max' },
] as const;

export type CounterName = (typeof COUNTERS)[number]['name'];
export type CmsCounterField = (typeof COUNTERS)[number]['cmsField'];
export type KpiName = (typeof KPIS)[number]['name'];
export type HealthMetricName = (typeof HEALTH_METRICS)[number]['name'];
export type LiveQueueMetricName = (typeof LIVE_QUEUE_METRICS)[number]['name'];
export type MetricName = CounterName | KpiName | HealthMetricName | LiveQueueMetricName;
export type MetricUnit = 'Count' | 'Seconds' | 'Percent' | 'Milliseconds';

export type Counters = Readonly<Record<CounterName, number>>;
/** A KPI whose denominator is zero (or whose inputs are inconsistent) is absent, never 0. */
export type Kpis = Readonly<Partial<Record<KpiName, number>>>;

export const METRIC_UNITS: Readonly<Record<MetricName, MetricUnit>> = Object.fromEntries(
  [...COUNTERS, ...KPIS, ...HEALTH_METRICS, ...LIVE_QUEUE_METRICS].map((metric) => [
    metric.name,
    metric.unit,
  ]),
) as Record<MetricName, MetricUnit>;

export const ALL_METRIC_NAMES: readonly MetricName[] = [
  ...COUNTERS,
  ...KPIS,
  ...HEALTH_METRICS,
  ...LIVE_QUEUE_METRICS,
].map((metric) => metric.name);

/** One skill queue's counters for the 5-minute window that started at `windowStart` (epoch ms). */
export interface SkillStats {
  readonly skillId: number;
  /** Aligned to the 5-minute grid (lib/cms/window.ts), whatever the few seconds CMS's `startTime` trails it by. */
  readonly windowStart: number;
  readonly counters: Counters;
}

/**
 * One skill queue now, from `totalskillstatusex3`. Agent counts belong to the skill alone: an agent may serve
 * several skills, so they never add up to a VDN figure.
 */
export interface SkillQueue {
  readonly skillId: number;
  /** `queueSize`: calls waiting now. */
  readonly callsWaiting: number;
  /** `queueTime`: how long the longest-waiting call has waited, seconds. */
  readonly longestWaitSeconds: number;
  /** `loggedOnAgents`. */
  readonly agentsLoggedOn: number;
  /** `availAgents`: agents idle for the skill. */
  readonly agentsAvailable: number;
}

/** One VDN of one call center and the skill queues to watch in it. */
export interface Target {
  readonly ccId: number;
  readonly vdn: number;
  readonly skillIds: readonly number[];
  /**
   * Who may see the VDN on a wallboard: the stack gives each tenant a wallboard function and a dashboard of its
   * own. Absent, the VDN is a tenant of its own (lib/config.ts, tenantOf).
   */
  readonly tenant?: string;
}

/** Limits of the CMS API (cms-api.md, request body). */
export const CMS_LIMITS = {
  ccId: { min: 1, max: 65_535 },
  vdn: { min: 1, max: 5_000 },
  skillId: { min: 1, max: 5_000 },
  skillsPerRequest: 1_000,
} as const;

/** Length of the CMS statistics window. */
export const WINDOW_MS = 300_000;

/**
 * PutMetricData service limits. One datum outside them makes CloudWatch refuse the whole request, so the sink
 * keeps such datums out of its batches and CMS data is held to them before anything is built from it.
 */
export const PUT_METRIC_DATA_LIMITS = {
  datumsPerCall: 1_000,
  requestBytes: 1_048_576,
  dimensionsPerDatum: 30,
  /** Timestamps may lie up to two weeks back... */
  timestampMaxAgeMs: 14 * 24 * 3_600_000,
  /** ...and up to two hours ahead of the service's clock. */
  timestampMaxAheadMs: 2 * 3_600_000,
} as const;

/** Why CloudWatch would refuse a datum stamped `timestamp` when sent at `now`, or undefined when it would not. */
export function timestampProblem(timestamp: number, now: number): string | undefined {
  if (!Number.isFinite(timestamp)) return 'is not a finite number';
  if (timestamp < now - PUT_METRIC_DATA_LIMITS.timestampMaxAgeMs) return 'is more than two weeks old';
  if (timestamp > now + PUT_METRIC_DATA_LIMITS.timestampMaxAheadMs) return 'is more than two hours ahead';
  return undefined;
}
