import { describe, expect, it } from 'vitest';
import { ValidationError } from '../lib/errors.js';
import { widgetRequestOf } from '../lib/wallboard/widget.js';

describe('the custom-widget event', () => {
  it('asks for the documentation with describe: true', () => {
    expect(widgetRequestOf({ describe: true, widgetContext: {} })).toEqual({ describe: true });
  });

  it('takes the params from the top-level keys first, then from widgetContext.params', () => {
    const request = widgetRequestOf({
      vdn: 171,
      widgetContext: { params: { ccId: 2, vdn: 170, maxRows: 9 } },
    });
    expect(request).toMatchObject({ describe: false, params: { ccId: 2, vdn: 171, maxRows: 9 } });
  });

  it('reads whole-number strings as numbers, as dashboard JSON may carry them', () => {
    expect(widgetRequestOf({ ccId: '1', vdn: ' 170 ' })).toMatchObject({ params: { ccId: 1, vdn: 170 } });
  });

  it('needs the call center and the VDN, and leaves maxRows out when the widget does not set it', () => {
    expect(widgetRequestOf({ ccId: 1, vdn: 170 })).toEqual({
      describe: false,
      params: { ccId: 1, vdn: 170 },
      timeZone: { offsetMinutes: 0, label: 'UTC' },
    });
    expect(() => widgetRequestOf({ vdn: 170 })).toThrow(/^ccId: is required in the widget params/);
    expect(() => widgetRequestOf({ ccId: 1 })).toThrow(/^vdn: is required in the widget params/);
  });

  it('names a malformed parameter', () => {
    expect(() => widgetRequestOf({ ccId: 1, vdn: 170, maxRows: 0 })).toThrow(ValidationError);
    expect(() => widgetRequestOf({ ccId: 1, vdn: 'x' })).toThrow(/^vdn: must be an integer/);
    expect(() => widgetRequestOf({ ccId: 1, vdn: 170, maxRows: 501 })).toThrow(
      /^maxRows: must be between 1 and 500/,
    );
  });

  it('takes the viewer’s time zone from offsetISO, west of UTC as east', () => {
    const zone = (offsetISO: string, offsetInMinutes: number) =>
      widgetRequestOf({
        ccId: 1,
        vdn: 170,
        widgetContext: { timezone: { label: 'Local', offsetISO, offsetInMinutes } },
      });
    expect(zone('-05:00', 300)).toMatchObject({ timeZone: { offsetMinutes: -300, label: 'Local' } });
    expect(zone('+05:30', 0)).toMatchObject({ timeZone: { offsetMinutes: 330, label: 'Local' } });
  });

  it('falls back to offsetInMinutes, and to UTC for anything that is not a time zone', () => {
    const zone = (timezone: unknown) => widgetRequestOf({ ccId: 1, vdn: 170, widgetContext: { timezone } });
    expect(zone({ label: 'CET', offsetInMinutes: 60 })).toMatchObject({ timeZone: { offsetMinutes: 60 } });
    expect(zone({ label: 'odd', offsetInMinutes: 100_000 })).toMatchObject({
      timeZone: { offsetMinutes: 0, label: 'UTC' },
    });
    expect(zone('UTC+1')).toMatchObject({ timeZone: { offsetMinutes: 0, label: 'UTC' } });
  });
});
