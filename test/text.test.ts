import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanText, clip } from '../lib/text.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: what must never come out.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('clip', () => {
  it('keeps short text and cuts long text to the limit with an ellipsis', () => {
    expect(clip('abc', 3)).toBe('abc');
    expect(clip('abcd', 3)).toBe('ab…');
  });
});

describe('cleanText', () => {
  it('turns each run of control characters into one space', () => {
    expect(cleanText('fail\u001b[2J\u001b[31mred\r\nnext\u202eevil', 100)).toBe('fail [2J [31mred next evil');
  });

  it('never returns a control character and never exceeds the limit, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.integer({ min: 1, max: 300 }),
        (text, max) => {
          const cleaned = cleanText(text, max);
          expect(cleaned.length).toBeLessThanOrEqual(max);
          expect(cleaned).not.toMatch(UNPRINTABLE);
        },
      ),
    );
  });

  it('keeps printable text, Chinese included, unchanged', () => {
    expect(cleanText('参数不合法 (0100002)', 100)).toBe('参数不合法 (0100002)');
  });
});
