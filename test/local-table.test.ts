import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Datum } from '../lib/metrics/metric-sink.js';
import { METRIC_UNITS, type MetricName } from '../lib/model.js';
import { redrawInPlace, renderTable, TableSink } from '../local/table.js';

const WINDOW_START = Date.UTC(2025, 4, 6, 10, 5);
const RUN_TIME = WINDOW_START + 137_000;

type Values = Partial<Record<MetricName, number>>;

function datums(dimensions: Datum['dimensions'], values: Values, timestamp = WINDOW_START): Datum[] {
  return Object.entries(values).map(([name, value]) => ({
    name: name as MetricName,
    unit: METRIC_UNITS[name as MetricName],
    value: value as number,
    timestamp,
    dimensions,
  }));
}

const skill = (skillId: number, values: Values, timestamp?: number) =>
  datums({ CcId: '1', Vdn: '7', SkillId: String(skillId) }, values, timestamp);
const total = (values: Values, vdn = '7') => datums({ CcId: '1', Vdn: vdn }, values);
const health = (values: Values, vdn = '7') => datums({ CcId: '1', Vdn: vdn }, values, RUN_TIME);

const BUSY_SKILL: Values = {
  CallsOffered: 12,
  CallsAnswered: 9,
  CallsAbandoned: 3,
  CallsEnded: 10,
  CallsAnsweredIn20s: 6,
  WrapUps: 8,
  WrapUpTime: 250,
  IvrTalkTime: 41,
  AbandonmentRate: 25,
  AnswerRate: 75,
  ServiceLevel20s: 50,
  AverageWrapUpTime: 31.25,
};

const QUIET_SKILL: Values = {
  CallsOffered: 0,
  CallsAnswered: 0,
  CallsAbandoned: 0,
  CallsEnded: 0,
  CallsAnsweredIn20s: 0,
  WrapUps: 0,
  WrapUpTime: 0,
  IvrTalkTime: 0,
};

const HEALTHY: Values = { CollectionSuccess: 1, CmsLatency: 182.4, SkillsMissing: 0, DataAge: 137.2 };

function rowOf(text: string, label: string): string[] {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${label} `));
  return line?.trim().split(/\s{2,}/) ?? [];
}

describe('renderTable', () => {
  it('renders a VDN as skill rows, the roll-up row and the health line', () => {
    const text = renderTable([
      ...skill(2, BUSY_SKILL),
      ...skill(35, QUIET_SKILL),
      ...total({ ...QUIET_SKILL, CallsOffered: 12, CallsAnswered: 9, AnswerRate: 75 }),
      ...health(HEALTHY),
    ]);

    expect(text).toBe(
      [
        'CcId 1 · VDN 7 · window start UTC',
        'SkillId    Start  Offered  Answered  Aband  Ended  In20s  WrapUps  WrapUpTime  IvrTime  Aband%  Answer%  SL20%  AvgWrap s  Waiting  Longest s',
        '-'.repeat(141),
        '2          10:05       12         9      3     10      6        8         250       41    25.0     75.0   50.0       31.3        –          –',
        '35         10:05        0         0      0      0      0        0           0        0       –        –      –          –        –          –',
        '-'.repeat(141),
        'VDN total  10:05       12         9      0      0      0        0           0        0       –     75.0      –          –        –          –',
        'Health: CollectionSuccess ok · CmsLatency 182 ms · SkillsMissing 0 · DataAge 137 s',
        '',
      ].join('\n'),
    );
  });

  it('shows the live queue on the newest row of its skill and of the VDN total', () => {
    const live = (values: Values, skillId?: number) =>
      datums(
        { CcId: '1', Vdn: '7', ...(skillId === undefined ? {} : { SkillId: String(skillId) }) },
        values,
        RUN_TIME,
      );
    const text = renderTable([
      ...skill(2, { CallsOffered: 40 }, WINDOW_START - 300_000),
      ...skill(2, BUSY_SKILL),
      ...total({ CallsOffered: 12 }),
      ...live({ CallsWaiting: 3, LongestWaitTime: 125 }, 2),
      ...live({ CallsWaiting: 1, LongestWaitTime: 5 }, 40),
      ...live({ CallsWaiting: 4, LongestWaitTime: 125 }),
    ]);
    const rows = text.split('\n').filter((line) => /^(2|40|VDN total) /.test(line));
    expect(
      rows.map((line) =>
        line
          .trim()
          .split(/\s{2,}/)
          .slice(-2),
      ),
    ).toEqual([
      ['–', '–'],
      ['3', '125'],
      ['1', '5'],
      ['4', '125'],
    ]);
    // Skill 40 had calls waiting and nothing in its window: a row of its own, without a window.
    expect(rows[2]?.split(/\s{2,}/).slice(0, 3)).toEqual(['40', '–', '–']);
  });

  it('shows an absent KPI as a dash, not as zero', () => {
    const cells = rowOf(renderTable(skill(4, { CallsOffered: 0, WrapUps: 0 })), '4');

    expect(cells.slice(-6, -2)).toEqual(['–', '–', '–', '–']);
    expect(cells[2]).toBe('0');
  });

  it('orders skills by number', () => {
    const text = renderTable([...skill(100, { CallsOffered: 1 }), ...skill(9, { CallsOffered: 2 })]);

    expect(text.indexOf('\n9 ')).toBeLessThan(text.indexOf('\n100 '));
  });

  it('gives each window of a skill its own row', () => {
    const text = renderTable([
      ...skill(3, { CallsOffered: 40 }, WINDOW_START),
      ...skill(3, { CallsOffered: 2 }, WINDOW_START + 300_000),
    ]);

    expect(text).toMatch(/\n3 +10:05 +40 .*\n3 +10:10 +2 /);
  });

  it('shows window start times in the requested time zone', () => {
    const text = renderTable(skill(1, { CallsOffered: 1 }), { timeZone: 'Asia/Shanghai' });

    expect(text).toContain('window start Asia/Shanghai');
    expect(rowOf(text, '1')[1]).toBe('18:05');
  });

  it('renders one table per VDN, in VDN order', () => {
    const text = renderTable([...skill(1, { CallsOffered: 1 }), ...health(HEALTHY, '3')]);

    expect(text.indexOf('CcId 1 · VDN 3')).toBeLessThan(text.indexOf('CcId 1 · VDN 7'));
    expect(text.match(/^Health:/gm)).toHaveLength(2);
  });

  it('says so when a VDN has health but no skill data', () => {
    const text = renderTable(
      health({ CollectionSuccess: 0, CmsLatency: 5_000, SkillsMissing: 20, DataAge: 900 }),
    );

    expect(text).toContain('(no skill data)');
    expect(text).toContain(
      'Health: CollectionSuccess FAILED · CmsLatency 5000 ms · SkillsMissing 20 · DataAge 900 s',
    );
  });

  it('shows missing health metrics as dashes', () => {
    expect(renderTable(skill(1, { CallsOffered: 1 }))).toContain(
      'Health: CollectionSuccess – · CmsLatency – · SkillsMissing – · DataAge –',
    );
  });

  it('shows the latest run when health metrics of several runs are given', () => {
    const text = renderTable([
      ...datums({ CcId: '1', Vdn: '7' }, { CollectionSuccess: 0 }, RUN_TIME + 60_000),
      ...health({ CollectionSuccess: 1 }),
    ]);

    expect(text).toContain('CollectionSuccess FAILED');
  });

  it('marks a closing read with the share of the window it covered, instead of run health it does not carry', () => {
    const text = renderTable([...total({ CallsOffered: 40 }), ...total({ WindowCoverage: 98.3333 })]);

    expect(text).toContain('CLOSING READ: window coverage 98.3 %');
    expect(text).not.toContain('CollectionSuccess');
  });

  it('says there is nothing to show for no datums', () => {
    expect(renderTable([])).toBe('No datapoints.\n');
  });
});

describe('TableSink', () => {
  it('writes the table once and counts every datum as published', async () => {
    const written: string[] = [];
    const input = [...skill(2, BUSY_SKILL), ...health(HEALTHY)];
    const report = await new TableSink({ write: (text) => void written.push(text) }).publish(input);

    expect(written).toEqual([renderTable(input)]);
    expect(report).toEqual({ published: input.length, calls: 1, failures: [] });
  });

  it('shows the last finished window’s final totals beside the current window', async () => {
    const written: string[] = [];
    const sink = new TableSink({ write: (text) => void written.push(text) });
    const previous = WINDOW_START - 300_000;
    const vdnTotal = (values: Values, timestamp: number) =>
      datums({ CcId: '1', Vdn: '7' }, values, timestamp);
    await sink.publish([...vdnTotal({ CallsOffered: 30 }, previous), ...health(HEALTHY)]);
    await sink.publish([
      ...vdnTotal({ CallsOffered: 41 }, previous),
      ...vdnTotal({ WindowCoverage: 98 }, previous),
    ]);
    await sink.publish([...vdnTotal({ CallsOffered: 3 }, WINDOW_START), ...health(HEALTHY)]);

    expect(written[0]).not.toContain('last window');
    expect(rowOf(written[2] ?? '', 'last window').slice(0, 3)).toEqual(['last window', '10:00', '41']);
    expect(rowOf(written[2] ?? '', 'VDN total').slice(0, 3)).toEqual(['VDN total', '10:05', '3']);
  });

  it('renders in the time zone it was given', async () => {
    const written: string[] = [];
    await new TableSink({ write: (text) => void written.push(text), timeZone: 'Asia/Shanghai' }).publish(
      skill(1, { CallsOffered: 1 }),
    );

    expect(written[0]).toContain('18:05');
  });

  it('reports a failed write instead of throwing', async () => {
    const report = await new TableSink({
      write: () => {
        throw new Error('EPIPE');
      },
    }).publish(skill(1, { CallsOffered: 1 }));

    expect(report).toEqual({ published: 0, calls: 0, failures: [{ datums: 1, error: 'Error: EPIPE' }] });
  });
});

describe('redrawing a screen in place', () => {
  it('homes the cursor, clears the rest of every line and below the last, and never clears the screen', () => {
    const frame = redrawInPlace('header\nrow 1\nrow 2\n');
    expect(frame).toBe('\x1b[Hheader\x1b[K\nrow 1\x1b[K\nrow 2\x1b[K\n\x1b[J');
    expect(frame).not.toContain('\x1b[2J');
  });

  it('keeps the text of every line, whatever it is', () => {
    const line = fc.string().filter((text) => !text.includes('\n') && !text.includes('\x1b'));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1 }), (lines) => {
        const frame = redrawInPlace(`${lines.join('\n')}\n`);
        const clearLine = '\x1b[K';
        const body = frame.slice('\x1b[H'.length, -`${clearLine}\n\x1b[J`.length);
        expect(body.split(`${clearLine}\n`)).toEqual(lines);
      }),
    );
  });
});
