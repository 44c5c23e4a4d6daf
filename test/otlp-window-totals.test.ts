import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SkillRead } from '../lib/metrics/otlp-protobuf.js';
import { OtlpExporter, type OtlpExporterOptions } from '../lib/metrics/otlp-sink.js';
import { COUNTERS, type Counters, OTLP_COUNTER_NAMES, WINDOW_MS } from '../lib/model.js';
import { decodeOfficially, partialSuccessBody, type ReceivedPoint } from './support/otlp-receiver.js';
import { skillRead } from './support/skill-read.js';

// OTLP_DATAPOINTS=window-totals, the default: of each busy skill's window, its total once: the closing read at
// once, or the window's last read once the window has ended. Everything sent is read back with the official
// OpenTelemetry schema.

const WINDOW = Date.UTC(2026, 10, 26, 9, 5);
const NAME_OF = new Map(COUNTERS.map(({ name }) => [OTLP_COUNTER_NAMES[name] as string, name]));

const counters = (base: number): Counters =>
  Object.fromEntries(COUNTERS.map(({ name }, index) => [name, base + index])) as Counters;
const read = skillRead;

type Answer = 'ok' | 'refused' | 'partial';

/** An exporter whose clock the test sets and whose endpoint answers as told, keeping what it accepted. */
function harness(options: Partial<OtlpExporterOptions> = {}) {
  const state = { now: WINDOW, answer: 'ok' as Answer, requests: 0 };
  /** Datapoints of the requests answered 200, with the answer they got. */
  const received: (ReceivedPoint & { readonly answer: Answer })[] = [];
  const exporter = new OtlpExporter({
    endpoint: new URL('http://127.0.0.1:9/v1/metrics'),
    now: () => state.now,
    sleep: async () => {},
    post: async ({ body }) => {
      state.requests += 1;
      const answer = state.answer;
      if (answer === 'refused')
        return { status: 400, retryAfter: undefined, contentType: undefined, body: Buffer.alloc(0) };
      const points = decodeOfficially(gunzipSync(body));
      // A partial success that rejects one datapoint: the receiver keeps the others.
      received.push(
        ...(answer === 'partial' ? points.slice(1) : points).map((point) => ({ ...point, answer })),
      );
      return {
        status: 200,
        retryAfter: undefined,
        contentType: 'application/x-protobuf',
        body: Buffer.from(answer === 'partial' ? partialSuccessBody(1, 'rejected') : new Uint8Array()),
      };
    },
    ...options,
  });
  const send = (reads: readonly SkillRead[], closing = false) =>
    exporter.export(reads, { deadline: state.now + 10_000, closing });
  return { state, received, send };
}

/** What a receiver holds: `skill:counter=value@time`, sorted. */
const held = (points: readonly ReceivedPoint[]) =>
  points
    .map((point) => `${point.attributes.skill_id}:${NAME_OF.get(point.name)}=${point.value}@${point.time}`)
    .sort();
const totalOf = (skillRead: SkillRead) =>
  COUNTERS.map(({ name }) => `${skillRead.skillId}:${name}=${skillRead.counters[name]}@${skillRead.readAt}`);

describe('OTLP export of each window’s totals', () => {
  it('holds a read whose window is still open and sends nothing', async () => {
    const { state, received, send } = harness();
    state.now = WINDOW + 61_000;
    const report = await send([read(1, WINDOW, 61_000, counters(3))]);
    expect(state.requests).toBe(0);
    expect(received).toEqual([]);
    expect(report.points).toBe(0);
  });

  it('sends every counter of a closing read at once, zeros included', async () => {
    const { state, received, send } = harness();
    state.now = WINDOW + 297_000;
    const closing = read(1, WINDOW, 297_000, { ...counters(4), IvrTalkTime: 0, CallsAbandoned: 0 });
    const report = await send([closing], true);
    expect(held(received)).toEqual(totalOf(closing).sort());
    expect(received.every((point) => point.start === WINDOW)).toBe(true);
    expect(report).toMatchObject({ points: COUNTERS.length, accepted: COUNTERS.length });
  });

  it("sends a window's last read once the window has ended, and none of its earlier reads", async () => {
    const { state, received, send } = harness();
    state.now = WINDOW + 61_000;
    await send([read(1, WINDOW, 61_000, counters(1))]);
    state.now = WINDOW + 241_000;
    const last = read(1, WINDOW, 241_000, counters(5));
    await send([last]);
    state.now = WINDOW + WINDOW_MS + 1_000;
    await send([]);
    expect(held(received)).toEqual(totalOf(last).sort());
  });

  it('sends an ended window when a later window is read, even before our clock reaches its end', async () => {
    const { state, received, send } = harness();
    state.now = WINDOW + 241_000;
    const last = read(1, WINDOW, 241_000, counters(5));
    await send([last]);
    // CMS's clock runs a second ahead of ours: it already answers with the next window.
    state.now = WINDOW + WINDOW_MS - 1_000;
    await send([read(1, WINDOW + WINDOW_MS, 1, counters(0))]);
    expect(held(received)).toEqual(totalOf(last).sort());
  });

  it.each<[string, Answer]>([
    ['refused', 'refused'],
    ['partly rejected', 'partial'],
  ])('sends a closing read the endpoint %s again with the next export', async (_, answer) => {
    const { state, received, send } = harness();
    state.now = WINDOW + 297_000;
    state.answer = answer;
    const closing = read(1, WINDOW, 297_000, counters(7));
    const first = await send([closing], true);
    expect(first.accepted).toBeLessThan(COUNTERS.length);
    state.answer = 'ok';
    state.now = WINDOW + WINDOW_MS + 1_000;
    await send([read(1, WINDOW + WINDOW_MS, 1_000, counters(1))]);
    expect(held(received.filter((point) => point.answer === 'ok'))).toEqual(totalOf(closing).sort());
  });

  it('sends a total the endpoint accepted only once', async () => {
    const { state, send } = harness();
    state.now = WINDOW + 297_000;
    await send([read(1, WINDOW, 297_000, counters(7))], true);
    const requests = state.requests;
    for (const into of [1_000, 61_000, 121_000]) {
      state.now = WINDOW + WINDOW_MS + into;
      await send([read(1, WINDOW + WINDOW_MS, into, counters(1))]);
    }
    expect(state.requests).toBe(requests);
  });

  it('does not send a total twice while its request is still in flight', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const bodies: Uint8Array[] = [];
    const { state, send } = harness({
      post: async ({ body }) => {
        bodies.push(body);
        await gate;
        return { status: 200, retryAfter: undefined, contentType: undefined, body: Buffer.alloc(0) };
      },
    });
    state.now = WINDOW + 241_000;
    await send([read(1, WINDOW, 241_000, counters(5))]);
    state.now = WINDOW + WINDOW_MS + 1_000;
    const first = send([]);
    const second = send([]);
    release();
    const reports = await Promise.all([first, second]);
    expect(bodies).toHaveLength(1);
    expect(reports.map((report) => report.points)).toEqual([COUNTERS.length, 0]);
  });

  it('tries an unsent total through the next window, then forgets it', async () => {
    const { state, received, send } = harness();
    state.answer = 'refused';
    state.now = WINDOW + 297_000;
    await send([read(1, WINDOW, 297_000, counters(7))], true);
    state.now = WINDOW + WINDOW_MS + 297_000;
    const nextTotal = read(1, WINDOW + WINDOW_MS, 297_000, counters(9));
    const retried = await send([nextTotal], true);
    // Both windows' totals were tried again together; neither got through.
    expect(retried.points).toBe(2 * COUNTERS.length);
    state.answer = 'ok';
    state.now = WINDOW + 2 * WINDOW_MS + 1_000;
    await send([read(1, WINDOW + 2 * WINDOW_MS, 1_000, counters(0))]);
    expect(held(received)).toEqual(totalOf(nextTotal).sort());
  });
});

// --- the receiver's view, over random sequences of reads and answers -------------------------------------------

const SKILLS = 3;
interface Step {
  readonly growth: readonly (readonly number[])[];
  readonly answer: Answer;
}
const step: fc.Arbitrary<Step> = fc.record({
  growth: fc.array(fc.array(fc.constantFrom(0, 0, 1, 2), { minLength: 8, maxLength: 8 }), {
    minLength: SKILLS,
    maxLength: SKILLS,
  }),
  answer: fc.constantFrom<Answer>('ok', 'ok', 'ok', 'refused', 'partial'),
});
/** Windows of 1–5 reads a minute apart, whose last read is a closing read or not. */
const plans = fc.array(
  fc.record({ steps: fc.array(step, { minLength: 1, maxLength: 5 }), closing: fc.boolean() }),
  { minLength: 1, maxLength: 4 },
);

describe('what a receiver holds of each window', () => {
  it("holds only windows' last reads, each once, and every window whose total had one accepted try", async () => {
    await fc.assert(
      fc.asyncProperty(plans, fc.constantFrom<Answer>('ok', 'refused'), async (plan, finalAnswer) => {
        const { state, received, send } = harness();
        const lastReads: SkillRead[][] = [];
        /** Per window, the answers of the exports that carried or could carry its total. */
        const tries = plan.map((): Answer[] => []);
        for (const [index, { steps, closing }] of plan.entries()) {
          const windowStart = WINDOW + index * WINDOW_MS;
          const totals = Array.from({ length: SKILLS }, () => COUNTERS.map(() => 0));
          let reads: SkillRead[] = [];
          for (const [minute, { growth, answer }] of steps.entries()) {
            const isClosing = closing && minute === steps.length - 1;
            const into = isClosing ? 297_000 : 1_000 + minute * 60_000;
            reads = totals.map((values, skill) => {
              values.forEach((value, counter) => {
                values[counter] = value + (growth[skill]?.[counter] ?? 0);
              });
              const skillCounters = Object.fromEntries(
                COUNTERS.map(({ name }, counter) => [name, values[counter]]),
              ) as Counters;
              return read(skill + 1, windowStart, into, skillCounters);
            });
            state.now = windowStart + into;
            state.answer = answer;
            if (isClosing) tries[index]?.push(answer);
            // Every export of this window may carry the previous window's total.
            if (index > 0) tries[index - 1]?.push(answer);
            await send(reads, isClosing);
          }
          lastReads.push(reads);
        }
        // A last export after the end of the last window, which may carry it and the one before.
        state.now = WINDOW + plan.length * WINDOW_MS + 1_000;
        state.answer = finalAnswer;
        for (const index of [plan.length - 1, plan.length - 2]) tries[index]?.push(finalAnswer);
        await send([]);

        const lastOf = new Map(
          lastReads.flat().flatMap((skillRead) => totalOf(skillRead).map((key) => [key, true])),
        );
        for (const key of held(received)) expect(lastOf.has(key), key).toBe(true);
        const accepted = held(received.filter((point) => point.answer === 'ok'));
        expect(new Set(accepted).size).toBe(accepted.length);
        for (const [index, reads] of lastReads.entries()) {
          if (!tries[index]?.includes('ok')) continue;
          for (const skillRead of reads)
            for (const key of totalOf(skillRead)) expect(accepted).toContain(key);
        }
      }),
      { numRuns: 150 },
    );
  });
});
