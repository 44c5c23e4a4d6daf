import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../lib/errors.js';
import { checkIntegerIn, checkSkillIdArray, parseWholeNumber } from '../lib/validation.js';

const RANGE = { min: 1, max: 5000 };

function problemOf(action: () => unknown): ValidationError {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('checkIntegerIn', () => {
  it('accepts exactly the integers within the range', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)), (value) => {
        const inRange = typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 5000;
        if (inRange) expect(checkIntegerIn(value, 'vdn', RANGE)).toBe(value);
        else expect(() => checkIntegerIn(value, 'vdn', RANGE)).toThrow(ValidationError);
      }),
    );
  });

  it('names the field and says what is wrong', () => {
    expect(problemOf(() => checkIntegerIn('7', 'vdn', RANGE)).message).toBe('vdn: must be an integer');
    expect(problemOf(() => checkIntegerIn(5001, 'vdn', RANGE)).message).toBe(
      'vdn: must be between 1 and 5000',
    );
  });
});

describe('checkSkillIdArray', () => {
  it('names the entry that is not a skill id, holes of a sparse array included', () => {
    expect(problemOf(() => checkSkillIdArray([1, 0], 'skillIds', RANGE, 'x')).field).toBe('skillIds[1]');
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expect(problemOf(() => checkSkillIdArray([1, , 3], 'skillIds', RANGE, 'x')).field).toBe('skillIds[1]');
  });

  it('refuses an empty list and says what it expected of something else', () => {
    expect(problemOf(() => checkSkillIdArray([], 's', RANGE, 'x')).message).toBe(
      's: must name at least one skill',
    );
    expect(problemOf(() => checkSkillIdArray('1-3', 's', RANGE, 'an array')).message).toBe('s: an array');
  });
});

describe('parseWholeNumber', () => {
  it('reads digits only, within the range', () => {
    expect(parseWholeNumber(' 42 ', RANGE)).toBe(42);
    for (const text of ['1e3', '-1', '4.5', '', '0x10'])
      expect(() => parseWholeNumber(text, RANGE)).toThrow();
    expect(() => parseWholeNumber('5001', RANGE)).toThrow('must be between 1 and 5000, got 5001');
  });
});
