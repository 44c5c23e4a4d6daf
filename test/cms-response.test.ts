import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCallStatsResponse, redact } from '../lib/cms/response.js';
import { CmsProtocolError, CmsResultError } from '../lib/errors.js';
import { COUNTERS, type SkillStats, WINDOW_MS } from '../lib/model.js';
import { alignedWindowStart } from '../lib/window.js';

const CMS_FIELDS = COUNTERS.map((counter) => counter.cmsField);

type Record = { id: number; startTime: number } & { [field: string]: number };

const counterValue = fc.oneof(fc.nat(1000), fc.maxSafeNat());
const record: fc.Arbitrary<Record> = fc
  .tuple(
    fc.integer({ min: 1, max: 5000 }),
    fc.nat({ max: 4_102_444_800_000 }),
    fc.tuple(...CMS_FIELDS.map(() => counterValue)),
  )
  .map(([id, startTime, values]) => ({
    id,
    startTime,
    ...Object.fromEntries(CMS_FIELDS.map((field, index) => [field, values[index] ?? 0])),
  }));
const uniqueRecords = fc.uniqueArray(record, { selector: (r) => r.id, maxLength: 30 });

function expected(records: readonly Record[]): SkillStats[] {
  return [...records]
    .sort((a, b) => a.id - b.id)
    .map((r) => ({
      skillId: r.id,
      windowStart: alignedWindowStart(r.startTime),
      counters: Object.fromEntries(COUNTERS.map((counter) => [counter.name, r[counter.cmsField]])),
    })) as SkillStats[];
}

function success(records: readonly unknown[], extra: object = {}): string {
  return JSON.stringify({
    result: '0',
    resultCode: '0100000',
    resultDatas: records,
    resultDesc: records,
    ...extra,
  });
}

function thrown(body: string): Error {
  try {
    parseCallStatsResponse(body);
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected the parser to throw');
}

const sample = {
  id: 12,
  startTime: 1_607_390_700_000,
  allCallCount: 10,
  cnnedCallCount: 8,
  abanCallCount: 2,
  callEndCount: 7,
  talkTimeOnIvr: 30,
  cnnedIn20sCallCount: 6,
  clearUpCallCount: 5,
  clearUpTime: 100,
};

describe('parseCallStatsResponse', () => {
  it('maps every CMS field onto its metric name', () => {
    expect(parseCallStatsResponse(success([sample]))).toEqual([
      {
        skillId: 12,
        windowStart: 1_607_390_700_000,
        counters: {
          CallsOffered: 10,
          CallsAnswered: 8,
          CallsAbandoned: 2,
          CallsEnded: 7,
          IvrTalkTime: 30,
          CallsAnsweredIn20s: 6,
          WrapUps: 5,
          WrapUpTime: 100,
        },
      },
    ]);
  });

  it('gives back any set of valid records, sorted by skill id', () => {
    fc.assert(
      fc.property(uniqueRecords, (records) => {
        expect(parseCallStatsResponse(success(records))).toEqual(expected(records));
      }),
    );
  });

  it('reads the legacy resultDatas when resultDesc is not an array', () => {
    fc.assert(
      fc.property(uniqueRecords, fc.constantFrom(undefined, 'ok', null), (records, desc) => {
        const body = JSON.stringify({ resultCode: '0100000', resultDatas: records, resultDesc: desc });
        expect(parseCallStatsResponse(body)).toEqual(expected(records));
      }),
    );
  });

  it('prefers resultDesc when both arrays are present', () => {
    const body = JSON.stringify({
      resultCode: '0100000',
      resultDesc: [sample],
      resultDatas: [{ ...sample, id: 13 }],
    });
    expect(parseCallStatsResponse(body).map((stats) => stats.skillId)).toEqual([12]);
  });

  it('accepts the success code given as a number', () => {
    expect(parseCallStatsResponse(JSON.stringify({ resultCode: 100000, resultDesc: [sample] }))).toHaveLength(
      1,
    );
  });

  it('accepts counters and startTime written as strings of digits', () => {
    fc.assert(
      fc.property(record, (r) => {
        const asText = Object.fromEntries(
          Object.entries(r).map(([field, value]) => [field, field === 'id' ? value : String(value)]),
        );
        expect(parseCallStatsResponse(success([asText]))).toEqual(expected([r]));
      }),
    );
  });

  it('stamps each record with the aligned start of the window its startTime belongs to', () => {
    // The spec's own sample trails the 01:25 boundary by 2 s.
    const trailing = [0, 1, 1_000, 2_000, WINDOW_MS - 1].map((trail, index) => ({
      ...sample,
      id: index + 1,
      startTime: 1_607_390_700_000 + trail,
    }));
    const starts = parseCallStatsResponse(success(trailing)).map((stats) => stats.windowStart);
    expect(starts).toEqual(trailing.map(() => 1_607_390_700_000));
  });

  it('keeps the first of two records with the same id', () => {
    const body = success([sample, { ...sample, allCallCount: 99 }]);
    expect(parseCallStatsResponse(body)[0]?.counters.CallsOffered).toBe(10);
  });

  it('ignores unknown fields', () => {
    expect(parseCallStatsResponse(success([{ ...sample, extra: 'x' }], { traceId: 'abc' }))).toHaveLength(1);
  });

  it('turns a JSON -0 into 0', () => {
    const body = success([sample]).replaceAll('"abanCallCount":2', '"abanCallCount":-0');
    expect(Object.is(parseCallStatsResponse(body)[0]?.counters.CallsAbandoned, 0)).toBe(true);
  });

  it('reports an empty statistics array as no skills', () => {
    expect(parseCallStatsResponse(success([]))).toEqual([]);
  });

  describe('failure result codes', () => {
    it('raises the code and the text of resultDesc', () => {
      const error = thrown(
        JSON.stringify({ result: '1', resultCode: '0100001', resultDesc: 'skillIds is invalid' }),
      );
      expect(error).toBeInstanceOf(CmsResultError);
      expect(error).toMatchObject({
        resultCode: '0100001',
        resultText: 'skillIds is invalid',
        retryable: false,
      });
    });

    it('keeps an empty text when resultDesc is not a string', () => {
      const error = thrown(JSON.stringify({ resultCode: '0200005', resultDesc: [] }));
      expect(error).toMatchObject({ resultCode: '0200005', resultText: '' });
    });

    it('restores the leading zero of a code given as a number', () => {
      expect(thrown(JSON.stringify({ resultCode: 100001 }))).toMatchObject({ resultCode: '0100001' });
    });

    it('treats any code other than success as a failure', () => {
      fc.assert(
        fc.property(
          fc.string({ minLength: 1 }).filter((code) => code.trim() !== '' && code.trim() !== '0100000'),
          (code) => {
            const error = thrown(JSON.stringify({ resultCode: code, resultDesc: [sample] }));
            expect(error).toBeInstanceOf(CmsResultError);
            expect((error as CmsResultError).resultCode).toBe(code.trim());
          },
        ),
      );
    });

    it.each([
      ['0100001', 'the call failed'],
      ['0100002', 'invalid parameter'],
      ['0100003', 'CTI V300R008'],
      ['0100999', 'unknown error'],
      ['0101001', 'quality-inspection'],
      ['0101002', 'does not exist on the UAP'],
      ['0101003', 'insufficient permission'],
    ])('says what the published code %s means', (code, meaning) => {
      expect(thrown(JSON.stringify({ resultCode: code, resultDesc: 'x' })).message).toContain(meaning);
    });

    it('says so of a code outside the published table', () => {
      expect(thrown(JSON.stringify({ resultCode: '0200005' })).message).toContain('does not publish');
    });

    it('shows a long failure text and a long code clipped', () => {
      const error = thrown(
        JSON.stringify({ resultCode: '9'.repeat(5_000), resultDesc: 'y'.repeat(100_000) }),
      );
      expect(error.message.length).toBeLessThan(500);
      expect((error as CmsResultError).resultCode.length).toBeLessThanOrEqual(20);
    });

    it('reads a response that carries only the older result field, "0" being success', () => {
      const body = JSON.stringify({ result: '0', resultDatas: [sample] });
      expect(parseCallStatsResponse(body)).toHaveLength(1);
    });

    it('raises the older result field as the code when it is not "0"', () => {
      const error = thrown(JSON.stringify({ result: '1', resultDesc: 'no permission' }));
      expect(error).toMatchObject({ resultCode: '1', resultText: 'no permission' });
    });

    it('refuses an older result field that is neither text nor a number', () => {
      expect(thrown(JSON.stringify({ result: { x: 1 } }))).toBeInstanceOf(CmsProtocolError);
    });

    it('blanks out anything shaped like an Authorization value in the server text', () => {
      const desc =
        'bad header auth-v2/ak/2024-01-02T03:04:05.678Z/content-length;content-type;host/abcdef0123';
      const error = thrown(JSON.stringify({ resultCode: '0100002', resultDesc: desc }));
      expect(error.message).not.toContain('abcdef0123');
      expect(error.message).toContain('auth-v2/[redacted]');
    });
  });

  describe('protocol errors', () => {
    it.each([
      ['not JSON', '<html>502 Bad Gateway</html>'],
      ['cut JSON', success([sample]).slice(0, 40)],
      ['an empty body', ''],
      ['a JSON array', '[]'],
      ['a JSON string', '"0100000"'],
      ['JSON null', 'null'],
    ])('refuses %s', (_, body) => {
      expect(thrown(body)).toBeInstanceOf(CmsProtocolError);
    });

    it.each([
      ['missing', {}],
      ['null', { resultCode: null }],
      ['an object', { resultCode: {} }],
      ['blank', { resultCode: ' ' }],
      ['negative', { resultCode: -1 }],
    ])('refuses a resultCode that is %s', (_, fields) => {
      const error = thrown(JSON.stringify({ ...fields, resultDesc: [sample] }));
      expect(error).toBeInstanceOf(CmsProtocolError);
      expect(error.message).toContain('resultCode');
    });

    it('refuses success without any statistics array', () => {
      expect(thrown(JSON.stringify({ resultCode: '0100000', resultDesc: 'ok' })).message).toContain(
        'without a statistics array',
      );
    });

    it('names the record that is not an object', () => {
      expect(thrown(success([sample, 7])).message).toBe('statistics record 1 is 7, expected an object');
    });

    it('names the skill and the field of a counter that is not a number', () => {
      expect(thrown(success([{ ...sample, cnnedCallCount: 'abc' }])).message).toBe(
        'skill 12: cnnedCallCount is "abc", expected a non-negative integer',
      );
    });

    it('names the record whose id is not a skill id', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.integer({ max: 0 }),
            fc.integer({ min: 5001 }),
            fc.double({ noInteger: true, noDefaultInfinity: true, noNaN: true }),
            fc.string(),
            fc.constant(null),
            fc.constant([]),
          ),
          (id) => {
            const error = thrown(success([sample, { ...sample, id }]));
            expect(error).toBeInstanceOf(CmsProtocolError);
            expect(error.message).toMatch(/^statistics record 1: id is /);
          },
        ),
      );
    });

    it('names the skill and the field for every wrong value of every number field', () => {
      const wrong = fc.oneof(
        fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }),
        fc.double({ noInteger: true, noDefaultInfinity: true, noNaN: true }),
        fc.constant(2 ** 53),
        fc.string().filter((text) => !/^\d{1,16}$/.test(text)),
        fc.constantFrom('-1', '1.5', '1e3', ' 1', '0x10', '99999999999999999'),
        fc.constantFrom(null, true, {}, [], undefined),
      );
      fc.assert(
        fc.property(fc.constantFrom('startTime', ...CMS_FIELDS), wrong, (field, value) => {
          const error = thrown(success([{ ...sample, [field]: value }]));
          expect(error).toBeInstanceOf(CmsProtocolError);
          expect(error.message).toMatch(
            new RegExp(`^skill 12: ${field} is .*, expected a non-negative integer$`),
          );
        }),
      );
    });

    it('names a missing counter', () => {
      const { clearUpTime: _, ...withoutWrapUpTime } = sample;
      expect(thrown(success([withoutWrapUpTime])).message).toBe(
        'skill 12: clearUpTime is nothing, expected a non-negative integer',
      );
    });

    it('validates duplicates too, so that a broken server is noticed', () => {
      expect(thrown(success([sample, { ...sample, startTime: -5 }]))).toBeInstanceOf(CmsProtocolError);
    });
  });
});

describe('redact', () => {
  it('leaves text without Authorization values alone', () => {
    fc.assert(
      fc.property(
        fc.string().filter((text) => !/auth-v2\//i.test(text)),
        (text) => {
          expect(redact(text)).toBe(text);
        },
      ),
    );
  });
});
