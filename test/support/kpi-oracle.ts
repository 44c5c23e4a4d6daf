/**
 * The derived KPIs of metrics.md worked out apart from lib/kpi.ts, so that the tests check it against a second
 * reading of the contract rather than against itself.
 *
 * The contract publishes "full precision": the one rounding allowed is from the exact value to the nearest
 * double. So each KPI is kept here as an exact fraction of whole numbers (BigInt) and rounded once, to nearest
 * with ties to even, by integer arithmetic of its own. A correct implementation publishes that very double,
 * whatever order it multiplies and divides in, and the tests compare with `===`, no tolerance.
 */
import type { KpiName } from '../../lib/model.js';

/** The counters the KPIs are derived from, by their CMS field names (metrics.md, Counters). */
export interface KpiCounters {
  readonly allCallCount: number;
  readonly cnnedCallCount: number;
  readonly abanCallCount: number;
  readonly cnnedIn20sCallCount: number;
  readonly clearUpCallCount: number;
  readonly clearUpTime: number;
}

const SIGNIFICAND_BITS = 53;

function bitLength(value: bigint): number {
  return value.toString(2).length;
}

/**
 * numerator / denominator rounded once to the nearest double, ties to even, for quotients in the normal range.
 * Both must be whole and the denominator positive.
 */
export function nearestDouble(numerator: bigint, denominator: bigint): number {
  if (denominator <= 0n || numerator < 0n) throw new RangeError(`not a rate: ${numerator}/${denominator}`);
  if (numerator === 0n) return 0;
  // Scale by 2^-exponent so the integer quotient holds exactly the significand's 53 bits: 2^52 ≤ q < 2^53.
  const scaled = (exponent: number): [bigint, bigint] =>
    exponent >= 0
      ? [numerator, denominator << BigInt(exponent)]
      : [numerator << BigInt(-exponent), denominator];
  let exponent = bitLength(numerator) - bitLength(denominator) - (SIGNIFICAND_BITS - 1);
  let [top, bottom] = scaled(exponent);
  if (top / bottom < 1n << BigInt(SIGNIFICAND_BITS - 1)) {
    exponent -= 1;
    [top, bottom] = scaled(exponent);
  }
  let significand = top / bottom;
  const twiceRemainder = 2n * (top - significand * bottom);
  if (twiceRemainder > bottom || (twiceRemainder === bottom && (significand & 1n) === 1n)) significand += 1n;
  // Both factors are exact doubles (the significand is at most 2^53), and so is their product.
  return Number(significand) * 2 ** exponent;
}

/** 100 × part / whole; absent with no whole, and withheld when the part exceeds it (lib/kpi.ts's stated rule). */
function percent(part: number, whole: number): number | undefined {
  return whole > 0 && part <= whole ? nearestDouble(100n * BigInt(part), BigInt(whole)) : undefined;
}

/** The KPIs a set of counters publishes; a KPI that is not published has no key. */
export function expectedKpis(counters: KpiCounters): Partial<Record<KpiName, number>> {
  const kpis: Partial<Record<KpiName, number>> = {};
  const put = (name: KpiName, value: number | undefined) => {
    if (value !== undefined) kpis[name] = value;
  };
  put('AbandonmentRate', percent(counters.abanCallCount, counters.allCallCount));
  put('AnswerRate', percent(counters.cnnedCallCount, counters.allCallCount));
  // A call answered within 20 s is an answered call: more of them than answered calls withholds the rate.
  put(
    'ServiceLevel20s',
    counters.cnnedIn20sCallCount <= counters.cnnedCallCount
      ? percent(counters.cnnedIn20sCallCount, counters.allCallCount)
      : undefined,
  );
  put(
    'AverageWrapUpTime',
    counters.clearUpCallCount > 0
      ? nearestDouble(BigInt(counters.clearUpTime), BigInt(counters.clearUpCallCount))
      : undefined,
  );
  return kpis;
}
