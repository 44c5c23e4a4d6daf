import { COUNTERS, type Counters, KPIS, type KpiName, type Kpis, type SkillStats } from './model.js';

// KPI math of metrics.md "Derived KPIs".
//
// Inconsistent CMS counters: counters are published exactly as CMS gave them, never corrected. A rate whose
// numerator exceeds its denominator (CallsAnswered > CallsOffered, CallsAbandoned > CallsOffered,
// CallsAnsweredIn20s > CallsAnswered or > CallsOffered) is withheld — absent, like a rate with a zero
// denominator — and the violated relation is reported as a data-quality warning by `checkConsistency`. So no rate
// outside 0–100 ever reaches an alarm, and an operator can still see the raw counters that caused it.
//
// Relations checked, and what each one withholds:
// - CallsAnswered <= CallsOffered — AnswerRate;
// - CallsAbandoned <= CallsOffered — AbandonmentRate;
// - CallsAnsweredIn20s <= CallsAnswered — ServiceLevel20s (a call answered within 20 s is an answered call);
// - CallsAnsweredIn20s <= CallsOffered — ServiceLevel20s;
// - CallsAnswered + CallsAbandoned <= CallsOffered — warning only: each rate on its own stays within 0–100;
// - WrapUpTime = 0 when WrapUps = 0 — warning only: AverageWrapUpTime is absent anyway (zero denominator).
//
// WrapUps <= CallsEnded is deliberately not checked: a wrap-up follows an ended conversation, but a conversation
// that ends just before a 5-minute boundary has its wrap-up finish in the next window, which then counts more
// wrap-ups than ended calls with nothing wrong in CMS. No published KPI depends on that relation either.
//
// Values are full precision: nothing is rounded here, and a VDN roll-up's KPIs come from its summed counters,
// never from an average of per-skill rates.

export const ZERO_COUNTERS: Counters = Object.freeze(
  Object.fromEntries(COUNTERS.map((counter) => [counter.name, 0])) as Record<keyof Counters, number>,
);

export interface DataQualityWarning {
  /** The relation CMS broke, e.g. `CallsAnswered <= CallsOffered`. */
  readonly relation: string;
  /** The offending values and the consequence, for operators. */
  readonly detail: string;
}

/** 100 × part / whole, or undefined when the whole is zero or the part exceeds it (see the module comment). */
function percent(part: number, whole: number): number | undefined {
  if (!(whole > 0 && part >= 0 && part <= whole)) return undefined;
  // One rounding, so whole rates stay whole (11 of 20 is 55, not 55.00000000000001): 100 × part is exact for any
  // counter CMS can send. Dividing first only for parts so large that the product would overflow.
  const scaled = 100 * part;
  const value = Number.isFinite(scaled) ? scaled / whole : (part / whole) * 100;
  return Number.isFinite(value) ? value : undefined;
}

function ratio(numerator: number, denominator: number): number | undefined {
  if (!(denominator > 0 && numerator >= 0)) return undefined;
  const value = numerator / denominator;
  return Number.isFinite(value) ? value : undefined;
}

/** The derived KPIs of one set of counters; a KPI that cannot be computed is absent (its key is not present). */
export function computeKpis(counters: Counters): Kpis {
  const kpis: Partial<Record<KpiName, number>> = {};
  for (const kpi of KPIS) {
    const part = counters[kpi.part];
    const whole = counters[kpi.of];
    const value = kpi.unit === 'Percent' ? percent(part, whole) : ratio(part, whole);
    if (value !== undefined && !(kpi.name === 'ServiceLevel20s' && part > counters.CallsAnswered)) {
      kpis[kpi.name] = value;
    }
  }
  return kpis;
}

/** Every relation of the module comment that these counters break, in a fixed order. */
export function checkConsistency(counters: Counters): DataQualityWarning[] {
  const {
    CallsOffered: offered,
    CallsAnswered: answered,
    CallsAbandoned: abandoned,
    CallsAnsweredIn20s: in20s,
    WrapUps: wrapUps,
    WrapUpTime: wrapUpTime,
  } = counters;
  const warnings: DataQualityWarning[] = [];
  // Counters bounded by another: the KPI they would push past 100 % is withheld (none for a sum of two).
  type Part = readonly [name: keyof Counters, value: number];
  const atMost = (parts: readonly Part[], [whole, limit]: Part, withheld?: KpiName): void => {
    if (parts.reduce((sum, [, value]) => sum + value, 0) <= limit) return;
    warnings.push({
      relation: `${parts.map(([name]) => name).join(' + ')} <= ${whole}`,
      detail: `${parts.map(([name, value]) => `${name} ${value}`).join(' + ')} exceeds ${whole} ${limit}${
        withheld === undefined ? '' : `: ${withheld} withheld`
      }`,
    });
  };
  const offeredPart: Part = ['CallsOffered', offered];
  const answeredPart: Part = ['CallsAnswered', answered];
  const abandonedPart: Part = ['CallsAbandoned', abandoned];
  const in20sPart: Part = ['CallsAnsweredIn20s', in20s];
  atMost([answeredPart], offeredPart, 'AnswerRate');
  atMost([abandonedPart], offeredPart, 'AbandonmentRate');
  atMost([answeredPart, abandonedPart], offeredPart);
  atMost([in20sPart], answeredPart, 'ServiceLevel20s');
  atMost([in20sPart], offeredPart, 'ServiceLevel20s');
  if (wrapUpTime > 0 && wrapUps === 0) {
    warnings.push({
      relation: 'WrapUpTime = 0 when WrapUps = 0',
      detail: `WrapUpTime ${wrapUpTime} s with no WrapUps`,
    });
  }
  return warnings;
}

/** Counter-by-counter sum; all zero for an empty list. */
export function sumCounters(list: readonly Counters[]): Counters {
  const sum: Record<keyof Counters, number> = { ...ZERO_COUNTERS };
  for (const counters of list) {
    for (const { name } of COUNTERS) sum[name] += counters[name];
  }
  return sum;
}

export interface Rollup {
  /** The newest aligned window among the skills; only skills of that window are summed. */
  readonly windowStart: number;
  readonly skillCount: number;
  readonly counters: Counters;
  readonly kpis: Kpis;
}

/** The newest (aligned) window start among the skills; undefined for none. */
export function newestWindow(skills: readonly SkillStats[]): number | undefined {
  return skills.length === 0 ? undefined : Math.max(...skills.map((skill) => skill.windowStart));
}

/**
 * Sums every skill of the newest aligned window (metrics.md "Time"); undefined for no skills. Window starts are
 * aligned where CMS data enters (lib/cms/response.ts), so skills whose `startTime` trails the boundary by
 * different amounts are all summed. A skill still reporting an older window is left out, so that old totals
 * never inflate the new window.
 */
export function rollup(skills: readonly SkillStats[]): Rollup | undefined {
  const windowStart = newestWindow(skills);
  if (windowStart === undefined) return undefined;
  const current = skills.filter((skill) => skill.windowStart === windowStart);
  const counters = sumCounters(current.map((skill) => skill.counters));
  return { windowStart, skillCount: current.length, counters, kpis: computeKpis(counters) };
}
