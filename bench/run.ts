/**
 * `npm run bench`: every performance figure of the product, measured in one run on this machine, printed as a
 * table (figure, value, target, verdict) and written to bench/results.json. Figures are medians or ratios of
 * things measured side by side, so a busy or slow machine moves them less than it moves absolute times. It is a
 * report: it exits 0 even when a target is missed, and says so.
 *
 *   npm run bench                       everything (about two minutes)
 *   npm run bench -- --only collector   sections: cold-start, collector, naive, query, windows, wallboard, cost,
 *                                       otlp
 *                                       (comma list)
 *   npm run bench -- --quick            fewer rounds and shorter loads, to check that the bench itself works
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { coldStartFigures, runColdStart } from './cold-start.js';
import { collectorFigures, runCollectorBench } from './collector.js';
import { costFigures, runCostBench } from './cost.js';
import { naiveFigures, runNaiveBench } from './naive.js';
import { otlpFigures, runOtlpBench } from './otlp.js';
import { queryFigures, runQueryBench } from './query-load.js';
import {
  countVerdicts,
  type Figure,
  formatTable,
  machineInfo,
  resultsDocument,
  verdictOf,
} from './report.js';
import { type BenchServers, startBenchServers } from './servers-client.js';
import { runWallboardLoad, wallboardFigures } from './wallboard-load.js';
import { runWindowsBench, windowsFigures } from './windows.js';

const SECTIONS = [
  'cold-start',
  'collector',
  'naive',
  'query',
  'windows',
  'wallboard',
  'cost',
  'otlp',
] as const;
type Section = (typeof SECTIONS)[number];

const LATENCY = { cmsMs: 50, awsMs: 20 } as const;

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: new URL('./results.json', import.meta.url).pathname },
  },
});

function selectedSections(only: string | undefined): Set<Section> {
  if (only === undefined) return new Set(SECTIONS);
  const chosen = new Set<Section>();
  for (const name of only.split(',').map((part) => part.trim())) {
    const section = SECTIONS.find((candidate) => candidate === name);
    if (!section) {
      process.stderr.write(`unknown section "${name}"; choose from ${SECTIONS.join(', ')}\n`);
      process.exit(2);
    }
    chosen.add(section);
  }
  return chosen;
}

const sections = selectedSections(values.only);
const quick = values.quick === true;
const plan = {
  coldStart: { rounds: quick ? 3 : 15, warmupRounds: quick ? 1 : 2 },
  collector: { warmRuns: quick ? 1 : 3, roundTripSamples: quick ? 2 : 5, rssRuns: quick ? 1 : 2 },
  naive: { skills: 500, subset: quick ? 10 : 50, oursRuns: quick ? 1 : 3 },
  query: {
    cmsLatencyMs: LATENCY.cmsMs,
    clients: 200,
    arrivalsPerSecond: 200,
    durationMs: quick ? 2_000 : 10_000,
    cacheSeconds: 1,
  },
  windows: { windows: quick ? 3 : 24 },
  wallboard: {
    viewers: 200,
    vdns: 2,
    skillsPerVdn: 500,
    refreshMs: 1_000,
    durationMs: quick ? 3_000 : 10_000,
    cacheSeconds: 5,
  },
  cost: { skills: 500, openingHours: { opensAtHour: 8, closesAtHour: 20 }, everyMinutes: quick ? 5 : 1 },
  otlp: { skills: 5_000, runs: quick ? 1 : 5, awsLatencyMs: LATENCY.awsMs },
};

function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** A section that could not run is one ERROR row with the reason, and the others still run. */
function failedSection(section: Section, error: unknown): Figure {
  const message = error instanceof Error ? error.message : String(error);
  return {
    id: `${section}.error`,
    label: `${section}: not measured`,
    value: Number.NaN,
    unit: '',
    note: message.split('\n').slice(0, 6).join(' | '),
  };
}

const started = performance.now();
const machineAtStart = machineInfo();
const workDir = await mkdtemp(join(tmpdir(), 'cms-skill-metrics-bench-'));
const figures: Figure[] = [];
const details: Record<string, unknown> = { plan, latency: LATENCY };

async function section(name: Section, body: () => Promise<Figure[]>): Promise<void> {
  if (!sections.has(name)) return;
  progress(`${name}…`);
  const sectionStarted = performance.now();
  try {
    figures.push(...(await body()));
  } catch (error) {
    figures.push(failedSection(name, error));
  }
  progress(`${name} done in ${((performance.now() - sectionStarted) / 1_000).toFixed(1)} s`);
}

let servers: BenchServers | undefined;
const needServers = async (): Promise<BenchServers> => {
  servers ??= await startBenchServers({ cmsLatencyMs: LATENCY.cmsMs, awsLatencyMs: LATENCY.awsMs });
  return servers;
};

try {
  let collectorBundle: string | { error: string } = {
    error: 'the cold-start section did not run, so there is no production bundle to measure',
  };
  // First, while nothing else of the bench runs: process start-up is what it measures.
  await section('cold-start', async () => {
    try {
      const result = await runColdStart({ ...plan.coldStart, workDir });
      details.coldStart = result;
      collectorBundle = result.bundles.find((bundle) => bundle.name === 'collector')?.path ?? collectorBundle;
      return coldStartFigures(result);
    } catch (error) {
      collectorBundle = { error: `no production bundle: ${String(error).split('\n')[0]}` };
      throw error;
    }
  });
  await section('collector', async () => {
    const result = await runCollectorBench(await needServers(), { ...plan.collector, collectorBundle });
    details.collector = result;
    return collectorFigures(result);
  });
  await section('naive', async () => {
    const result = await runNaiveBench(await needServers(), plan.naive);
    details.naive = result;
    return naiveFigures(result);
  });
  await section('query', async () => {
    const result = await runQueryBench(await needServers(), plan.query);
    details.query = result;
    return queryFigures(result);
  });
  // On a simulated clock, with its own in-process simulator: it needs the clock the bench servers do not share.
  await section('windows', async () => {
    const result = await runWindowsBench(plan.windows);
    details.windows = result;
    return windowsFigures(result);
  });
  await section('wallboard', async () => {
    const result = await runWallboardLoad(await needServers(), plan.wallboard);
    details.wallboard = { ...result, renderMs: undefined };
    return wallboardFigures(result);
  });
  await section('cost', async () => {
    const result = await runCostBench(plan.cost);
    details.cost = { ...result, runs: result.runs.map(({ datumsPerRun: _perRun, ...run }) => run) };
    return costFigures(result);
  });
  await section('otlp', async () => {
    const result = await runOtlpBench(await needServers(), plan.otlp);
    details.otlp = result;
    return otlpFigures(result);
  });
} finally {
  await servers?.close();
  await rm(workDir, { recursive: true, force: true });
}

const durationMs = performance.now() - started;
const machineAtEnd = machineInfo();
const counts = countVerdicts(figures);
process.stdout.write(
  [
    '',
    `cms-skill-metrics benchmarks — ${machineAtStart.date}, Node ${machineAtStart.node}, ${machineAtStart.cpus} × ${machineAtStart.cpuModel}`,
    `load average ${machineAtStart.loadAverage.join(' ')} at start, ${machineAtEnd.loadAverage.join(' ')} at end; ` +
      `CMS latency ${LATENCY.cmsMs} ms, AWS latency ${LATENCY.awsMs} ms (injected)${quick ? '; QUICK mode: fewer samples' : ''}`,
    '',
    formatTable(figures),
    '',
    `${counts.PASS} PASS, ${counts.FAIL} FAIL, ${counts.ERROR} ERROR, ${counts.INFO} INFO in ${(durationMs / 1_000).toFixed(0)} s`,
    ...figures
      .filter((figure) => verdictOf(figure) === 'FAIL' || verdictOf(figure) === 'ERROR')
      .map((figure) => `  ${verdictOf(figure)}: ${figure.label}`),
    '',
  ].join('\n'),
);
await writeFile(
  values.out,
  `${JSON.stringify(resultsDocument(figures, { start: machineAtStart, end: machineAtEnd }, details, durationMs), null, 2)}\n`,
);
process.stdout.write(`results written to ${values.out}\n`);
