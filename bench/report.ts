import { cpus, freemem, loadavg, totalmem } from 'node:os';

/**
 * Figures, targets and verdicts of a benchmark run, as a table for people and as JSON for whoever compares
 * runs. A figure without a target is context (INFO); a figure that could not be measured is an ERROR, never a
 * silent pass.
 */

type Comparison = '<=' | '==' | '>=';

interface Goal {
  readonly op: Comparison;
  readonly value: number;
}

export type Verdict = 'PASS' | 'FAIL' | 'INFO' | 'ERROR';

export interface Figure {
  /** Stable key for comparing runs, e.g. `collector.5000.ratio`. */
  readonly id: string;
  readonly label: string;
  /** NaN when the measurement failed. */
  readonly value: number;
  readonly unit: string;
  readonly goal?: Goal;
  readonly note?: string;
}

export function verdictOf(figure: Figure): Verdict {
  if (!Number.isFinite(figure.value)) return 'ERROR';
  if (figure.goal === undefined) return 'INFO';
  return meets(figure.value, figure.goal) ? 'PASS' : 'FAIL';
}

function meets(value: number, goal: Goal): boolean {
  switch (goal.op) {
    case '<=':
      return value <= goal.value;
    case '>=':
      return value >= goal.value;
    case '==':
      return value === goal.value;
  }
}

/** Enough digits to read, without pretending to a precision a noisy machine does not have. */
function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3;
  return value.toFixed(digits);
}

function formatWithUnit(value: number, unit: string): string {
  // Ratios are judged against bounds like 1.2, so they need the digit that decides a verdict at the border.
  const text =
    unit === '×' && Number.isFinite(value) && Math.abs(value) < 10 ? value.toFixed(3) : formatNumber(value);
  if (unit === '') return text;
  return unit === '×' ? `${text}×` : `${text} ${unit}`;
}

function formatGoal(goal: Goal | undefined, unit: string): string {
  if (goal === undefined) return '';
  return `${goal.op === '==' ? '=' : goal.op === '<=' ? '≤' : '≥'} ${formatWithUnit(goal.value, unit)}`;
}

/** A plain-text table: figure, value, target, verdict; notes indented beneath their row. */
export function formatTable(figures: readonly Figure[]): string {
  const rows = figures.map((figure) => [
    figure.label,
    formatWithUnit(figure.value, figure.unit),
    formatGoal(figure.goal, figure.unit),
    verdictOf(figure),
  ]);
  const header = ['figure', 'value', 'target', 'verdict'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        column === 1 ? cell.padStart(widths[1] ?? 0) : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const out = [line(header), widths.map((width) => '-'.repeat(width)).join('  ')];
  figures.forEach((figure, index) => {
    out.push(line(rows[index] ?? []));
    if (figure.note) out.push(`    ${figure.note}`);
  });
  return out.join('\n');
}

export interface VerdictCounts {
  readonly PASS: number;
  readonly FAIL: number;
  readonly INFO: number;
  readonly ERROR: number;
}

export function countVerdicts(figures: readonly Figure[]): VerdictCounts {
  const counts = { PASS: 0, FAIL: 0, INFO: 0, ERROR: 0 };
  for (const figure of figures) counts[verdictOf(figure)] += 1;
  return counts;
}

export interface MachineInfo {
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly totalMemoryMB: number;
  readonly freeMemoryMB: number;
  /** 1, 5 and 15 minute load averages: how busy the machine was with other work. */
  readonly loadAverage: readonly number[];
  readonly date: string;
}

export function machineInfo(): MachineInfo {
  const processors = cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: processors.length,
    cpuModel: processors[0]?.model ?? 'unknown',
    totalMemoryMB: Math.round(totalmem() / 2 ** 20),
    freeMemoryMB: Math.round(freemem() / 2 ** 20),
    loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
    date: new Date().toISOString(),
  };
}

/** What bench/results.json holds: every figure with its verdict, the machine, and each benchmark's raw data. */
export function resultsDocument(
  figures: readonly Figure[],
  machine: { readonly start: MachineInfo; readonly end: MachineInfo },
  details: Readonly<Record<string, unknown>>,
  durationMs: number,
): object {
  return {
    machine: machine.start,
    loadAverageAtEnd: machine.end.loadAverage,
    durationSeconds: Math.round(durationMs / 100) / 10,
    verdicts: countVerdicts(figures),
    figures: figures.map((figure) => ({
      id: figure.id,
      label: figure.label,
      value: Number.isFinite(figure.value) ? figure.value : null,
      unit: figure.unit,
      target: figure.goal ?? null,
      verdict: verdictOf(figure),
      ...(figure.note ? { note: figure.note } : {}),
    })),
    details,
  };
}
