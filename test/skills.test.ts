import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSkillList, parseSkillList } from '../lib/skills.js';

describe('skill lists', () => {
  it('expands ranges and single ids, sorted and de-duplicated', () => {
    expect(parseSkillList('40-42, 35,1-3,2')).toEqual([1, 2, 3, 35, 40, 41, 42]);
  });

  it.each([
    ['', 'empty'],
    ['1,,2', 'neither'],
    ['a-3', 'neither'],
    ['0', 'outside'],
    ['4999-5001', 'outside'],
    ['9-3', 'backwards'],
    ['1.5', 'neither'],
  ])('rejects %j with a message saying why', (text, reason) => {
    expect(() => parseSkillList(text)).toThrow(reason);
  });

  it('formats any id set so that parsing gives it back', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 5000 }), { minLength: 1 }), (ids) => {
        expect(parseSkillList(formatSkillList(ids))).toEqual([...ids].sort((a, b) => a - b));
      }),
    );
  });

  it('writes consecutive ids as a range', () => {
    expect(formatSkillList([3, 1, 2, 35, 7, 8])).toBe('1-3,7-8,35');
  });
});
