import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../lib/errors.js';
import {
  checkIntegerIn,
  checkSkillIdArray,
  isJsonObject,
  parseWholeNumber,
  readJsonObject,
  wholeNumberOf,
} from '../lib/validation.js';

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

describe('wholeNumberOf', () => {
  it('reads any whole number as it prints, blanks around it aside', () => {
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom('', ' ', '\t'), (value, blank) => {
        expect(wholeNumberOf(`${blank}${value}${blank}`)).toBe(value);
      }),
    );
  });

  it('reads nothing that is not digits alone', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        if (!/^\s*\d+\s*$/.test(text)) expect(wholeNumberOf(text)).toBeUndefined();
      }),
    );
    for (const text of ['1e3', '-1', '+1', '4.5', '', '0x10', '1 2'])
      expect(wholeNumberOf(text)).toBeUndefined();
  });
});

describe('readJsonObject', () => {
  it('reads any JSON object as the object it is', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
        const text = JSON.stringify(object);
        const reading = readJsonObject(text);
        expect(reading.problem).toBeUndefined();
        expect(reading.problem === undefined && reading.object).toEqual(JSON.parse(text));
      }),
    );
  });

  it('says when the text is JSON of another kind, and which', () => {
    for (const value of [[1, 2], null, 7, 'text', true]) {
      expect(readJsonObject(JSON.stringify(value))).toEqual({ problem: 'not an object', value });
      expect(isJsonObject(value)).toBe(false);
    }
  });

  it('says when the text is not JSON at all', () => {
    for (const text of ['', '{', '{"a":1', "{'a':1}", 'undefined']) {
      expect(readJsonObject(text)).toEqual({ problem: 'not JSON' });
    }
  });
});
