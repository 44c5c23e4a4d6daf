import { describe, expect, it } from 'vitest';
import { createLogger, describeError, type LogLevel } from '../lib/log.js';

function recorder(level?: LogLevel) {
  const lines: string[] = [];
  const log = createLogger(level, {
    write: (line) => lines.push(line),
    now: () => Date.UTC(2026, 10, 26, 8, 0, 0),
  });
  return { log, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('log lines', () => {
  it('are one JSON object with level, message, timestamp, service and the fields', () => {
    const { log, records } = recorder();
    log.info('collection run', { summary: { targets: 2 } });
    expect(records()).toEqual([
      {
        level: 'INFO',
        message: 'collection run',
        timestamp: '2026-11-26T08:00:00.000Z',
        service: 'cms-skill-metrics',
        summary: { targets: 2 },
      },
    ]);
  });

  it('keep their fixed keys whatever the fields say', () => {
    const { log, records } = recorder();
    log.error('CMS collection failed', { message: 'HTTP 503', level: 'DEBUG' });
    expect(records()[0]).toMatchObject({ level: 'ERROR', message: 'CMS collection failed' });
  });

  it('below the level are not written', () => {
    const { log, records } = recorder('WARN');
    log.debug('a');
    log.info('b');
    log.warn('c');
    log.error('d');
    expect(records().map((record) => record.message)).toEqual(['c', 'd']);
  });

  it('are all silenced at level SILENT', () => {
    const { log, records } = recorder('SILENT');
    log.error('d');
    expect(records()).toEqual([]);
  });

  it('are still written when a field cannot be serialised', () => {
    const { log, records } = recorder();
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    log.warn('odd', { cycle, big: 1n });
    expect(records()[0]).toMatchObject({ level: 'WARN', message: 'odd', fieldsDropped: 'not serialisable' });
  });
});

describe('describing an error', () => {
  it('keeps the type, code and message only', () => {
    const error = Object.assign(new Error('refused', { cause: new Error('inner secret') }), { code: 'X' });
    expect(describeError(error)).toEqual({ type: 'Error', code: 'X', message: 'refused' });
    expect(describeError('plain')).toEqual({ type: 'string', message: 'plain' });
  });
});
