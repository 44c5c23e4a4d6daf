import type { StatsReport } from '../api/report.js';
import type { QueueView } from '../cms/queue-view.js';
import { COUNTERS, KPIS } from '../model.js';

// `cms-skill-metrics query` without --json: the report view (the query API's answer, lib/api/report.ts) as a
// terminal table, a row per skill (its live queue, agents as available/logged on, then its window) and the VDN's
// roll-up below, times in UTC so that output does not depend on the
// machine.

const ABSENT = '–';

/** Short headers, in the order of the metrics contract: the counters, then the KPIs. */
const HEADERS: Readonly<Record<string, string>> = {
  CallsOffered: 'Offered',
  CallsAnswered: 'Answered',
  CallsAbandoned: 'Aband',
  CallsEnded: 'Ended',
  CallsAnsweredIn20s: 'In20s',
  WrapUps: 'WrapUps',
  WrapUpTime: 'WrapUpTime',
  IvrTalkTime: 'IvrTime',
  AbandonmentRate: 'Aband%',
  AnswerRate: 'Answer%',
  ServiceLevel20s: 'SL20%',
  AverageWrapUpTime: 'AvgWrap s',
};

interface Row {
  readonly label: string;
  readonly windowStart: string | null;
  readonly counters: Readonly<Record<string, number>>;
  readonly kpis: Readonly<Record<string, number | null>>;
  /** The live queue: a skill's four figures, a VDN's two (agents do not add up across skills). */
  readonly queue: Partial<QueueView> | null;
}

/** The live queue's columns, after the skill and before the window's counters: what a supervisor reads first. */
const QUEUE_HEADERS = ['Waiting', 'Longest s', 'Agents'];

function queueCells(queue: Partial<QueueView> | null): string[] {
  if (queue === null) return QUEUE_HEADERS.map(() => ABSENT);
  const agents =
    queue.agentsAvailable === undefined || queue.agentsLoggedOn === undefined
      ? ABSENT
      : `${queue.agentsAvailable}/${queue.agentsLoggedOn}`;
  return [String(queue.callsWaiting ?? ABSENT), String(queue.longestWaitSeconds ?? ABSENT), agents];
}

const hhmm = (iso: string | null) => (iso === null ? ABSENT : iso.slice(11, 16));

function cells(row: Row): string[] {
  return [
    row.label,
    ...queueCells(row.queue),
    hhmm(row.windowStart),
    ...COUNTERS.map(({ name }) => String(row.counters[name] ?? ABSENT)),
    ...KPIS.map(({ name }) => {
      const value = row.kpis[name];
      return value === null || value === undefined ? ABSENT : value.toFixed(1);
    }),
  ];
}

/** One VDN's report: a row per skill CMS returned, then the VDN's roll-up. */
export function renderReport(report: StatsReport): string {
  const header = [
    'SkillId',
    ...QUEUE_HEADERS,
    'Start',
    ...[...COUNTERS, ...KPIS].map(({ name }) => HEADERS[name] ?? name),
  ];
  const body = report.skills.map((skill) => cells({ ...skill, label: String(skill.skillId) }));
  const total = cells({ ...report.rollup, label: 'VDN total' });
  const { line, rule } = columns([header, ...body, total]);
  const lines = [`CcId ${report.ccId} · VDN ${report.vdn} · window start UTC`, line(header), rule];
  if (body.length === 0) lines.push('(no skill data)');
  lines.push(...body.map(line), rule, line(total));
  return `${lines.join('\n')}\n`;
}

/**
 * Rows set in columns as wide as their widest cell: the first left-aligned, the others right-aligned (numbers),
 * and a rule as wide as a full row. The local terminal table sets its rows the same way.
 */
export function columns(rows: readonly (readonly string[])[]): {
  readonly line: (row: readonly string[]) => string;
  readonly rule: string;
} {
  const widths = (rows[0] ?? []).map((_, index) => Math.max(...rows.map((row) => (row[index] ?? '').length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, index) =>
        index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return { line, rule: '-'.repeat(widths.reduce((sum, width) => sum + width + 2, -2)) };
}
