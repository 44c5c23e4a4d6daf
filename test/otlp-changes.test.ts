import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeliveredSeries } from '../lib/metrics/otlp-delivered.js';
import type { SkillRead } from '../lib/metrics/otlp-protobuf.js';
import { OtlpExporter } from '../lib/metrics/otlp-sink.js';
import { COUNTERS, type CounterName, type Counters, OTLP_COUNTER_NAMES, WINDOW_MS } from '../lib/model.js';
import {
  decodeOfficially,
  partialSuccessBody,
  type ReceivedPoint,
  receiverOfTestFile,
} from './support/otlp-receiver.js';
import { skillRead } from './support/skill-read.js';

// OTLP_DATAPOINTS=every-read: what a read sends of its counters: only what the endpoint does not know yet, and
// never less than a receiver needs to know every counter at every read. Everything sent is read back with the
// official OpenTelemetry schema.

const WINDOW = Date.UTC(2026, 10, 26, 9, 5);
const NAME_OF = new Map(COUNTERS.map(({ name }) => [OTLP_COUNTER_NAMES[name] as string, name]));

const counters = (base: number, changes: Partial<Counters> = {}): Counters => ({
  ...(Object.fromEntries(COUNTERS.map(({ name }, index) => [name, base + index])) as Counters),
  ...changes,
});
const read = skillRead;
const soon = () => Date.now() + 10_000;
/** The counters of a received request, by skill: `skill_id` → counter names. */
const sentNames = (points: readonly ReceivedPoint[]) =>
  points.map((point) => `${point.attributes.skill_id}:${NAME_OF.get(point.name)}=${point.value}`).sort();
const every = (skillId: number, values: Counters) =>
  COUNTERS.map(({ name }) => `${skillId}:${name}=${values[name]}`);

const receiverNow = receiverOfTestFile();

const exporter = () =>
  new OtlpExporter({ endpoint: new URL(receiverNow().url), sleep: async () => {}, datapoints: 'every-read' });

describe('OTLP export of what changed', () => {
  it('sends only the changed counters of a second read in the same window', async () => {
    const sink = exporter();
    await sink.export([read(1, WINDOW, 61_000, counters(10)), read(2, WINDOW, 61_000, counters(20))], {
      deadline: soon(),
    });
    receiverNow().reset();
    const later = counters(10, { CallsOffered: 99, WrapUpTime: 123 });
    const report = await sink.export(
      [read(1, WINDOW, 121_000, later), read(2, WINDOW, 121_000, counters(20))],
      { deadline: soon() },
    );
    expect(sentNames(receiverNow().accepted)).toEqual(['1:CallsOffered=99', '1:WrapUpTime=123']);
    expect(receiverNow().accepted.every((point) => point.time === WINDOW + 121_000)).toBe(true);
    expect(report).toMatchObject({ points: 2, accepted: 2, requests: 1 });
  });

  it('sends nothing at all when no counter of any skill changed', async () => {
    const sink = exporter();
    await sink.export([read(1, WINDOW, 61_000, counters(10))], { deadline: soon() });
    receiverNow().reset();
    const report = await sink.export([read(1, WINDOW, 121_000, counters(10))], { deadline: soon() });
    expect(receiverNow().requests).toHaveLength(0);
    expect(report).toMatchObject({ points: 0, requests: 0 });
  });

  it('sends every counter in a new window, even those that read the same as before', async () => {
    const sink = exporter();
    await sink.export([read(1, WINDOW, 61_000, counters(10))], { deadline: soon() });
    receiverNow().reset();
    const next = WINDOW + WINDOW_MS;
    await sink.export([read(1, next, 61_000, counters(10))], { deadline: soon() });
    expect(sentNames(receiverNow().accepted)).toEqual(every(1, counters(10)).sort());
    expect(receiverNow().accepted.every((point) => point.start === next)).toBe(true);
  });

  it('sends every counter of a closing read', async () => {
    const sink = exporter();
    await sink.export([read(1, WINDOW, 61_000, counters(10))], { deadline: soon() });
    receiverNow().reset();
    await sink.export([read(1, WINDOW, 290_000, counters(10, { CallsEnded: 50 }))], {
      deadline: soon(),
      closing: true,
    });
    expect(sentNames(receiverNow().accepted)).toEqual(every(1, counters(10, { CallsEnded: 50 })).sort());
  });

  it('sends again what a failed request carried, once the endpoint recovers', async () => {
    const sink = exporter();
    await sink.export([read(1, WINDOW, 61_000, counters(10))], { deadline: soon() });
    receiverNow().reset();
    receiverNow().answer(...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 503 })));
    const changed = counters(10, { CallsAbandoned: 40 });
    const failed = await sink.export([read(1, WINDOW, 121_000, changed)], { deadline: soon() });
    expect(failed).toMatchObject({ points: 1, failed: 1, requests: 4 });
    receiverNow().reset();
    const report = await sink.export([read(1, WINDOW, 181_000, changed)], { deadline: soon() });
    expect(sentNames(receiverNow().accepted)).toEqual(['1:CallsAbandoned=40']);
    expect(report).toMatchObject({ points: 1, accepted: 1, failed: 0 });
  });

  it('sends again what a partly rejected request carried', async () => {
    const sink = exporter();
    await sink.export([read(1, WINDOW, 61_000, counters(10))], { deadline: soon() });
    receiverNow().reset();
    receiverNow().answer({ kind: 'partial', rejected: 1, message: 'try later' });
    const changed = counters(10, { CallsOffered: 30, CallsAnswered: 31 });
    const partly = await sink.export([read(1, WINDOW, 121_000, changed)], { deadline: soon() });
    expect(partly).toMatchObject({ points: 2, accepted: 1, rejected: 1 });
    receiverNow().reset();
    await sink.export([read(1, WINDOW, 181_000, changed)], { deadline: soon() });
    expect(sentNames(receiverNow().accepted)).toEqual(['1:CallsAnswered=31', '1:CallsOffered=30']);
  });

  it('takes a partial success that rejects nothing as everything accepted', async () => {
    const sink = exporter();
    receiverNow().answer({ kind: 'partial', rejected: 0, message: 'slow down' });
    await sink.export([read(1, WINDOW, 61_000, counters(10))], { deadline: soon() });
    receiverNow().reset();
    await sink.export([read(1, WINDOW, 121_000, counters(10))], { deadline: soon() });
    expect(receiverNow().requests).toHaveLength(0);
  });
});

describe('what the exporter remembers', () => {
  it('keeps one entry per series, and forgets skills idle since the window before the last', () => {
    const delivered = new DeliveredSeries();
    for (let minute = 1; minute < 5; minute += 1)
      delivered.accepted([read(1, WINDOW, minute * 60_000, counters(minute))]);
    delivered.accepted([read(2, WINDOW, 61_000, counters(0))]);
    expect(delivered.size).toBe(2 * COUNTERS.length);
    // Skill 2 falls idle: kept through the next window, gone the one after.
    delivered.accepted([read(1, WINDOW + WINDOW_MS, 61_000, counters(1))]);
    expect(delivered.size).toBe(2 * COUNTERS.length);
    delivered.accepted([read(1, WINDOW + 2 * WINDOW_MS, 61_000, counters(1))]);
    expect(delivered.size).toBe(COUNTERS.length);
  });
});

// --- the receiver's view, over random sequences of reads ----------------------------------------------------

type Outcome = 'ok' | 'failed' | 'partial';
interface Step {
  /** Per skill, how much each counter grew since the skill's previous read in the window. */
  readonly growth: readonly (readonly number[])[];
  readonly outcome: Outcome;
}
const SKILLS = 3;
const step: fc.Arbitrary<Step> = fc.record({
  growth: fc.array(fc.array(fc.constantFrom(0, 0, 0, 1, 2), { minLength: 8, maxLength: 8 }), {
    minLength: SKILLS,
    maxLength: SKILLS,
  }),
  outcome: fc.constantFrom<Outcome>('ok', 'ok', 'ok', 'failed', 'partial'),
});
/** Windows of 1–5 reads each; the last read of a window is its closing read. */
const windows = fc.array(fc.array(step, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 });

describe('what a receiver can rebuild', () => {
  it('knows every counter of every read it accepted, and holds the last read of every window accepted', async () => {
    await fc.assert(
      fc.asyncProperty(windows, async (plan) => {
        const received: ReceivedPoint[] = [];
        let answer: Outcome = 'ok';
        const sink = new OtlpExporter({
          endpoint: new URL('http://127.0.0.1:9/v1/metrics'),
          datapoints: 'every-read',
          sleep: async () => {},
          post: async ({ body }) => {
            const points = decodeOfficially(gunzipSync(body));
            if (answer === 'failed')
              return { status: 400, retryAfter: undefined, contentType: undefined, body: Buffer.alloc(0) };
            // A partial success that rejects one datapoint: the receiver may still have kept the others.
            received.push(...(answer === 'partial' ? points.slice(1) : points));
            const response = answer === 'partial' ? partialSuccessBody(1, 'rejected') : new Uint8Array();
            return {
              status: 200,
              retryAfter: undefined,
              contentType: 'application/x-protobuf',
              body: Buffer.from(response),
            };
          },
        });
        /** What CMS served at each read, and whether the endpoint accepted that read's request whole. */
        const served: { windowStart: number; readAt: number; reads: SkillRead[]; whole: boolean }[] = [];
        for (const [windowIndex, steps] of plan.entries()) {
          const windowStart = WINDOW + windowIndex * WINDOW_MS;
          const totals = Array.from({ length: SKILLS }, () => COUNTERS.map(() => 0));
          for (const [index, { growth, outcome }] of steps.entries()) {
            const readAt = windowStart + 1_000 + index * 60_000;
            const reads = totals.map((values, skill) => {
              values.forEach((_, counter) => {
                values[counter] = (values[counter] as number) + (growth[skill]?.[counter] ?? 0);
              });
              const skillCounters = Object.fromEntries(
                COUNTERS.map(({ name }, counter) => [name, values[counter]]),
              ) as Counters;
              return read(skill + 1, windowStart, readAt - windowStart, skillCounters);
            });
            answer = outcome;
            const closing = index === steps.length - 1;
            const report = await sink.export(reads, { deadline: soon(), closing });
            served.push({ windowStart, readAt, reads, whole: report.accepted === report.points });
          }
        }
        for (const { windowStart, readAt, reads, whole } of served) {
          if (!whole) continue;
          for (const skillRead of reads)
            for (const { name } of COUNTERS) {
              const known = lastKnown(received, skillRead.skillId, name, windowStart, readAt);
              expect(known, `skill ${skillRead.skillId} ${name} at ${readAt}`).toBe(
                String(skillRead.counters[name]),
              );
            }
        }
        // The last read of each window (its closing read) is there whole when its request was accepted.
        for (const [windowIndex, steps] of plan.entries()) {
          const windowStart = WINDOW + windowIndex * WINDOW_MS;
          const closedAt = windowStart + 1_000 + (steps.length - 1) * 60_000;
          const closing = served.find((entry) => entry.readAt === closedAt);
          if (!closing?.whole) continue;
          const atClose = received.filter((point) => point.time === closedAt);
          expect(atClose).toHaveLength(SKILLS * COUNTERS.length);
        }
      }),
      { numRuns: 150 },
    );
  });
});

/** The value a receiver holds of a series at `at`: its latest datapoint of that window up to then. */
function lastKnown(
  points: readonly ReceivedPoint[],
  skillId: number,
  counter: CounterName,
  windowStart: number,
  at: number,
): string | undefined {
  let latest: ReceivedPoint | undefined;
  for (const point of points) {
    if (point.attributes.skill_id !== String(skillId) || NAME_OF.get(point.name) !== counter) continue;
    if (point.start !== windowStart || point.time > at) continue;
    if (latest === undefined || point.time >= latest.time) latest = point;
  }
  return latest?.value;
}
