import { columns } from '../lib/cli/table.js';
import { type Datum, failureText, type MetricSink, type PublishReport } from '../lib/metrics/metric-sink.js';
import { LIVE_QUEUE_METRICS, type MetricName } from '../lib/model.js';

export interface TableOptions {
  /** IANA zone for the window start column; default UTC, so output does not depend on the machine. */
  readonly timeZone?: string;
  /**
   * Per VDN (`ccId/vdn`), the roll-up of the newest window older than the ones shown: the last values published
   * for it, which after its closing read are its final totals.
   */
  readonly finished?: ReadonlyMap<string, FinishedWindow>;
}

export interface FinishedWindow {
  readonly windowStart: number;
  readonly values: ReadonlyMap<MetricName, number>;
}

export interface TableSinkOptions extends TableOptions {
  /** Receives the whole rendered table; default: process.stdout. */
  readonly write?: (text: string) => void;
}

/**
 * Prints datums as a wallboard-like table per VDN, for local runs. It remembers each VDN's roll-up per window
 * across runs, so that a VDN's table also shows the last finished window's final totals.
 */
export class TableSink implements MetricSink {
  readonly #write: (text: string) => void;
  readonly #options: TableOptions;
  /** Per VDN, the latest roll-up values of its newest windows. */
  readonly #windows = new Map<string, Map<number, Map<MetricName, number>>>();

  constructor(options: TableSinkOptions = {}) {
    this.#write = options.write ?? ((text) => process.stdout.write(text));
    this.#options = options.timeZone === undefined ? {} : { timeZone: options.timeZone };
  }

  async publish(datums: readonly Datum[]): Promise<PublishReport> {
    try {
      const finished = this.#remember(datums);
      this.#write(renderTable(datums, { ...this.#options, finished }));
      return { published: datums.length, calls: 1, failures: [] };
    } catch (error) {
      return { published: 0, calls: 0, failures: [{ datums: datums.length, error: failureText(error) }] };
    }
  }

  /** Records the roll-ups of `datums`; returns per VDN the newest window older than every one in `datums`. */
  #remember(datums: readonly Datum[]): Map<string, FinishedWindow> {
    const shown = new Map<string, number>();
    for (const datum of datums) {
      if (
        datum.dimensions.SkillId !== undefined ||
        HEALTH_NAMES.has(datum.name) ||
        LIVE_NAMES.has(datum.name)
      )
        continue;
      const key = `${datum.dimensions.CcId}/${datum.dimensions.Vdn}`;
      let windows = this.#windows.get(key);
      if (windows === undefined) {
        windows = new Map();
        this.#windows.set(key, windows);
      }
      let values = windows.get(datum.timestamp);
      if (values === undefined) {
        values = new Map();
        windows.set(datum.timestamp, values);
      }
      values.set(datum.name, datum.value);
      shown.set(key, Math.min(shown.get(key) ?? datum.timestamp, datum.timestamp));
    }
    const finished = new Map<string, FinishedWindow>();
    for (const [key, oldestShown] of shown) {
      const windows = this.#windows.get(key) ?? new Map<number, Map<MetricName, number>>();
      const starts = [...windows.keys()].sort((a, b) => a - b);
      // Two windows per VDN are all the table ever shows: older ones are dropped.
      for (const start of starts.slice(0, -2)) windows.delete(start);
      const previous = starts.filter((start) => start < oldestShown).at(-1);
      const values = previous === undefined ? undefined : windows.get(previous);
      if (previous !== undefined && values !== undefined)
        finished.set(key, { windowStart: previous, values });
    }
    return finished;
  }
}

const ABSENT = '–';
const TOTAL_LABEL = 'VDN total';

/**
 * A whole screen of text, to be written to a terminal over the previous one: the cursor goes home, every line
 * clears what is left of the old one beyond it, and whatever the old screen had below is cleared. The screen is
 * redrawn in place instead of scrolling, and without the flicker of clearing it first.
 */
export function redrawInPlace(screen: string): string {
  const lines = screen.endsWith('\n') ? screen.slice(0, -1).split('\n') : screen.split('\n');
  return `\x1b[H${lines.map((line) => `${line}\x1b[K`).join('\n')}\n\x1b[J`;
}

/** A skill's or the roll-up's datums of one window (NaN: only live figures), by metric name. */
type Row = { label: string; windowStart: number; values: Map<MetricName, number> };

interface Column {
  readonly header: string;
  readonly cell: (row: Row, formatTime: (epochMs: number) => string) => string;
}

/** The live queue's metrics: stamped with the time of their read, shown on the newest row of their skill. */
const LIVE_NAMES: ReadonlySet<MetricName> = new Set(LIVE_QUEUE_METRICS.map((metric) => metric.name));

const integerOrTenth = (value: number): string =>
  Number.isInteger(value) ? String(value) : value.toFixed(1);
const tenth = (value: number): string => value.toFixed(1);

const metricColumn = (header: string, metric: MetricName, format: (value: number) => string): Column => ({
  header,
  cell: (row) => {
    const value = row.values.get(metric);
    return value === undefined ? ABSENT : format(value);
  },
});

const COLUMNS: readonly Column[] = [
  { header: 'SkillId', cell: (row) => row.label },
  {
    header: 'Start',
    cell: (row, formatTime) => (Number.isFinite(row.windowStart) ? formatTime(row.windowStart) : ABSENT),
  },
  metricColumn('Offered', 'CallsOffered', integerOrTenth),
  metricColumn('Answered', 'CallsAnswered', integerOrTenth),
  metricColumn('Aband', 'CallsAbandoned', integerOrTenth),
  metricColumn('Ended', 'CallsEnded', integerOrTenth),
  metricColumn('In20s', 'CallsAnsweredIn20s', integerOrTenth),
  metricColumn('WrapUps', 'WrapUps', integerOrTenth),
  metricColumn('WrapUpTime', 'WrapUpTime', integerOrTenth),
  metricColumn('IvrTime', 'IvrTalkTime', integerOrTenth),
  metricColumn('Aband%', 'AbandonmentRate', tenth),
  metricColumn('Answer%', 'AnswerRate', tenth),
  metricColumn('SL20%', 'ServiceLevel20s', tenth),
  metricColumn('AvgWrap s', 'AverageWrapUpTime', tenth),
  metricColumn('Waiting', 'CallsWaiting', integerOrTenth),
  metricColumn('Longest s', 'LongestWaitTime', integerOrTenth),
];

const HEALTH_NAMES: ReadonlySet<MetricName> = new Set([
  'CollectionSuccess',
  'CmsLatency',
  'SkillsMissing',
  'DataAge',
  'WindowCoverage',
]);

interface VdnGroup {
  readonly ccId: string;
  readonly vdn: string;
  readonly skillRows: Map<string, Row>;
  readonly totalRows: Map<number, Row>;
  /** Live-queue values by row label (a skill id, or the VDN total's). */
  readonly live: Map<string, Map<MetricName, number>>;
  /** Latest value of each health metric, with its timestamp. */
  readonly health: Map<MetricName, { value: number; timestamp: number }>;
}

/**
 * Renders datums as one table per VDN (CcId, Vdn): a row per skill and window, the VDN roll-up rows, then the
 * collector's health. Everything is read back from the datums' names and dimensions, so it shows exactly what
 * a metric sink would have published.
 */
export function renderTable(datums: readonly Datum[], options: TableOptions = {}): string {
  if (datums.length === 0) return 'No datapoints.\n';
  const timeZone = options.timeZone ?? 'UTC';
  const clock = new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone,
  });
  const formatTime = (epochMs: number): string => clock.format(epochMs);
  const groups = [...groupByVdn(datums).values()].sort(
    (a, b) => compareIds(a.ccId, b.ccId) || compareIds(a.vdn, b.vdn),
  );
  return groups
    .map((group) =>
      renderVdn(group, timeZone, formatTime, options.finished?.get(`${group.ccId}/${group.vdn}`)),
    )
    .join('\n');
}

function groupByVdn(datums: readonly Datum[]): Map<string, VdnGroup> {
  const groups = new Map<string, VdnGroup>();
  for (const datum of datums) {
    const ccId = datum.dimensions.CcId ?? ABSENT;
    const vdn = datum.dimensions.Vdn ?? ABSENT;
    const key = `${ccId}/${vdn}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { ccId, vdn, skillRows: new Map(), totalRows: new Map(), live: new Map(), health: new Map() };
      groups.set(key, group);
    }
    const skillId = datum.dimensions.SkillId;
    if (LIVE_NAMES.has(datum.name)) {
      const label = skillId ?? TOTAL_LABEL;
      const values = group.live.get(label) ?? new Map<MetricName, number>();
      values.set(datum.name, datum.value);
      group.live.set(label, values);
    } else if (skillId !== undefined) {
      rowFor(group.skillRows, `${skillId}@${datum.timestamp}`, skillId, datum.timestamp).values.set(
        datum.name,
        datum.value,
      );
    } else if (HEALTH_NAMES.has(datum.name)) {
      const previous = group.health.get(datum.name);
      if (previous === undefined || datum.timestamp >= previous.timestamp) {
        group.health.set(datum.name, { value: datum.value, timestamp: datum.timestamp });
      }
    } else {
      rowFor(group.totalRows, datum.timestamp, TOTAL_LABEL, datum.timestamp).values.set(
        datum.name,
        datum.value,
      );
    }
  }
  return groups;
}

function rowFor<K>(rows: Map<K, Row>, key: K, label: string, windowStart: number): Row {
  let row = rows.get(key);
  if (row === undefined) {
    row = { label, windowStart, values: new Map() };
    rows.set(key, row);
  }
  return row;
}

/**
 * Puts each live-queue figure on the newest row of its skill (or of the VDN total), making a row for a skill
 * that has nothing else to show.
 */
function placeLive(group: VdnGroup): void {
  const newest = (rows: Iterable<Row>, label: string) =>
    [...rows]
      .filter((row) => row.label === label)
      .reduce<Row | undefined>(
        (found, row) => (found && found.windowStart > row.windowStart ? found : row),
        undefined,
      );
  for (const [label, values] of group.live) {
    const row =
      label === TOTAL_LABEL
        ? (newest(group.totalRows.values(), label) ?? rowFor(group.totalRows, Number.NaN, label, Number.NaN))
        : (newest(group.skillRows.values(), label) ??
          rowFor(group.skillRows, `${label}@live`, label, Number.NaN));
    for (const [name, value] of values) row.values.set(name, value);
  }
}

function renderVdn(
  group: VdnGroup,
  timeZone: string,
  formatTime: (epochMs: number) => string,
  finished: FinishedWindow | undefined,
): string {
  placeLive(group);
  const skillRows = [...group.skillRows.values()].sort(
    (a, b) => compareIds(a.label, b.label) || a.windowStart - b.windowStart,
  );
  const totalRows = [...group.totalRows.values()].sort((a, b) => a.windowStart - b.windowStart);
  const cells = (row: Row) => COLUMNS.map((column) => column.cell(row, formatTime));
  const header = COLUMNS.map((column) => column.header);
  const body = skillRows.map(cells);
  const finishedRow: Row | undefined =
    finished === undefined
      ? undefined
      : { label: 'last window', windowStart: finished.windowStart, values: new Map(finished.values) };
  const totals = [...(finishedRow ? [finishedRow] : []), ...totalRows].map(cells);
  const { line, rule } = columns([header, ...body, ...totals]);

  const lines = [`CcId ${group.ccId} · VDN ${group.vdn} · window start ${timeZone}`, line(header), rule];
  if (body.length === 0) lines.push('(no skill data)');
  lines.push(...body.map(line));
  if (totals.length > 0) lines.push(rule, ...totals.map(line));
  lines.push(renderHealth(group.health));
  return `${lines.join('\n')}\n`;
}

function renderHealth(health: VdnGroup['health']): string {
  const value = (name: MetricName) => health.get(name)?.value;
  const success = value('CollectionSuccess');
  const latency = value('CmsLatency');
  const missing = value('SkillsMissing');
  const age = value('DataAge');
  const coverage = value('WindowCoverage');
  const closingLine = `CLOSING READ: window coverage ${coverage === undefined ? ABSENT : tenth(coverage)} %`;
  // A closing read publishes no run health: its line is its coverage alone.
  if ([success, latency, missing, age].every((v) => v === undefined) && coverage !== undefined)
    return closingLine;
  return [
    `Health: CollectionSuccess ${success === undefined ? ABSENT : success >= 1 ? 'ok' : 'FAILED'}`,
    `CmsLatency ${latency === undefined ? ABSENT : `${Math.round(latency)} ms`}`,
    `SkillsMissing ${missing === undefined ? ABSENT : integerOrTenth(missing)}`,
    `DataAge ${age === undefined ? ABSENT : `${Math.round(age)} s`}`,
    ...(coverage === undefined ? [] : [closingLine]),
  ].join(' · ');
}

/** Numeric order for decimal ids, text order otherwise. */
function compareIds(a: string, b: string): number {
  const numeric = Number(a) - Number(b);
  return Number.isNaN(numeric) ? a.localeCompare(b) : numeric;
}
