/**
 * The cost table of docs/deploy.md, recomputed from what the collector publishes: `npx tsx bench/cost-table.ts`.
 * Each VDN is metered over a simulated day (see cost.ts); a fleet of N such VDNs publishes N times the
 * metric-hours, and its runs batch N times the datums into PutMetricData calls.
 */
import { parseMetricSelection } from '../lib/metrics/build-datums.js';
import {
  type CostRun,
  type CostVariant,
  CURRENT_DEFAULTS,
  DAYS_PER_MONTH,
  HOURS_PER_MONTH,
  metricDollars,
  PREVIOUS_DEFAULTS,
  PUT_METRIC_DATA_USD,
  runCostBench,
} from './cost.js';

const OPENING_HOURS = { opensAtHour: 8, closesAtHour: 20 };
const ALL_VDN = parseMetricSelection('all', 'VDN_METRICS');

const variant = (skillMetrics: string, idleSkillsToo = false): CostVariant => ({
  id: skillMetrics,
  label: skillMetrics,
  selection: { skill: parseMetricSelection(skillMetrics, 'SKILL_METRICS'), vdn: ALL_VDN },
  idleSkillsToo,
  closingReads: true,
});

const VARIANTS: readonly CostVariant[] = [
  { ...PREVIOUS_DEFAULTS, label: '`all`, idle skills too (before)' },
  { ...CURRENT_DEFAULTS, label: 'default (`CallsOffered,CallsAbandoned`)' },
  {
    ...variant('CallsOffered,CallsAbandoned,CallsAnsweredIn20s'),
    label: '`CallsOffered,CallsAbandoned,CallsAnsweredIn20s`',
  },
  {
    ...variant('CallsOffered,CallsAnswered,CallsAbandoned,CallsAnsweredIn20s,WrapUps,WrapUpTime'),
    label: 'the six counters behind every rate',
  },
  { ...variant('all'), label: '`all`' },
  { ...variant('none'), label: '`none` (roll-ups only)' },
];

function row(fleet: string, vdns: number, run: CostRun, label: string): string {
  const metricMonths = (run.metricHoursPerDay * vdns * DAYS_PER_MONTH) / HOURS_PER_MONTH;
  const calls = run.datumsPerRun.reduce((sum, datums) => sum + Math.ceil((datums * vdns) / 1_000), 0);
  const callsUsd = calls * DAYS_PER_MONTH * PUT_METRIC_DATA_USD;
  const money = (usd: number) =>
    usd.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return `| ${fleet} | ${label} | ${Math.round(metricMonths).toLocaleString('en')} | ${money(metricDollars(metricMonths))} | ${money(callsUsd)} |`;
}

const lines = [
  '| fleet | `skillMetrics` | metric-months | metrics $/month | PutMetricData $/month |',
  '|---|---|---|---|---|',
];
for (const skills of [50, 500]) {
  const result = await runCostBench({ skills, openingHours: OPENING_HOURS, everyMinutes: 1 }, VARIANTS);
  const fleets = skills === 500 ? [1, 20] : [1];
  for (const vdns of fleets) {
    for (const [index, run] of result.runs.entries()) {
      lines.push(
        row(
          `${vdns === 1 ? '1 VDN' : `${vdns} VDNs`} × ${skills} skills`,
          vdns,
          run,
          VARIANTS[index]?.label ?? run.id,
        ),
      );
    }
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
