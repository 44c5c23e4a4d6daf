import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BatchOutcome } from '../lib/cms/batch.js';
import {
  LIVE_QUEUE_RETRY_MS,
  LiveQueueAvailability,
  parseLiveQueueResponse,
  type SkillQueueRecord,
} from '../lib/cms/live-queue.js';
import { redact } from '../lib/cms/response.js';
import { CmsResultError } from '../lib/cms/result-codes.js';
import { CmsHttpError, CmsProtocolError, CmsTimeoutError } from '../lib/errors.js';

const item = {
  skillId: 12,
  queueSize: 4,
  queueTime: 185,
  loggedOnAgents: 6,
  availAgents: 0,
  maxQueueSize: 100,
  skillDescrip: 'Billing',
  callId: '1170121764000000',
};

function success(items: readonly unknown[], extra: object = {}): string {
  return JSON.stringify({
    result: '0',
    resultCode: '0100000',
    resultDatas: items,
    resultDesc: items,
    ...extra,
  });
}

function thrown(body: string): Error {
  try {
    parseLiveQueueResponse(body);
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected the parser to throw');
}

const count = fc.oneof(fc.nat(1_000), fc.maxSafeNat());
const queueItem = fc.record({
  skillId: fc.integer({ min: 1, max: 5_000 }),
  queueSize: count,
  queueTime: count,
  loggedOnAgents: count,
  availAgents: count,
  maxQueueSize: count,
  skillDescrip: fc.string({ maxLength: 200 }),
  callId: fc.string({ maxLength: 40 }),
});

describe('parseLiveQueueResponse', () => {
  it('reads each item as the live queue of its skill, queueTime in seconds', () => {
    expect(parseLiveQueueResponse(success([item]))).toEqual([
      {
        skillId: 12,
        callsWaiting: 4,
        longestWaitSeconds: 185,
        agentsLoggedOn: 6,
        agentsAvailable: 0,
        description: 'Billing',
      },
    ]);
  });

  it('keeps every valid item, one per skill, by skill id, and never the call id', () => {
    fc.assert(
      fc.property(fc.uniqueArray(queueItem, { selector: (each) => each.skillId, maxLength: 30 }), (items) => {
        const parsed = parseLiveQueueResponse(success(items));
        expect(parsed.map((each) => each.skillId)).toEqual(
          items.map((each) => each.skillId).sort((a, b) => a - b),
        );
        for (const each of parsed) {
          const sent = items.find((candidate) => candidate.skillId === each.skillId);
          expect(each).toMatchObject({
            callsWaiting: sent?.queueSize,
            longestWaitSeconds: sent?.queueTime,
            agentsLoggedOn: sent?.loggedOnAgents,
            agentsAvailable: sent?.availAgents,
          });
          expect(Object.keys(each)).not.toContain('callId');
        }
      }),
    );
  });

  it('accepts counts written as strings of digits, as Java longs sometimes are', () => {
    const [parsed] = parseLiveQueueResponse(success([{ ...item, queueSize: '4', queueTime: '185' }]));
    expect(parsed).toMatchObject({ callsWaiting: 4, longestWaitSeconds: 185 });
  });

  it.each([
    ['a negative wait', { queueTime: -1 }, 'skill 12: queueTime is -1'],
    ['a fractional count', { queueSize: 1.5 }, 'skill 12: queueSize is 1.5'],
    ['a count that is text', { loggedOnAgents: 'many' }, 'skill 12: loggedOnAgents is "many"'],
    ['a missing count', { availAgents: undefined }, 'skill 12: availAgents is nothing'],
    ['a skill id out of range', { skillId: 5_001 }, 'skillId is 5001'],
    ['a description that is not text', { skillDescrip: 42 }, 'skill 12: skillDescrip is 42'],
  ])('refuses %s', (_what, change, message) => {
    const error = thrown(success([{ ...item, ...change }]));
    expect(error).toBeInstanceOf(CmsProtocolError);
    expect(error.message).toContain(message);
  });

  it('takes a missing or null description for none', () => {
    const parsed = parseLiveQueueResponse(
      success([
        { ...item, skillDescrip: null },
        { ...item, skillId: 13, skillDescrip: undefined },
      ]),
    );
    expect(parsed.map((each) => each.description)).toEqual(['', '']);
  });

  it('cleans a description of control characters and bounds it, whatever CMS sent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 500 }), (text) => {
        const [parsed] = parseLiveQueueResponse(success([{ ...item, skillDescrip: text }]));
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must be gone.
        expect(parsed?.description).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
        expect(parsed?.description.length).toBeLessThanOrEqual(80);
      }),
    );
  });

  it('reports the failure codes of a CMS without the interface as result errors', () => {
    for (const code of ['0100003', '0101003']) {
      const error = thrown(JSON.stringify({ result: '1', resultCode: code, resultDesc: 'not here' }));
      expect(error).toBeInstanceOf(CmsResultError);
      expect((error as CmsResultError).resultCode).toBe(code);
    }
  });

  it('never quotes a call id in an error, even cut short at the end of an excerpt', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{8,30}$/), fc.nat(80), (callId, cut) => {
        const body = `{"resultDesc":[{"callId":"${callId}","skillId":1`.slice(0, 22 + cut);
        expect(thrown(body).message).not.toContain(callId.slice(0, 4));
        expect(redact(`{"callId":"${callId}"}`)).toBe('{"callId":"[redacted]"}');
      }),
    );
  });
});

const QUERY = { ccId: 1, vdn: 170, skillIds: [1, 2, 3] };
const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);

function answered(records: SkillQueueRecord[], skillIds = QUERY.skillIds): BatchOutcome<SkillQueueRecord> {
  return { skillIds, ms: 12, records, clock: { date: new Date(T0).toUTCString(), localAt: T0 } };
}

const failedWith = (
  error: CmsHttpError | CmsResultError | CmsTimeoutError,
): BatchOutcome<SkillQueueRecord> => ({
  skillIds: QUERY.skillIds,
  ms: 5,
  error,
});

/** An availability on a clock the test moves, with a log that records its lines and a CMS that counts calls. */
function availability(outcome: () => BatchOutcome<SkillQueueRecord>) {
  let now = T0;
  const lines: { level: string; message: string; fields: unknown }[] = [];
  const log = {
    debug: (message: string, fields?: unknown) => lines.push({ level: 'debug', message, fields }),
    warn: (message: string, fields?: unknown) => lines.push({ level: 'warn', message, fields }),
  };
  const subject = new LiveQueueAvailability(log, () => now);
  let calls = 0;
  const read = (query = QUERY) =>
    subject.read(query, async () => {
      calls += 1;
      return { outcomes: [outcome()], requests: 1 };
    });
  return {
    read,
    lines,
    calls: () => calls,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const record = (skillId: number): SkillQueueRecord => ({
  skillId,
  callsWaiting: skillId,
  longestWaitSeconds: 10 * skillId,
  agentsLoggedOn: 3,
  agentsAvailable: 0,
  description: '',
});

describe('the live queue’s availability', () => {
  it('gives the requested skills CMS answered for, stamped with the time of the answer, and their total', async () => {
    const subject = availability(() => answered([record(3), record(1), record(99)]));
    expect(await subject.read()).toEqual({
      kind: 'read',
      at: T0,
      skills: [record(1), record(3)],
      total: { callsWaiting: 4, longestWaitSeconds: 30 },
      slowestBatchMs: 12,
      requests: 1,
    });
  });

  it.each([
    ['CTI 3.6 (0100003)', new CmsResultError('0100003', ''), 'resultCode'],
    ['a CMS without the path (HTTP 404)', new CmsHttpError(404), 'status'],
  ])(
    'takes %s for a CMS without the live queue: one WARN, then no request for 15 minutes',
    async (_what, error, field) => {
      const subject = availability(() => failedWith(error));
      const first = await subject.read();
      expect(first).toMatchObject({ kind: 'unsupported', requests: 1 });
      for (let minute = 1; minute < 15; minute += 1) {
        subject.advance(60_000);
        expect(await subject.read({ ...QUERY, vdn: 171 })).toMatchObject({
          kind: 'unsupported',
          requests: 0,
        });
      }
      expect(subject.calls()).toBe(1);
      subject.advance(60_000);
      expect(await subject.read()).toMatchObject({ kind: 'unsupported', requests: 1 });
      expect(subject.calls()).toBe(2);
      const warnings = subject.lines.filter((line) => line.level === 'warn');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.message).toMatch(/^live queue not available: .*asked again every 15 minutes$/);
      expect(warnings[0]?.fields).toHaveProperty(field);
      expect(LIVE_QUEUE_RETRY_MS).toBe(15 * 60_000);
    },
  );

  it('holds a missing right (0101003) against the VDN alone, with a WARN naming it', async () => {
    let code = '0101003';
    const subject = availability(() =>
      code === '' ? answered([record(1)]) : failedWith(new CmsResultError(code, 'insufficient')),
    );
    expect(await subject.read()).toMatchObject({ kind: 'unsupported' });
    code = '';
    expect(await subject.read({ ...QUERY, vdn: 171 })).toMatchObject({ kind: 'read' });
    expect(await subject.read()).toMatchObject({ kind: 'unsupported', requests: 0 });
    expect(subject.lines.filter((line) => line.level === 'warn')[0]?.fields).toMatchObject({
      ccId: 1,
      vdn: 170,
      resultCode: '0101003',
    });
  });

  it('asks again at the next read after any other failure', async () => {
    const subject = availability(() => failedWith(new CmsTimeoutError('too slow')));
    expect(await subject.read()).toMatchObject({ kind: 'failed', error: { code: 'CMS_TIMEOUT' } });
    expect(await subject.read()).toMatchObject({ kind: 'failed' });
    expect(subject.calls()).toBe(2);
    expect(subject.lines).toEqual([]);
  });
});
