import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cmsClock, DATE_AGREEMENT_MS, dateHeaderProblem, hasEnded, imfFixdate } from '../lib/cms/clock.js';
import { WINDOW_MS } from '../lib/model.js';

const WINDOW = Date.UTC(2026, 11, 1, 9, 25, 0);
const LOCAL = WINDOW + 61_234;
const imf = (at: number) => new Date(at).toUTCString();
/** Epoch ms from 1970 to 9999, whole seconds. */
const seconds = fc.integer({ min: 0, max: 253_402_300_799 }).map((s) => s * 1_000);

describe('a Date header as a clock', () => {
  it('takes the middle of the second an IMF-fixdate names', () => {
    expect(imfFixdate('Tue, 01 Dec 2026 09:30:00 GMT')).toBe(Date.UTC(2026, 11, 1, 9, 30, 0, 500));
  });

  it('reads every IMF-fixdate back to its second', () => {
    fc.assert(
      fc.property(seconds, (at) => {
        expect(imfFixdate(imf(at))).toBe(at + 500);
      }),
    );
  });

  it.each([
    ['0'],
    ['garbage'],
    [''],
    ['Sunday, 01-Dec-26 09:30:00 GMT'],
    ['Tue Dec  1 09:30:00 2026'],
    ['2026-12-01T09:30:00Z'],
    ['Mon, 01 Dec 2026 09:30:00 GMT'],
    ['Tue, 31 Nov 2026 09:30:00 GMT'],
    ['Tue, 01 Dec 2026 09:30:00 +0000'],
    ['tue, 01 dec 2026 09:30:00 gmt'],
  ])('refuses %j: not an IMF-fixdate, and says so', (header) => {
    expect(imfFixdate(header)).toBeUndefined();
    expect(dateHeaderProblem(header)).toMatch(/is not an IMF-fixdate$/);
  });

  it('refuses any text that is not the IMF-fixdate of its own moment', () => {
    fc.assert(
      fc.property(fc.string(), (header) => {
        const at = imfFixdate(header);
        if (at !== undefined) expect(imf(at - 500)).toBe(header);
      }),
    );
  });

  it('quotes an unusable header cleaned and clipped, and names a missing one', () => {
    expect(dateHeaderProblem(`\u001b[2J${'x'.repeat(100)}`)).toMatch(/^CMS's Date header " \[2Jx+…" is not/);
    expect(dateHeaderProblem(undefined)).toBe('CMS sent no Date header');
  });
});

describe('CMS’s clock of a read', () => {
  const reading = (at: number) => ({ date: imf(at), localAt: LOCAL });

  it('is the earliest Date of the answers when every one lies inside the window the answers name', () => {
    expect(cmsClock([reading(WINDOW + 62_000), reading(WINDOW + 61_000)], WINDOW)).toEqual({
      cmsAt: WINDOW + 61_500,
      localAt: LOCAL,
    });
  });

  it('agrees with the window give or take a few seconds, and with nothing further', () => {
    fc.assert(
      fc.property(fc.integer({ min: -60_000, max: WINDOW_MS + 60_000 }), (offset) => {
        const at = Math.floor((WINDOW + offset) / 1_000) * 1_000;
        const clock = cmsClock([reading(at)], WINDOW);
        const middle = at + 500;
        const inside =
          middle >= WINDOW - DATE_AGREEMENT_MS && middle <= WINDOW + WINDOW_MS + DATE_AGREEMENT_MS;
        expect(clock).toEqual(inside ? { cmsAt: middle, localAt: LOCAL } : { problem: expect.any(String) });
      }),
    );
  });

  it('30 s past the window’s end is a front end’s clock, not CMS’s', () => {
    expect(cmsClock([reading(WINDOW + WINDOW_MS + 30_000)], WINDOW)).toEqual({
      problem: expect.stringMatching(/lies outside the window its startTime names/),
    });
  });

  it('is no clock when any answer’s Date is unusable', () => {
    expect(cmsClock([reading(WINDOW + 61_000), { date: '0', localAt: LOCAL }], WINDOW)).toEqual({
      problem: 'CMS\'s Date header "0" is not an IMF-fixdate',
    });
    expect(cmsClock([{ date: undefined, localAt: LOCAL }], WINDOW)).toEqual({
      problem: 'CMS sent no Date header',
    });
  });

  it('has nothing to judge without an answer or a window', () => {
    expect(cmsClock([], WINDOW)).toBeUndefined();
    expect(cmsClock([reading(WINDOW)], undefined)).toBeUndefined();
  });

  it('says a window has ended only once the Date’s second is past its end', () => {
    const clock = (at: number) => ({ cmsAt: at + 500, localAt: LOCAL });
    expect(hasEnded(WINDOW, clock(WINDOW + WINDOW_MS - 1_000))).toBe(false);
    expect(hasEnded(WINDOW, clock(WINDOW + WINDOW_MS))).toBe(true);
    expect(hasEnded(WINDOW - WINDOW_MS, clock(WINDOW + 2_000))).toBe(true);
  });
});
