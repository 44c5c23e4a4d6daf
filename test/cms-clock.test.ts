import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clockReading } from '../lib/cms/clock.js';

describe('CMS clock reading', () => {
  it('takes the middle of the second a Date header names', () => {
    const localAt = Date.UTC(2026, 11, 1, 9, 29, 50, 123);
    expect(clockReading('Tue, 01 Dec 2026 09:30:00 GMT', localAt)).toEqual({
      cmsAt: Date.UTC(2026, 11, 1, 9, 30, 0, 500),
      localAt,
    });
  });

  it('stands in our own clock when the header is missing or unreadable', () => {
    fc.assert(
      fc.property(fc.option(fc.string(), { nil: undefined }), fc.nat(), (header, localAt) => {
        fc.pre(header === undefined || Number.isNaN(Date.parse(header)));
        expect(clockReading(header, localAt)).toEqual({ cmsAt: localAt, localAt });
      }),
    );
  });
});
