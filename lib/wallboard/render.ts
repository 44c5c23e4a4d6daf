import { kpiView } from '../api/report.js';
import type { StatsAnswer } from '../api/stats.js';
import type { QueueRollup, QueueView } from '../cms/queue-view.js';
import { computeKpis, ZERO_COUNTERS } from '../kpi.js';
import type { CounterName, KpiName } from '../model.js';
import { Html, html } from './html.js';
import { type Level, lowerLevel, type ThresholdBook, type Thresholds, upperLevel } from './thresholds.js';
import type { TodayReading } from './today.js';

// The wallboard of one VDN as HTML and CSS only (CloudWatch strips JavaScript from custom widgets): a row per
// skill, worst first, with red/amber/green cells, the VDN total, the collector's health, and a clear panel
// instead of the table when CMS could not be read. Pure: the same input always renders the same page.
//
// The live queue leads each row: calls waiting (amber while no agent is available to take them, red while no
// agent is even logged on), the longest wait (judged against its thresholds) and the agents available / logged
// on. These are judged only while calls wait: an empty queue says nothing good or bad about a skill.

/** What the collector last published about a VDN's collection (its health metrics). */
export interface CollectorHealth {
  /** When the newest health datapoint was taken, epoch ms. */
  readonly at: number;
  readonly collectionSuccess: number | undefined;
  readonly cmsLatencyMs: number | undefined;
  readonly skillsMissing: number | undefined;
  readonly dataAgeSeconds: number | undefined;
}

export type HealthReading =
  | { readonly kind: 'known'; readonly health: CollectorHealth }
  /** No health datapoint in the period looked at: the collector did not run for this VDN. */
  | { readonly kind: 'silent'; readonly sinceMinutes: number }
  | { readonly kind: 'unavailable'; readonly reason: string };

export type StatsOutcome =
  | { readonly kind: 'stats'; readonly answer: StatsAnswer }
  /** `code` and `message` are the public ones of lib/api/errors.ts: safe for any viewer. */
  | {
      readonly kind: 'failed';
      readonly code: string;
      readonly message: string;
      /** The invocation's id, which its log lines carry: what an operator looks the failure up by. */
      readonly requestId?: string | undefined;
    };

export interface WallboardInput {
  readonly ccId: number;
  readonly vdn: number;
  readonly outcome: StatsOutcome;
  readonly health: HealthReading;
  /** The VDN's day so far, and the zone whose midnight began it. */
  readonly today: { readonly reading: TodayReading; readonly timeZone: string };
  readonly thresholds: ThresholdBook;
  /** Skills shown at most; the others are counted below the table. */
  readonly maxRows: number;
  readonly now: number;
  /** The viewer's time zone, as CloudWatch passes it (offset from UTC and a label). */
  readonly timeZone: { readonly offsetMinutes: number; readonly label: string };
}

/** Data older than two windows means CMS keeps serving an old window (the stack's stale-data default). */
const STALE_AFTER_SECONDS = 600;

/** How a row is judged: its worst cell, or no judgement at all. */
type RowStatus = Level | 'low' | 'idle';

const STATUS_RANK: Readonly<Record<RowStatus, number>> = { red: 4, amber: 3, green: 2, low: 1, idle: 0 };
const STATUS_TEXT: Readonly<Record<RowStatus, string>> = {
  red: 'Red',
  amber: 'Amber',
  green: 'Green',
  low: 'Few calls',
  idle: 'Idle',
};

/** A row's live queue: a skill's four figures, or the VDN's two (agents do not add up across skills). */
type RowQueue = QueueRollup & Partial<Pick<QueueView, 'agentsLoggedOn' | 'agentsAvailable'>>;

interface RowFigures {
  readonly counters: Readonly<Record<CounterName, number>>;
  readonly kpis: Readonly<Record<KpiName, number | null>>;
  /** Null when CMS lacks the live queue or it could not be read. */
  readonly queue: RowQueue | null;
}

export interface JudgedRow {
  readonly abandonment: Level | undefined;
  readonly serviceLevel: Level | undefined;
  readonly wrapUp: Level | undefined;
  readonly waiting: Level | undefined;
  readonly longestWait: Level | undefined;
  readonly status: RowStatus;
}

/** Calls waiting, for a skill: amber with no agent available to take them, red with no agent logged on at all. */
function waitingLevel(queue: RowQueue): Level | undefined {
  if (queue.callsWaiting === 0 || queue.agentsAvailable === undefined) return undefined;
  if (queue.agentsLoggedOn === 0) return 'red';
  return queue.agentsAvailable === 0 ? 'amber' : 'green';
}

/** The colour of each judged cell and of the row, under one set of thresholds. */
export function judge(row: RowFigures, thresholds: Thresholds): JudgedRow {
  const offered = row.counters.CallsOffered;
  const rated = offered >= thresholds.minCalls;
  const { AbandonmentRate, ServiceLevel20s, AverageWrapUpTime } = row.kpis;
  const abandonment =
    rated && AbandonmentRate !== null ? upperLevel(AbandonmentRate, thresholds.abandonmentRate) : undefined;
  const serviceLevel =
    rated && ServiceLevel20s !== null ? lowerLevel(ServiceLevel20s, thresholds.serviceLevel) : undefined;
  const wrapUp =
    row.counters.WrapUps >= thresholds.minCalls && AverageWrapUpTime !== null
      ? upperLevel(AverageWrapUpTime, thresholds.averageWrapUp)
      : undefined;
  const { queue } = row;
  const waiting = queue === null ? undefined : waitingLevel(queue);
  const longestWait =
    queue !== null && queue.callsWaiting > 0
      ? upperLevel(queue.longestWaitSeconds, thresholds.longestWait)
      : undefined;
  const levels = [abandonment, serviceLevel, wrapUp, waiting, longestWait].filter(
    (level) => level !== undefined,
  );
  let status: RowStatus;
  if (levels.length > 0) {
    status = levels.reduce((worst, level) => (STATUS_RANK[level] > STATUS_RANK[worst] ? level : worst));
  } else status = offered === 0 && row.counters.WrapUps === 0 ? 'idle' : 'low';
  return { abandonment, serviceLevel, wrapUp, waiting, longestWait, status };
}

type SkillRow = StatsAnswer['skills'][number] & { readonly judged: JudgedRow };

const descending = (a: number | null, b: number | null) => (b ?? -1) - (a ?? -1);
const ascending = (a: number | null, b: number | null) =>
  (a ?? Number.POSITIVE_INFINITY) - (b ?? Number.POSITIVE_INFINITY);

/**
 * Worst first: by status, then the longest wait now and the most calls waiting, then the most abandoned, the
 * lowest service level, the busiest, the lowest id.
 */
function compareWorstFirst(a: SkillRow, b: SkillRow): number {
  return (
    STATUS_RANK[b.judged.status] - STATUS_RANK[a.judged.status] ||
    descending(a.queue?.longestWaitSeconds ?? null, b.queue?.longestWaitSeconds ?? null) ||
    descending(a.queue?.callsWaiting ?? null, b.queue?.callsWaiting ?? null) ||
    descending(a.kpis.AbandonmentRate, b.kpis.AbandonmentRate) ||
    ascending(a.kpis.ServiceLevel20s, b.kpis.ServiceLevel20s) ||
    b.counters.CallsOffered - a.counters.CallsOffered ||
    a.skillId - b.skillId
  );
}

const STYLE = html`<style>
.cmsw{font-family:Arial,Helvetica,sans-serif;font-size:13px;line-height:1.35}
.cmsw table{border-collapse:collapse;width:100%}
.cmsw th,.cmsw td{padding:2px 6px;text-align:right;white-space:nowrap;border-bottom:1px solid #d5dbdb}
.cmsw th:first-child,.cmsw td:first-child,.cmsw .status{text-align:left}
.cmsw .lvl-red{background:#d13212;color:#fff}
.cmsw .lvl-amber{background:#f89c24;color:#16191f}
.cmsw .lvl-green{background:#1d8102;color:#fff}
.cmsw .lvl-low,.cmsw .lvl-idle,.cmsw .muted{color:#687078}
.cmsw tr.total td{font-weight:bold;border-top:2px solid #687078}
.cmsw .health,.cmsw .note{margin:6px 0}
.cmsw .badge{display:inline-block;padding:0 6px;border-radius:3px}
.cmsw .panel{margin:8px 0;padding:10px 12px;border:2px solid #d13212;border-radius:4px}
.cmsw .panel h3{margin:0 0 6px;color:#d13212;font-size:15px}
</style>`;

const ABSENT = '–';

const count = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(1));
const rate = (value: number | null) => (value === null ? ABSENT : value.toFixed(1));
const wrapUpSeconds = (value: number | null) => (value === null ? ABSENT : `${value.toFixed(1)} s`);
/** A wait as minutes and seconds, as wallboards show it: 0:45, 3:05, 72:00. */
const minutesSeconds = (seconds: number) =>
  `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;

function clock(epochMs: number, timeZone: WallboardInput['timeZone']): string {
  const shifted = new Date(epochMs + timeZone.offsetMinutes * 60_000);
  return shifted.toISOString().slice(11, 16);
}

function age(seconds: number): string {
  if (seconds < 0) return `${Math.round(seconds)} s (CMS clock ahead)`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min`;
}

function cell(text: string, level: Level | undefined, name?: string): Html {
  return html`<td class="${level ? `lvl-${level}` : ''}"${name ? html` data-cell="${name}"` : ''}>${text}</td>`;
}

function queueCells(row: RowFigures, judged: JudgedRow): Html {
  const { queue } = row;
  if (queue === null) {
    return html`${cell(ABSENT, undefined, 'waiting')}${cell(ABSENT, undefined, 'longest-wait')}${cell(
      ABSENT,
      undefined,
      'agents',
    )}`;
  }
  const agents =
    queue.agentsAvailable === undefined || queue.agentsLoggedOn === undefined
      ? ABSENT
      : `${queue.agentsAvailable} / ${queue.agentsLoggedOn}`;
  return html`${cell(count(queue.callsWaiting), judged.waiting, 'waiting')}${cell(
    minutesSeconds(queue.longestWaitSeconds),
    judged.longestWait,
    'longest-wait',
  )}${cell(agents, undefined, 'agents')}`;
}

function figureCells(row: RowFigures, judged: JudgedRow): Html {
  const c = row.counters;
  return html`<td>${count(c.CallsOffered)}</td><td>${count(c.CallsAnswered)}</td><td>${count(
    c.CallsAbandoned,
  )}</td><td>${count(c.CallsAnsweredIn20s)}</td>${cell(
    rate(row.kpis.AbandonmentRate),
    judged.abandonment,
    'abandonment',
  )}${cell(rate(row.kpis.ServiceLevel20s), judged.serviceLevel, 'service-level')}${cell(
    wrapUpSeconds(row.kpis.AverageWrapUpTime),
    judged.wrapUp,
    'wrap-up',
  )}`;
}

function timeCells(windowStart: string | null, input: WallboardInput): Html {
  if (windowStart === null) return html`<td>${ABSENT}</td><td>${ABSENT}</td>`;
  const start = Date.parse(windowStart);
  const seconds = (input.now - start) / 1000;
  return html`<td>${clock(start, input.timeZone)}</td>${cell(
    age(seconds),
    seconds > STALE_AFTER_SECONDS ? 'amber' : undefined,
    'age',
  )}`;
}

function statusCell(status: RowStatus): Html {
  return html`<td class="status"><span class="badge lvl-${status}">${STATUS_TEXT[status]}</span></td>`;
}

function header(input: WallboardInput): Html {
  return html`<tr><th>Skill</th><th class="status">Status</th><th>Waiting</th><th>Longest wait</th><th>Agents avail. / on</th><th>Offered</th><th>Answered</th><th>Abandoned</th><th>In 20 s</th><th>Aband. %</th><th>SL 20 s %</th><th>Avg wrap-up</th><th>Window (${input.timeZone.label})</th><th>Age</th></tr>`;
}

function hiddenNote(hidden: readonly SkillRow[], total: number): Html {
  if (hidden.length === 0) return html``;
  const byStatus = (['red', 'amber', 'green', 'low', 'idle'] as const)
    .map((status) => ({ status, n: hidden.filter((row) => row.judged.status === status).length }))
    .filter(({ n }) => n > 0)
    .map(({ status, n }) => `${n} ${STATUS_TEXT[status].toLowerCase()}`)
    .join(', ');
  return html`<p class="note" data-hidden="${hidden.length}">Showing the ${total - hidden.length} worst of ${total} skills; ${hidden.length} more not shown (${byStatus}).</p>`;
}

function healthLine(reading: HealthReading, input: WallboardInput): Html {
  if (reading.kind === 'unavailable') {
    return html`<p class="health muted" data-health="unavailable">Collector health: not available (${reading.reason}).</p>`;
  }
  if (reading.kind === 'silent') {
    return html`<p class="health" data-health="silent"><span class="badge lvl-red">Collector silent</span> no collection of this VDN in the last ${reading.sinceMinutes} minutes.</p>`;
  }
  const h = reading.health;
  const ok = h.collectionSuccess !== undefined && h.collectionSuccess >= 1;
  const stale = h.dataAgeSeconds !== undefined && h.dataAgeSeconds > STALE_AFTER_SECONDS;
  const level: Level = !ok ? 'red' : stale || (h.skillsMissing ?? 0) > 0 ? 'amber' : 'green';
  const parts = [
    `last run ${clock(h.at, input.timeZone)} (${age((input.now - h.at) / 1000)} ago)`,
    `CMS latency ${h.cmsLatencyMs === undefined ? ABSENT : `${Math.round(h.cmsLatencyMs)} ms`}`,
    `skills missing ${h.skillsMissing === undefined ? ABSENT : count(h.skillsMissing)}`,
    `data age ${h.dataAgeSeconds === undefined ? ABSENT : age(h.dataAgeSeconds)}`,
  ];
  return html`<p class="health" data-health="${level}">Collector: <span class="badge lvl-${level}">${
    ok ? 'collecting' : 'FAILING'
  }</span> ${parts.join(' · ')}</p>`;
}

/** The VDN's day so far: its counters summed over the day's windows, its rates from those sums. */
function todayTable(input: WallboardInput): Html {
  const { reading, timeZone } = input.today;
  const label = `Today since 00:00 ${timeZone}`;
  if (reading.kind === 'unavailable') {
    return html`<p class="note muted" data-today="unavailable">${label}: not available (${reading.reason}).</p>`;
  }
  const counters = { ...ZERO_COUNTERS, ...reading.counters };
  // The live queue is a figure of now, not of a day: the day's row has none (the VDN total above shows it).
  const figures: RowFigures = { counters, kpis: kpiView(computeKpis(counters)), queue: null };
  const judged = judge(figures, input.thresholds.forVdn(input.ccId, input.vdn));
  return html`<table class="today"><tr><th>${label}</th><th class="status">Status</th><th>Offered</th><th>Answered</th><th>Abandoned</th><th>In 20 s</th><th>Aband. %</th><th>SL 20 s %</th><th>Avg wrap-up</th></tr><tr data-today="${
    judged.status
  }"><td>VDN ${input.vdn}</td>${statusCell(judged.status)}${figureCells(figures, judged)}</tr></table>`;
}

function failedPanel(outcome: Extract<StatsOutcome, { kind: 'failed' }>, input: WallboardInput): Html {
  return html`<div class="panel" data-state="failed"><h3>CMS could not be read for VDN ${input.vdn} (call center ${input.ccId})</h3><p>${outcome.message}</p><p class="muted">${outcome.code}${
    outcome.requestId ? ` · request id ${outcome.requestId}` : ''
  } · ${clock(input.now, input.timeZone)} ${input.timeZone.label}; the next refresh tries again.</p></div>`;
}

function table(answer: StatsAnswer, input: WallboardInput): Html {
  const rows: SkillRow[] = answer.skills.map((skill) => ({
    ...skill,
    judged: judge(skill, input.thresholds.forSkill(input.ccId, input.vdn, skill.skillId)),
  }));
  rows.sort(compareWorstFirst);
  const shown = rows.slice(0, input.maxRows);
  const hidden = rows.slice(input.maxRows);
  const total = answer.rollup;
  const totalJudged = judge(total, input.thresholds.forVdn(input.ccId, input.vdn));
  const body = shown.map(
    (row) =>
      html`<tr data-skill="${row.skillId}" data-status="${row.judged.status}"><td>${row.skillId}${
        row.warnings ? html` <span title="${row.warnings.join('; ')}">⚠</span>` : ''
      }</td>${statusCell(row.judged.status)}${queueCells(row, row.judged)}${figureCells(row, row.judged)}${timeCells(
        row.windowStart,
        input,
      )}</tr>`,
  );
  const empty =
    rows.length === 0
      ? html`<tr><td colspan="14" class="muted">CMS returned none of the configured skills.</td></tr>`
      : '';
  const missing =
    answer.missingSkillIds.length > 0
      ? html`<p class="note" data-missing="${answer.missingSkillIds.length}">Not returned by CMS: skill${
          answer.missingSkillIds.length === 1 ? '' : 's'
        } ${answer.missingSkillIds.join(', ')}.</p>`
      : '';
  return html`<table>${header(input)}${body}${empty}<tr class="total" data-total="vdn" data-status="${
    totalJudged.status
  }"><td>VDN ${input.vdn} (${total.skillCount} skill${total.skillCount === 1 ? '' : 's'})</td>${statusCell(totalJudged.status)}${queueCells(
    total,
    totalJudged,
  )}${figureCells(total, totalJudged)}${timeCells(total.windowStart, input)}</tr></table>${hiddenNote(
    hidden,
    rows.length,
  )}${missing}`;
}

export function renderWallboard(input: WallboardInput): string {
  const content =
    input.outcome.kind === 'failed' ? failedPanel(input.outcome, input) : table(input.outcome.answer, input);
  return html`${STYLE}<div class="cmsw" data-ccid="${input.ccId}" data-vdn="${input.vdn}">${content}${todayTable(
    input,
  )}${healthLine(input.health, input)}</div>`.text;
}

/** A message panel in the wallboard's style, for a widget whose parameters or target are wrong. */
export function renderProblem(title: string, message: string, requestId?: string): string {
  return html`${STYLE}<div class="cmsw"><div class="panel" data-state="problem"><h3>${title}</h3><p>${message}</p>${
    requestId ? html`<p class="muted">request id ${requestId}</p>` : ''
  }</div></div>`.text;
}

/** A standalone page for the local server: the widget's HTML, refreshed by the browser every few seconds. */
export function wallboardPage(fragment: string, options: { title: string; refreshSeconds: number }): string {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${
    options.refreshSeconds
  }"><title>${options.title}</title></head><body>${new Html(fragment)}</body></html>`.text;
}
