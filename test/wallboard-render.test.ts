import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StatsAnswer } from '../lib/api/stats.js';
import { ConfigError } from '../lib/errors.js';
import { ZERO_COUNTERS } from '../lib/kpi.js';
import type { Counters } from '../lib/model.js';
import { escapeHtml, html } from '../lib/wallboard/html.js';
import {
  type CollectorHealth,
  type HealthReading,
  renderWallboard,
  type WallboardInput,
} from '../lib/wallboard/render.js';
import { parseThresholds } from '../lib/wallboard/thresholds.js';
import type { TodayReading } from '../lib/wallboard/today.js';
import { liveQueueMissing, liveQueueRead } from './support/live-queue.js';
import { reportOf } from './support/vdn-read.js';

const NOW = Date.parse('2026-11-26T10:03:30Z');
const WINDOW = Date.parse('2026-11-26T10:00:00Z');

function counters(offered: number, answered: number, abandoned: number, in20s: number): Counters {
  return {
    ...ZERO_COUNTERS,
    CallsOffered: offered,
    CallsAnswered: answered,
    CallsAbandoned: abandoned,
    CallsAnsweredIn20s: in20s,
    CallsEnded: answered,
    WrapUps: answered,
    WrapUpTime: answered * 20,
  };
}

/** A skill's live queue: calls waiting, longest wait (s), agents logged on, agents available. */
type Queue = readonly [number, number, number, number];

function answerOf(
  skills: { id: number; counters: Counters; queue?: Queue }[],
  missing: number[] = [],
  liveQueue = skills.some((skill) => skill.queue !== undefined),
): StatsAnswer {
  const queues = skills.flatMap(({ id, queue }) => (queue === undefined ? [] : [[id, ...queue] as const]));
  const report = reportOf(
    {
      ccId: 1,
      vdn: 170,
      skills: skills.map((skill) => ({ skillId: skill.id, windowStart: WINDOW, counters: skill.counters })),
      missingSkillIds: missing,
    },
    liveQueue ? liveQueueRead(NOW, queues) : liveQueueMissing(),
  );
  return { ...report, fetchedAt: new Date(NOW).toISOString() };
}

const HEALTH: CollectorHealth = {
  at: NOW - 20_000,
  collectionSuccess: 1,
  cmsLatencyMs: 84,
  skillsMissing: 0,
  dataAgeSeconds: 190,
};
const HEALTHY: HealthReading = { kind: 'known', health: HEALTH };
/** 400 calls since midnight: 40 abandoned (10 %), 300 answered within 20 s (75 %). */
const TODAY: TodayReading = {
  kind: 'known',
  since: NOW - 8 * 3_600_000,
  counters: { CallsOffered: 400, CallsAnswered: 350, CallsAbandoned: 40, CallsAnsweredIn20s: 300 },
};

function input(overrides: Partial<WallboardInput> = {}): WallboardInput {
  return {
    ccId: 1,
    vdn: 170,
    outcome: { kind: 'stats', answer: answerOf([{ id: 1, counters: counters(20, 19, 1, 18) }]) },
    health: HEALTHY,
    today: { reading: TODAY, timeZone: 'Europe/Madrid' },
    thresholds: parseThresholds(undefined),
    maxRows: 50,
    now: NOW,
    timeZone: { offsetMinutes: 0, label: 'UTC' },
    ...overrides,
  };
}

/** The page for these skills, with the other inputs as `input` has them unless overridden. */
function pageOf(
  skills: { id: number; counters: Counters; queue?: Queue }[],
  overrides: Partial<WallboardInput> = {},
): string {
  return renderWallboard(input({ ...overrides, outcome: { kind: 'stats', answer: answerOf(skills) } }));
}

/** The data-status of each skill row, in page order. */
function rowOrder(page: string): { skill: number; status: string }[] {
  return [...page.matchAll(/<tr data-skill="(\d+)" data-status="(\w+)">/g)].map((match) => ({
    skill: Number(match[1]),
    status: match[2] ?? '',
  }));
}

function cellClass(page: string, skill: number, cell: string): string | undefined {
  const row = new RegExp(`<tr data-skill="${skill}"[^>]*>(.*?)</tr>`).exec(page)?.[1] ?? '';
  return new RegExp(`<td class="([^"]*)" data-cell="${cell}">`).exec(row)?.[1];
}

/** A cell's class and text in the row of `skill`, or of the VDN total. */
function cellOf(page: string, skill: number | 'total', cell: string) {
  const row =
    skill === 'total'
      ? (/<tr class="total"[^>]*>(.*?)<\/tr>/.exec(page)?.[1] ?? '')
      : (new RegExp(`<tr data-skill="${skill}"[^>]*>(.*?)</tr>`).exec(page)?.[1] ?? '');
  const match = new RegExp(`<td class="([^"]*)" data-cell="${cell}">([^<]*)</td>`).exec(row);
  return { level: match?.[1] ?? '', text: match?.[2] };
}

describe('the wallboard renderer', () => {
  it('escapes every character with a meaning in HTML, for any text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const escaped = escapeHtml(text);
        expect(escaped).not.toMatch(/[<>"']/);
        expect(escaped.replace(/&(lt|gt|quot|#39|amp);/g, '')).not.toContain('&');
        const unescaped = escaped
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'")
          .replace(/&amp;/g, '&');
        expect(unescaped).toBe(text);
      }),
    );
  });

  it('escapes interpolated values but keeps fragments built by the html tag', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p title="${'"x"'}">${inner}${['<', html`<br>`]}</p>`.text).toBe(
      '<p title="&quot;x&quot;"><b>&lt;i&gt;</b>&lt;<br></p>',
    );
  });

  it('shows a CMS failure as a panel with the text escaped, and no skill table', () => {
    const page = renderWallboard(
      input({
        outcome: {
          kind: 'failed',
          code: 'CMS_RESULT_ERROR',
          message: 'CMS result code 0200001: <script>alert(1)</script><img src=x onerror=alert(2)>',
        },
      }),
    );
    expect(page).toContain('data-state="failed"');
    expect(page).not.toContain('data-skill=');
    expect(page).not.toContain('data-total=');
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<img');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('escapes the time-zone label and marks a skill with inconsistent counters', () => {
    const answer = answerOf([{ id: 3, counters: counters(5, 7, 0, 5) }]);
    expect(answer.skills[0]?.warnings?.length).toBeGreaterThan(0);
    const page = renderWallboard(
      input({ outcome: { kind: 'stats', answer }, timeZone: { offsetMinutes: 60, label: '<b>CET</b>' } }),
    );
    expect(page).toContain('Window (&lt;b&gt;CET&lt;/b&gt;)');
    expect(page).toContain('<span title="CallsAnswered 7 exceeds CallsOffered 5: AnswerRate withheld');
  });

  it('colours abandonment above the red threshold red and above amber amber', () => {
    const page = pageOf([
      { id: 1, counters: counters(20, 17, 3, 17) },
      { id: 2, counters: counters(20, 18, 2, 18) },
      { id: 3, counters: counters(20, 20, 0, 20) },
    ]);
    expect(cellClass(page, 1, 'abandonment')).toBe('lvl-red');
    expect(cellClass(page, 2, 'abandonment')).toBe('lvl-amber');
    expect(cellClass(page, 3, 'abandonment')).toBe('lvl-green');
  });

  it('colours a service level below amber amber and below red red', () => {
    const page = pageOf([
      { id: 1, counters: counters(20, 20, 0, 15) },
      { id: 2, counters: counters(20, 20, 0, 13) },
    ]);
    expect(cellClass(page, 1, 'service-level')).toBe('lvl-amber');
    expect(cellClass(page, 2, 'service-level')).toBe('lvl-red');
  });

  it('does not judge the rates of a window with fewer calls than the minimum', () => {
    const page = pageOf([{ id: 1, counters: counters(2, 1, 1, 0) }]);
    expect(cellClass(page, 1, 'abandonment')).toBe('');
    expect(rowOrder(page)).toEqual([{ skill: 1, status: 'low' }]);
  });

  it('applies a per-skill override on top of its VDN defaults, and to that skill only', () => {
    const thresholds = parseThresholds(
      JSON.stringify([
        { ccId: 1, vdn: 170, abandonmentRate: { amber: 20, red: 30 } },
        { ccId: 1, vdn: 170, skillIds: '2', serviceLevel: { amber: 99, red: 95 } },
      ]),
    );
    const page = pageOf(
      [
        { id: 1, counters: counters(20, 17, 3, 17) },
        { id: 2, counters: counters(20, 17, 3, 17) },
      ],
      { thresholds },
    );
    expect(cellClass(page, 1, 'abandonment')).toBe('lvl-green');
    expect(cellClass(page, 1, 'service-level')).toBe('lvl-green');
    expect(cellClass(page, 2, 'abandonment')).toBe('lvl-green');
    expect(cellClass(page, 2, 'service-level')).toBe('lvl-red');
  });

  it('lists skills worst first: red, amber, green, few calls, idle; ties by abandonment rate', () => {
    const page = pageOf([
      { id: 1, counters: ZERO_COUNTERS },
      { id: 2, counters: counters(20, 20, 0, 20) },
      { id: 3, counters: counters(2, 2, 0, 2) },
      { id: 4, counters: counters(20, 17, 3, 17) },
      { id: 5, counters: counters(20, 18, 2, 18) },
      { id: 6, counters: counters(20, 14, 6, 14) },
    ]);
    expect(rowOrder(page)).toEqual([
      { skill: 6, status: 'red' },
      { skill: 4, status: 'red' },
      { skill: 5, status: 'amber' },
      { skill: 2, status: 'green' },
      { skill: 3, status: 'low' },
      { skill: 1, status: 'idle' },
    ]);
  });

  it('lists every skill exactly once and never a better row above a worse one, whatever the counters', () => {
    const rank: Record<string, number> = { red: 4, amber: 3, green: 2, low: 1, idle: 0 };
    const skillCounters = fc
      .tuple(fc.nat(40), fc.nat(40), fc.nat(40))
      .map(([offered, abandoned, in20s]) =>
        counters(
          offered,
          offered - Math.min(abandoned, offered),
          Math.min(abandoned, offered),
          Math.min(in20s, offered - Math.min(abandoned, offered)),
        ),
      );
    fc.assert(
      fc.property(fc.array(skillCounters, { minLength: 1, maxLength: 30 }), (list) => {
        const skills = list.map((values, index) => ({ id: index + 1, counters: values }));
        const page = pageOf(skills);
        const order = rowOrder(page);
        expect(order.map((row) => row.skill).sort((a, b) => a - b)).toEqual(skills.map((skill) => skill.id));
        const ranks = order.map((row) => rank[row.status] ?? -1);
        expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
      }),
    );
  });

  describe('the live queue', () => {
    const busy = counters(20, 20, 0, 20);

    it('leads each row with calls waiting, the longest wait in minutes and agents available / logged on', () => {
      const page = pageOf([{ id: 1, counters: busy, queue: [3, 185, 6, 0] }]);
      expect(page).toContain(
        '<th>Waiting</th><th>Longest wait</th><th>Agents avail. / on</th><th>Offered</th>',
      );
      expect(cellOf(page, 1, 'waiting').text).toBe('3');
      expect(cellOf(page, 1, 'longest-wait').text).toBe('3:05');
      expect(cellOf(page, 1, 'agents').text).toBe('0 / 6');
    });

    it('colours the longest wait amber above 60 s and red above 120 s by default', () => {
      const page = pageOf([
        { id: 1, counters: busy, queue: [1, 60, 4, 0] },
        { id: 2, counters: busy, queue: [1, 61, 4, 0] },
        { id: 3, counters: busy, queue: [1, 121, 4, 0] },
      ]);
      expect([1, 2, 3].map((skill) => cellOf(page, skill, 'longest-wait').level)).toEqual([
        'lvl-green',
        'lvl-amber',
        'lvl-red',
      ]);
      expect(rowOrder(page)[0]).toEqual({ skill: 3, status: 'red' });
    });

    it('takes the longest-wait thresholds of WALLBOARD_THRESHOLDS, per VDN and per skill', () => {
      const thresholds = parseThresholds(
        JSON.stringify([
          { ccId: 1, vdn: 170, longestWait: { amber: 20, red: 40 } },
          { ccId: 1, vdn: 170, skillIds: '2', longestWait: { amber: 300, red: 600 } },
        ]),
      );
      const page = pageOf(
        [
          { id: 1, counters: busy, queue: [1, 45, 4, 0] },
          { id: 2, counters: busy, queue: [1, 45, 4, 0] },
        ],
        { thresholds },
      );
      expect(cellOf(page, 1, 'longest-wait').level).toBe('lvl-red');
      expect(cellOf(page, 2, 'longest-wait').level).toBe('lvl-green');
      expect(cellOf(page, 'total', 'longest-wait').level).toBe('lvl-red');
    });

    it('colours calls waiting amber with no agent available and red with no agent logged on', () => {
      const page = pageOf([
        { id: 1, counters: busy, queue: [2, 10, 5, 1] },
        { id: 2, counters: busy, queue: [2, 10, 5, 0] },
        { id: 3, counters: busy, queue: [2, 10, 0, 0] },
        { id: 4, counters: busy, queue: [0, 0, 0, 0] },
      ]);
      expect([1, 2, 3, 4].map((skill) => cellOf(page, skill, 'waiting').level)).toEqual([
        'lvl-green',
        'lvl-amber',
        'lvl-red',
        '',
      ]);
    });

    it('judges a skill with calls waiting even with no call yet in its window, and leaves an empty queue idle', () => {
      const page = pageOf([
        { id: 1, counters: ZERO_COUNTERS, queue: [1, 130, 2, 0] },
        { id: 2, counters: ZERO_COUNTERS, queue: [0, 0, 2, 2] },
      ]);
      expect(rowOrder(page)).toEqual([
        { skill: 1, status: 'red' },
        { skill: 2, status: 'idle' },
      ]);
    });

    it('puts the longest wait first among rows of the same status', () => {
      const page = pageOf([
        { id: 1, counters: counters(20, 17, 3, 17), queue: [0, 0, 4, 2] },
        { id: 2, counters: counters(20, 18, 2, 18), queue: [4, 150, 4, 0] },
        { id: 3, counters: counters(20, 17, 3, 17), queue: [1, 30, 4, 0] },
      ]);
      expect(rowOrder(page).map((row) => row.skill)).toEqual([2, 3, 1]);
    });

    it('shows the VDN total’s calls waiting (sum) and longest wait (maximum), without agents', () => {
      const page = pageOf([
        { id: 1, counters: busy, queue: [2, 50, 4, 0] },
        { id: 2, counters: busy, queue: [5, 130, 6, 0] },
      ]);
      expect(cellOf(page, 'total', 'waiting')).toEqual({ level: '', text: '7' });
      expect(cellOf(page, 'total', 'longest-wait')).toEqual({ level: 'lvl-red', text: '2:10' });
      expect(cellOf(page, 'total', 'agents').text).toBe('–');
      expect(page).toContain('data-total="vdn" data-status="red"');
    });

    it('shows dashes, judges nothing live and keeps the counters when CMS lacks the live queue', () => {
      const page = pageOf([{ id: 1, counters: counters(20, 17, 3, 17) }]);
      for (const cell of ['waiting', 'longest-wait', 'agents']) {
        expect(cellOf(page, 1, cell)).toEqual({ level: '', text: '–' });
        expect(cellOf(page, 'total', cell)).toEqual({ level: '', text: '–' });
      }
      expect(rowOrder(page)).toEqual([{ skill: 1, status: 'red' }]);
    });
  });

  it('shows the VDN total from the roll-up, judged with the VDN thresholds', () => {
    const page = pageOf([
      { id: 1, counters: counters(10, 8, 2, 8) },
      { id: 2, counters: counters(30, 30, 0, 30) },
    ]);
    const total = /<tr class="total" data-total="vdn" data-status="(\w+)">(.*?)<\/tr>/.exec(page);
    expect(total?.[1]).toBe('green');
    expect(total?.[2]).toContain('<td>40</td><td>38</td><td>2</td>');
    expect(total?.[2]).toContain('>5.0<');
  });

  it('keeps a large VDN readable: caps the rows and says how many are hidden and how they fare', () => {
    const skills = Array.from({ length: 5 }, (_, index) => ({
      id: index + 1,
      counters: index === 0 ? counters(20, 17, 3, 17) : counters(20, 20, 0, 20),
    }));
    const page = pageOf(skills, { maxRows: 2 });
    expect(rowOrder(page).map((row) => row.skill)).toEqual([1, 2]);
    expect(page).toContain('data-hidden="3"');
    expect(page).toContain('Showing the 2 worst of 5 skills; 3 more not shown (3 green)');
  });

  it('renders an idle VDN as idle rows and a zero total, not as a failure', () => {
    const page = pageOf([
      { id: 1, counters: ZERO_COUNTERS },
      { id: 2, counters: ZERO_COUNTERS },
    ]);
    expect(rowOrder(page).map((row) => row.status)).toEqual(['idle', 'idle']);
    expect(page).toContain('data-total="vdn" data-status="idle"');
    expect(page).not.toContain('data-state="failed"');
  });

  it('says so when CMS returned none of the skills, and names the missing ones', () => {
    const page = renderWallboard(input({ outcome: { kind: 'stats', answer: answerOf([], [7, 8]) } }));
    expect(page).toContain('CMS returned none of the configured skills.');
    expect(page).toContain('Not returned by CMS: skills 7, 8.');
  });

  it('shows window start in the viewer’s time zone and the data age', () => {
    const page = renderWallboard(input({ timeZone: { offsetMinutes: 90, label: 'UTC+01:30' } }));
    expect(page).toMatch(/<td>11:30<\/td><td class="" data-cell="age">3 min<\/td>/);
  });

  it('shows the collector’s health: collecting, failing, silent or unavailable', () => {
    expect(renderWallboard(input())).toContain('data-health="green"');
    const failing = renderWallboard(
      input({
        health: { kind: 'known', health: { ...HEALTH, collectionSuccess: 0 } },
      }),
    );
    expect(failing).toContain('data-health="red"');
    expect(failing).toContain('FAILING');
    expect(renderWallboard(input({ health: { kind: 'silent', sinceMinutes: 15 } }))).toContain(
      'no collection of this VDN in the last 15 minutes',
    );
    expect(
      renderWallboard(input({ health: { kind: 'unavailable', reason: 'CloudWatch <refused>' } })),
    ).toContain('Collector health: not available (CloudWatch &lt;refused&gt;)');
  });

  it('shows the VDN’s day so far since local midnight: its calls, abandonment rate and service level', () => {
    const page = renderWallboard(input());
    expect(page).toContain('<th>Today since 00:00 Europe/Madrid</th>');
    // Default VDN thresholds: abandonment 10 % is amber (above 5), service level 75 % amber (below 80).
    expect(page).toMatch(
      /<tr data-today="amber"><td>VDN 170<\/td>.*<td>400<\/td><td>350<\/td><td>40<\/td><td>300<\/td><td class="lvl-amber" data-cell="abandonment">10\.0<\/td><td class="lvl-amber" data-cell="service-level">75\.0<\/td>/,
    );
  });

  it('shows the day so far even when CMS cannot be read, and says so when CloudWatch cannot', () => {
    const failed = renderWallboard(
      input({ outcome: { kind: 'failed', code: 'CMS_UNAVAILABLE', message: 'CMS did not answer.' } }),
    );
    expect(failed).toContain('data-state="failed"');
    expect(failed).toContain('<th>Today since 00:00 Europe/Madrid</th>');
    const unavailable = renderWallboard(
      input({ today: { reading: { kind: 'unavailable', reason: 'CloudWatch <refused>' }, timeZone: 'UTC' } }),
    );
    expect(unavailable).toContain('Today since 00:00 UTC: not available (CloudWatch &lt;refused&gt;).');
  });

  it('a day without calls shows no rate, never 0 %', () => {
    const quiet: TodayReading = {
      kind: 'known',
      since: NOW - 3_600_000,
      counters: { CallsOffered: 0, CallsAnswered: 0, CallsAbandoned: 0, CallsAnsweredIn20s: 0 },
    };
    const page = renderWallboard(input({ today: { reading: quiet, timeZone: 'UTC' } }));
    expect(page).toMatch(/<tr data-today="idle">.*data-cell="abandonment">–<\/td>/);
  });
});

describe('wallboard thresholds configuration', () => {
  it('uses the built-in defaults when unset', () => {
    expect(parseThresholds('').forSkill(1, 170, 3).abandonmentRate).toEqual({ amber: 5, red: 10 });
  });

  it('names the field of a malformed entry', () => {
    expect(() => parseThresholds('[{"ccId":1,"vdn":170,"serviceLevel":{"amber":"x","red":70}}]')).toThrow(
      /WALLBOARD_THRESHOLDS: \[0\]\.serviceLevel\.amber must be a number/,
    );
  });

  it('reads longest-wait thresholds in seconds, 60 and 120 by default', () => {
    expect(parseThresholds(undefined).forVdn(1, 170).longestWait).toEqual({ amber: 60, red: 120 });
    const book = parseThresholds('[{"ccId":1,"vdn":170,"skillIds":"4","longestWait":{"amber":30,"red":90}}]');
    expect(book.forSkill(1, 170, 4).longestWait).toEqual({ amber: 30, red: 90 });
    expect(book.forSkill(1, 170, 5).longestWait).toEqual({ amber: 60, red: 120 });
    expect(() => parseThresholds('[{"ccId":1,"vdn":170,"longestWait":{"amber":200,"red":100}}]')).toThrow(
      /longestWait amber must not be above red/,
    );
  });

  it('refuses an amber threshold beyond the red one', () => {
    expect(() => parseThresholds('[{"ccId":1,"vdn":170,"abandonmentRate":{"amber":20,"red":10}}]')).toThrow(
      ConfigError,
    );
  });

  it('refuses a malformed skill list', () => {
    expect(() => parseThresholds('[{"ccId":1,"vdn":170,"skillIds":"3-1","minCalls":2}]')).toThrow(
      /\[0\]\.skillIds the range "3-1" runs backwards/,
    );
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseThresholds('{oops')).toThrow(/WALLBOARD_THRESHOLDS: is not valid JSON/);
  });

  it.each([
    ['1', 'WALLBOARD_THRESHOLDS: must be a list of threshold entries'],
    [
      '[1]',
      'WALLBOARD_THRESHOLDS: [0] must be an object such as {"ccId":1,"vdn":170,"abandonmentRate":{"amber":5,"red":10}}',
    ],
    ['[{"ccId":1}]', 'WALLBOARD_THRESHOLDS: [0].vdn is required'],
    [
      '[{"ccId":1,"vdn":170,"abandonRate":{"amber":5,"red":10}}]',
      'WALLBOARD_THRESHOLDS: [0].abandonRate is not a known field (expected ccId, vdn, skillIds, ' +
        'abandonmentRate, serviceLevel, averageWrapUp, longestWait, minCalls)',
    ],
    [
      '[{"ccId":1,"vdn":170,"abandonmentRate":5}]',
      'WALLBOARD_THRESHOLDS: [0].abandonmentRate must be an object such as {"amber":5,"red":10}',
    ],
    [
      '[{"ccId":1,"vdn":170,"serviceLevel":{"amber":80}}]',
      'WALLBOARD_THRESHOLDS: [0].serviceLevel.red is required',
    ],
    [
      '[{"ccId":1,"vdn":170,"averageWrapUp":{"amber":60,"red":120,"max":300}}]',
      'WALLBOARD_THRESHOLDS: [0].averageWrapUp.max is not a known field (expected amber, red)',
    ],
  ])('says in plain words what is wrong with %s, naming the entry and field', (text, message) => {
    expect(() => parseThresholds(text)).toThrow(new ConfigError('WALLBOARD_THRESHOLDS', message.slice(22)));
  });

  it("never shows the schema library's own wording, whatever the entries", () => {
    const field = fc.constantFrom(
      'ccId',
      'vdn',
      'skillIds',
      'abandonmentRate',
      'serviceLevel',
      'minCalls',
      'x',
    );
    const value = fc.oneof(fc.jsonValue(), fc.record({ amber: fc.jsonValue(), red: fc.jsonValue() }));
    fc.assert(
      fc.property(fc.array(fc.dictionary(field, value), { maxLength: 3 }), (entries) => {
        try {
          parseThresholds(JSON.stringify(entries));
        } catch (error) {
          expect((error as Error).message).not.toMatch(/Invalid|Expected|received/);
        }
      }),
    );
  });
});
