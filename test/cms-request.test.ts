import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchSkillIds, describeValue, validateCallStatsQuery } from '../lib/cms/request.js';
import { ValidationError } from '../lib/errors.js';

const skillId = fc.integer({ min: 1, max: 5000 });
const validQuery = fc.record({
  ccId: fc.integer({ min: 1, max: 65_535 }),
  vdn: fc.integer({ min: 1, max: 5000 }),
  skillIds: fc.array(skillId, { minLength: 1, maxLength: 300 }),
});

/** Values that are never a valid id, whatever the range. */
const notAnInteger = fc.oneof(
  fc.double({ noInteger: true }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  fc.string(),
  fc.integer({ min: 1, max: 5000 }).map(String),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.constant({}),
  fc.constant([1]),
  fc.bigInt({ min: 1n, max: 5000n }),
);

function validationError(action: () => unknown): ValidationError {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

describe('validateCallStatsQuery', () => {
  it('accepts the example of the spec', () => {
    expect(validateCallStatsQuery({ ccId: 1, vdn: 170, skillIds: [1, 2] })).toEqual({
      ccId: 1,
      vdn: 170,
      skillIds: [1, 2],
    });
  });

  it('returns any valid query with its skill ids de-duplicated and sorted', () => {
    fc.assert(
      fc.property(validQuery, (query) => {
        const result = validateCallStatsQuery(query);
        expect(result.ccId).toBe(query.ccId);
        expect(result.vdn).toBe(query.vdn);
        expect(result.skillIds).toEqual([...new Set(query.skillIds)].sort((a, b) => a - b));
      }),
    );
  });

  it('does not cap the number of skills (the client batches them)', () => {
    const skillIds = Array.from({ length: 5000 }, (_, index) => 5000 - index);
    expect(validateCallStatsQuery({ ccId: 1, vdn: 1, skillIds }).skillIds).toHaveLength(5000);
  });

  it.each([
    ['ccId', 0],
    ['ccId', 65_536],
    ['vdn', 0],
    ['vdn', 5001],
  ])('refuses %s = %d, just outside its range', (field, value) => {
    const error = validationError(() =>
      validateCallStatsQuery({ ccId: 1, vdn: 1, skillIds: [1], [field]: value }),
    );
    expect(error.field).toBe(field);
  });

  it('accepts the bounds of every range', () => {
    expect(validateCallStatsQuery({ ccId: 65_535, vdn: 5000, skillIds: [1, 5000] })).toEqual({
      ccId: 65_535,
      vdn: 5000,
      skillIds: [1, 5000],
    });
  });

  it('names ccId or vdn when either is not an integer', () => {
    fc.assert(
      fc.property(fc.constantFrom('ccId', 'vdn'), notAnInteger, (field, value) => {
        const error = validationError(() =>
          validateCallStatsQuery({ ccId: 1, vdn: 1, skillIds: [1], [field]: value }),
        );
        expect(error.field).toBe(field);
      }),
    );
  });

  it('names the first bad skill id by its index', () => {
    fc.assert(
      fc.property(
        fc.array(skillId, { maxLength: 20 }),
        fc.oneof(notAnInteger, fc.integer({ max: 0 }), fc.integer({ min: 5001 })),
        fc.array(fc.anything(), { maxLength: 5 }),
        (good, bad, rest) => {
          const error = validationError(() =>
            validateCallStatsQuery({ ccId: 1, vdn: 1, skillIds: [...good, bad, ...rest] }),
          );
          expect(error.field).toBe(`skillIds[${good.length}]`);
        },
      ),
    );
  });

  it('reports a hole in a sparse array instead of skipping it', () => {
    const skillIds = [1, 2, 3];
    delete skillIds[1];
    expect(validationError(() => validateCallStatsQuery({ ccId: 1, vdn: 1, skillIds })).field).toBe(
      'skillIds[1]',
    );
  });

  it('refuses an empty skill list', () => {
    const error = validationError(() => validateCallStatsQuery({ ccId: 1, vdn: 1, skillIds: [] }));
    expect(error.field).toBe('skillIds');
    expect(error.message).toContain('at least one');
  });

  it.each([['1,2'], [{ 0: 1 }], [1], [null], [undefined]])('refuses skillIds given as %j', (skillIds) => {
    expect(validationError(() => validateCallStatsQuery({ ccId: 1, vdn: 1, skillIds })).field).toBe(
      'skillIds',
    );
  });

  it.each([[null], [undefined], ['{"ccId":1}'], [[1, 1, [1]]], [42]])('refuses %j as a query', (input) => {
    expect(validationError(() => validateCallStatsQuery(input)).field).toBe('query');
  });

  it('names a missing field', () => {
    const error = validationError(() => validateCallStatsQuery({ ccId: 1, skillIds: [1] }));
    expect(error.field).toBe('vdn');
    expect(error.message).toBe('vdn: expected an integer from 1 to 5000, got nothing');
  });

  it('quotes a string where a number belongs, so "12" and 12 can be told apart', () => {
    expect(validationError(() => validateCallStatsQuery({ ccId: '12', vdn: 1, skillIds: [1] })).message).toBe(
      'ccId: expected an integer from 1 to 65535, got "12"',
    );
  });
});

describe('batchSkillIds', () => {
  it('cuts any list into consecutive batches of the given size, the last one possibly shorter', () => {
    fc.assert(
      fc.property(fc.array(skillId, { maxLength: 3000 }), fc.integer({ min: 1, max: 1000 }), (ids, size) => {
        const batches = batchSkillIds(ids, size);
        expect(batches.flat()).toEqual(ids);
        expect(batches).toHaveLength(Math.ceil(ids.length / size));
        for (const batch of batches.slice(0, -1)) expect(batch).toHaveLength(size);
        for (const batch of batches) expect(batch.length).toBeGreaterThan(0);
      }),
    );
  });

  it('holds at most 1,000 ids per batch by default', () => {
    const ids = Array.from({ length: 2500 }, (_, index) => index + 1);
    expect(batchSkillIds(ids).map((batch) => batch.length)).toEqual([1000, 1000, 500]);
  });

  it.each([[0], [1001], [2.5], [Number.NaN]])('refuses a batch size of %d', (size) => {
    expect(() => batchSkillIds([1], size)).toThrow(RangeError);
  });
});

describe('describeValue', () => {
  it('cuts long strings so that a message stays readable', () => {
    expect(describeValue('x'.repeat(100))).toBe(`"${'x'.repeat(40)}…"`);
  });

  it.each([
    [undefined, 'nothing'],
    [null, 'null'],
    [[1], 'an array'],
    [{ a: 1 }, 'an object'],
    [1.5, '1.5'],
    [false, 'false'],
    [7n, '7n'],
  ])('describes %s as %s', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });
});
