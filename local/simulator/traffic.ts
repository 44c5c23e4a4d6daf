import { type CmsCounterField, WINDOW_MS } from '../../lib/model.js';
import { exponential, hashIntegers, type Random, seededRandom } from './random.js';

/**
 * The simulator's traffic model. Each skill queue has a stable character (idle, or a call rate, how fast agents
 * pick up, how patient callers are); each 5-minute window draws its own calls from it, deterministically from
 * (seed, ccId, vdn, skillId, windowStart). The counters CMS reports at time t are the events of those calls that
 * happened between the window start and t, so they only grow within a window and restart at the next one.
 */

/** One statistics object of the CMS response, fields in the order of the API document. */
export interface CmsSkillRecord {
  id: number;
  startTime: number;
  allCallCount: number;
  cnnedCallCount: number;
  abanCallCount: number;
  callEndCount: number;
  talkTimeOnIvr: number;
  cnnedIn20sCallCount: number;
  clearUpCallCount: number;
  clearUpTime: number;
}

export type CmsCounterValues = Omit<CmsSkillRecord, 'id' | 'startTime'>;

/** The counters, in the order of the API document; `satisfies` ties them to the metric contract's CMS fields. */
export const ZERO_COUNTERS: Readonly<CmsCounterValues> = Object.freeze({
  allCallCount: 0,
  cnnedCallCount: 0,
  abanCallCount: 0,
  callEndCount: 0,
  talkTimeOnIvr: 0,
  cnnedIn20sCallCount: 0,
  clearUpCallCount: 0,
  clearUpTime: 0,
} satisfies Record<CmsCounterField, number>);

const COUNTER_FIELDS = Object.keys(ZERO_COUNTERS) as (keyof CmsCounterValues)[];

const FIELD_INDEX = Object.fromEntries(COUNTER_FIELDS.map((field, index) => [field, index])) as Record<
  keyof CmsCounterValues,
  number
>;
const FIELD_COUNT = COUNTER_FIELDS.length;

/** Share of skill queues that exist but take no calls at all. */
export const IDLE_SHARE = 0.17;
/** Busy queues average between these many offered calls per window, before the window's own swing. */
const MIN_CALLS_PER_WINDOW = 1;
const MAX_CALLS_PER_WINDOW = 32;
/** Each window's rate is the skill's rate times a factor in this range (peaks reach ~40 calls per window). */
const WINDOW_SWING = { min: 0.75, max: 1.25 } as const;
export const ANSWER_TARGET_MS = 20_000;

export interface SkillProfile {
  /** Mean calls offered per 5-minute window; 0 for an idle queue. */
  readonly callsPerWindow: number;
  /** Mean time agents take to pick a queued call up. */
  readonly meanPickupSeconds: number;
  /** Mean time a caller waits in the queue before hanging up. */
  readonly meanPatienceSeconds: number;
}

export interface TrafficKey {
  readonly seed: number;
  readonly ccId: number;
  readonly vdn: number;
  readonly skillId: number;
  readonly windowStart: number;
}

/** Stream tags keep the skill's character and each window's draws independent of each other. */
const PROFILE_STREAM = 1;
const WINDOW_STREAM = 2;

export function windowStartOf(at: number): number {
  return Math.floor(at / WINDOW_MS) * WINDOW_MS;
}

export function skillProfile(seed: number, ccId: number, vdn: number, skillId: number): SkillProfile {
  const random = seededRandom(hashIntegers([seed, ccId, vdn, skillId, PROFILE_STREAM]));
  const idle = random() < IDLE_SHARE;
  const rate = MIN_CALLS_PER_WINDOW + random() * (MAX_CALLS_PER_WINDOW - MIN_CALLS_PER_WINDOW);
  return {
    callsPerWindow: idle ? 0 : rate,
    meanPickupSeconds: 4 + random() * 36,
    meanPatienceSeconds: 30 + random() * 90,
  };
}

interface CallBase {
  /** When the call entered the queue, in ms after the window start. */
  readonly offeredAt: number;
  /** Time the caller spent in the IVR before queueing. */
  readonly ivrSeconds: number;
  /** Time in the queue until an agent answered or the caller gave up. */
  readonly waitMs: number;
}
interface AnsweredCall extends CallBase {
  readonly outcome: 'answered';
  readonly talkSeconds: number;
  readonly wrapUpSeconds: number;
}
interface AbandonedCall extends CallBase {
  readonly outcome: 'abandoned';
}
export type SimulatedCall = AnsweredCall | AbandonedCall;

function drawCall(random: Random, offeredAt: number, profile: SkillProfile): SimulatedCall {
  // Every call consumes the same number of draws, so one call's outcome never shifts the next call's values.
  const ivrSeconds = 2 + Math.floor(random() * 45);
  const pickupMs = Math.round(exponential(random, profile.meanPickupSeconds * 1000));
  const patienceMs = 2_000 + Math.round(exponential(random, profile.meanPatienceSeconds * 1000));
  const talkSeconds = Math.min(3_600, 15 + Math.floor(exponential(random, 150)));
  const wrapUpSeconds = Math.min(600, 3 + Math.floor(exponential(random, 25)));
  if (pickupMs <= patienceMs) {
    return { outcome: 'answered', offeredAt, ivrSeconds, waitMs: pickupMs, talkSeconds, wrapUpSeconds };
  }
  return { outcome: 'abandoned', offeredAt, ivrSeconds, waitMs: patienceMs };
}

/** The calls offered to one skill queue in one window, in arrival order (a Poisson process). */
export function generateWindowCalls(key: TrafficKey): readonly SimulatedCall[] {
  const profile = skillProfile(key.seed, key.ccId, key.vdn, key.skillId);
  if (profile.callsPerWindow === 0) return [];
  const random = seededRandom(
    hashIntegers([key.seed, key.ccId, key.vdn, key.skillId, key.windowStart, WINDOW_STREAM]),
  );
  const rate = profile.callsPerWindow * (WINDOW_SWING.min + random() * (WINDOW_SWING.max - WINDOW_SWING.min));
  const meanGapMs = WINDOW_MS / rate;
  const calls: SimulatedCall[] = [];
  for (let at = exponential(random, meanGapMs); at < WINDOW_MS; at += exponential(random, meanGapMs)) {
    calls.push(drawCall(random, Math.floor(at), profile));
  }
  return calls;
}

interface CallEvent {
  readonly at: number;
  readonly field: keyof CmsCounterValues;
  readonly amount: number;
}

/** Every counter increment a call causes, each at the moment it happens (ms after the window start). */
export function callEvents(call: SimulatedCall): CallEvent[] {
  const events: CallEvent[] = [
    { at: call.offeredAt, field: 'allCallCount', amount: 1 },
    { at: call.offeredAt, field: 'talkTimeOnIvr', amount: call.ivrSeconds },
  ];
  const resolvedAt = call.offeredAt + call.waitMs;
  if (call.outcome === 'abandoned') {
    events.push({ at: resolvedAt, field: 'abanCallCount', amount: 1 });
    return events;
  }
  events.push({ at: resolvedAt, field: 'cnnedCallCount', amount: 1 });
  if (call.waitMs <= ANSWER_TARGET_MS)
    events.push({ at: resolvedAt, field: 'cnnedIn20sCallCount', amount: 1 });
  const endedAt = resolvedAt + call.talkSeconds * 1000;
  events.push({ at: endedAt, field: 'callEndCount', amount: 1 });
  const wrappedUpAt = endedAt + call.wrapUpSeconds * 1000;
  events.push(
    { at: wrappedUpAt, field: 'clearUpCallCount', amount: 1 },
    { at: wrappedUpAt, field: 'clearUpTime', amount: call.wrapUpSeconds },
  );
  return events;
}

/** The reference definition of the counters: a direct count of the events up to `offsetMs` (inclusive). */
export function countersAt(calls: readonly SimulatedCall[], offsetMs: number): CmsCounterValues {
  const counters: CmsCounterValues = { ...ZERO_COUNTERS };
  for (const call of calls) {
    for (const event of callEvents(call)) {
      if (event.at <= offsetMs) counters[event.field] += event.amount;
    }
  }
  return counters;
}

/**
 * One skill's window as cumulative snapshots at each distinct event time, so the counters at any moment are a
 * binary search away. Records and their JSON text are built on first use and then shared: a busy window holds a
 * few hundred snapshots while a poll reads only one.
 */
export class SkillTimeline {
  private readonly times: Float64Array;
  private readonly sums: Float64Array;
  private readonly records: (CmsSkillRecord | undefined)[];
  private readonly texts: (string | undefined)[];

  constructor(
    readonly skillId: number,
    readonly windowStart: number,
    calls: readonly SimulatedCall[],
  ) {
    const events = calls.flatMap(callEvents).filter((event) => event.at < WINDOW_MS);
    events.sort((a, b) => a.at - b.at);
    const times: number[] = [];
    const sums: number[] = new Array<number>(FIELD_COUNT).fill(0);
    for (const event of events) {
      if (times.at(-1) !== event.at) {
        times.push(event.at);
        sums.push(...sums.slice(-FIELD_COUNT));
      }
      const slot = sums.length - FIELD_COUNT + FIELD_INDEX[event.field];
      sums[slot] = (sums[slot] ?? 0) + event.amount;
    }
    this.times = Float64Array.from(times);
    this.sums = Float64Array.from(sums);
    this.records = new Array(times.length + 1);
    this.texts = new Array(times.length + 1);
  }

  /** Index of the snapshot in force at `at`: the number of distinct event times not after it. */
  private snapshotIndex(at: number): number {
    const offset = at - this.windowStart;
    let low = 0;
    let high = this.times.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.times[middle] ?? Number.POSITIVE_INFINITY) <= offset) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private recordOf(index: number): CmsSkillRecord {
    const cached = this.records[index];
    if (cached) return cached;
    const base = index * FIELD_COUNT;
    const record = { id: this.skillId, startTime: this.windowStart } as CmsSkillRecord;
    COUNTER_FIELDS.forEach((field, offset) => {
      record[field] = this.sums[base + offset] ?? 0;
    });
    Object.freeze(record);
    this.records[index] = record;
    return record;
  }

  /** The statistics object at `at`, which must fall inside this window. */
  recordAt(at: number): CmsSkillRecord {
    return this.recordOf(this.snapshotIndex(at));
  }

  /** `JSON.stringify(recordAt(at))`, memoized: large responses are mostly these texts joined. */
  jsonAt(at: number): string {
    const index = this.snapshotIndex(at);
    let text = this.texts[index];
    if (text === undefined) {
      text = JSON.stringify(this.recordOf(index));
      this.texts[index] = text;
    }
    return text;
  }
}

/**
 * When the contact center takes calls, as whole UTC hours: windows that start at or after `closesAtHour` and
 * before `opensAtHour` get no calls at all (the counters stay zero), as on queues closed for the night.
 */
export interface OpeningHours {
  readonly opensAtHour: number;
  readonly closesAtHour: number;
}

export function isOpen(hours: OpeningHours | undefined, windowStart: number): boolean {
  if (hours === undefined) return true;
  const hour = new Date(windowStart).getUTCHours();
  return hours.opensAtHour <= hours.closesAtHour
    ? hour >= hours.opensAtHour && hour < hours.closesAtHour
    : hour >= hours.opensAtHour || hour < hours.closesAtHour;
}

export interface TrafficModelOptions {
  readonly seed: number;
  /** Default: open around the clock. */
  readonly openingHours?: OpeningHours;
  /** Windows kept in the cache; polls only ever need the current one and, around a boundary, the previous. */
  readonly cachedWindows?: number;
  /** Bound on cached skills per window, so requests for ever new ids cannot grow the cache without limit. */
  readonly cachedSkillsPerWindow?: number;
}

/** The traffic of every skill, with the timelines of recent windows cached. */
export class TrafficModel {
  readonly seed: number;
  private readonly openingHours: OpeningHours | undefined;
  private readonly cachedWindows: number;
  private readonly cachedSkillsPerWindow: number;
  private readonly windows = new Map<number, Map<string, SkillTimeline>>();

  constructor(options: TrafficModelOptions) {
    if (!Number.isSafeInteger(options.seed)) throw new RangeError('the traffic seed must be a safe integer');
    this.seed = options.seed;
    const hours = options.openingHours;
    if (
      hours &&
      ![hours.opensAtHour, hours.closesAtHour].every((h) => Number.isInteger(h) && h >= 0 && h <= 24)
    ) {
      throw new RangeError('opening hours must be whole hours from 0 to 24');
    }
    this.openingHours = hours;
    this.cachedWindows = options.cachedWindows ?? 2;
    this.cachedSkillsPerWindow = options.cachedSkillsPerWindow ?? 100_000;
  }

  timeline(ccId: number, vdn: number, skillId: number, at: number): SkillTimeline {
    const windowStart = windowStartOf(at);
    const cache = this.windowCache(windowStart);
    const cacheKey = `${ccId}/${vdn}/${skillId}`;
    const cached = cache?.get(cacheKey);
    if (cached) return cached;
    const timeline = new SkillTimeline(
      skillId,
      windowStart,
      isOpen(this.openingHours, windowStart)
        ? generateWindowCalls({ seed: this.seed, ccId, vdn, skillId, windowStart })
        : [],
    );
    if (cache && cache.size < this.cachedSkillsPerWindow) cache.set(cacheKey, timeline);
    return timeline;
  }

  statsAt(ccId: number, vdn: number, skillId: number, at: number): CmsSkillRecord {
    return this.timeline(ccId, vdn, skillId, at).recordAt(at);
  }

  /** The cache of a window, created if it is among the newest; undefined for a window too old to keep. */
  private windowCache(windowStart: number): Map<string, SkillTimeline> | undefined {
    const existing = this.windows.get(windowStart);
    if (existing) return existing;
    const cache = new Map<string, SkillTimeline>();
    this.windows.set(windowStart, cache);
    while (this.windows.size > this.cachedWindows) {
      this.windows.delete(Math.min(...this.windows.keys()));
    }
    return this.windows.get(windowStart);
  }

  /** Window starts currently cached (oldest first); exposed for tests of the eviction policy. */
  get cachedWindowStarts(): number[] {
    return [...this.windows.keys()].sort((a, b) => a - b);
  }
}
