import { copyFile, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleOptions } from '../scripts/bundle-options.mjs';
import { cleanEnv, REPO_ROOT, resultOf, runChild } from './children.js';
import type { Figure } from './report.js';
import { median } from './stats.js';

/**
 * Cold start of the Lambda bundles against a floor: the same esbuild options applied to an entry that only
 * builds the two AWS SDK clients. Each probe is a fresh Node process that times `import()` of one bundle;
 * bundles take turns within every round (in a rotating order), so whatever else the machine is doing weighs
 * on all of them alike.
 */

export interface ColdStartOptions {
  /** Measured rounds; each round imports every bundle once. */
  readonly rounds: number;
  /** Rounds run first and thrown away (disk cache, CPU frequency). */
  readonly warmupRounds: number;
  /** Where the floor bundle and stable copies of the handler bundles go. */
  readonly workDir: string;
}

interface BundleResult {
  readonly name: string;
  /** Bytes added beyond the floor, by package or lib/ folder, largest first (handlers only). */
  readonly additions?: Readonly<Record<string, number>>;
  readonly path: string;
  readonly bytes: number;
  readonly importMs: readonly number[];
  readonly wallMs: readonly number[];
}

export interface ColdStartResult {
  readonly buildMs: number;
  readonly bundles: readonly BundleResult[];
}

/** What the handlers validate at import: a complete configuration that points nowhere reachable. */
const HANDLER_ENV: Readonly<Record<string, string>> = {
  CMS_BASE_URL: 'https://127.0.0.1:9',
  CMS_SECRET_ID: 'x',
  CC_ID: '1',
  VDN: '1',
  SKILL_IDS: '1',
  AWS_REGION: 'us-east-1',
};

const HANDLERS = ['collector', 'query'] as const;

const ENTRIES: Readonly<Record<(typeof HANDLERS)[number] | 'floor', string>> = {
  floor: fileURLToPath(new URL('./floor-entry.ts', import.meta.url)),
  collector: join(REPO_ROOT, 'handlers/collector.ts'),
  query: join(REPO_ROOT, 'handlers/query.ts'),
};

async function buildFloor(outfile: string): Promise<void> {
  await build(bundleOptions({ entry: ENTRIES.floor, outfile }));
}

/** Bytes each package (or lib/ folder) adds to a bundle beyond what the floor already holds. */
async function additionsOverFloor(name: (typeof HANDLERS)[number]): Promise<Record<string, number>> {
  const inputsOf = async (entry: string): Promise<Record<string, { bytesInOutput: number }>> => {
    const result = await build({
      ...bundleOptions({ entry, outfile: join(tmpdir(), 'bench-composition.mjs') }),
      write: false,
      metafile: true,
      absWorkingDir: REPO_ROOT,
    });
    const [output] = Object.values(result.metafile.outputs);
    return output?.inputs ?? {};
  };
  const floor = await inputsOf(ENTRIES.floor);
  const additions: Record<string, number> = {};
  for (const [path, input] of Object.entries(await inputsOf(ENTRIES[name]))) {
    if (path in floor) continue;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
    const key = pkg ?? path.split('/').slice(0, 2).join('/');
    additions[key] = (additions[key] ?? 0) + input.bytesInOutput;
  }
  return Object.fromEntries(Object.entries(additions).sort(([, a], [, b]) => b - a));
}

/** `npm run build`, as a person would run it, then copies of the bundles that a concurrent rebuild cannot remove. */
async function buildHandlers(workDir: string): Promise<{ ms: number; paths: Record<string, string> }> {
  const outcome = await runChild(['run', '-s', 'build'], {
    command: 'npm',
    env: process.env,
    timeoutMs: 180_000,
  });
  if (outcome.code !== 0) {
    throw new Error(`npm run build failed (${outcome.code}): ${outcome.stderr.trim().slice(-2_000)}`);
  }
  const paths: Record<string, string> = {};
  for (const name of HANDLERS) {
    const copy = join(workDir, name, 'index.mjs');
    await mkdir(join(workDir, name), { recursive: true });
    await copyFile(join(REPO_ROOT, 'dist', name, 'index.mjs'), copy);
    paths[name] = copy;
  }
  return { ms: outcome.wallMs, paths };
}

async function probe(path: string, env: NodeJS.ProcessEnv): Promise<{ importMs: number; wallMs: number }> {
  const outcome = await runChild([fileURLToPath(new URL('./import-probe.mjs', import.meta.url)), path], {
    env,
    timeoutMs: 30_000,
  });
  const { importMs } = resultOf<{ importMs: number }>(outcome);
  return { importMs, wallMs: outcome.wallMs };
}

/** Round `round` starts at a different bundle each time, so no bundle always runs right after another. */
export function rotation<T>(items: readonly T[], round: number): T[] {
  const shift = round % Math.max(1, items.length);
  return [...items.slice(shift), ...items.slice(0, shift)];
}

export async function runColdStart(options: ColdStartOptions): Promise<ColdStartResult> {
  const built = await buildHandlers(options.workDir);
  const floorPath = join(options.workDir, 'floor', 'index.mjs');
  await buildFloor(floorPath);
  const names = ['floor', ...HANDLERS];
  const pathOf = (name: string): string => (name === 'floor' ? floorPath : (built.paths[name] as string));
  const env = cleanEnv(HANDLER_ENV);
  const samples = new Map(names.map((name) => [name, { importMs: [] as number[], wallMs: [] as number[] }]));
  for (let round = 0; round < options.warmupRounds + options.rounds; round += 1) {
    for (const name of rotation(names, round)) {
      const measured = await probe(pathOf(name), env);
      if (round < options.warmupRounds) continue;
      samples.get(name)?.importMs.push(measured.importMs);
      samples.get(name)?.wallMs.push(measured.wallMs);
    }
  }
  const bundles: BundleResult[] = [];
  for (const name of names) {
    bundles.push({
      name,
      ...(name === 'floor' ? {} : { additions: await additionsOverFloor(name as (typeof HANDLERS)[number]) }),
      path: pathOf(name),
      bytes: (await stat(pathOf(name))).size,
      importMs: samples.get(name)?.importMs ?? [],
      wallMs: samples.get(name)?.wallMs ?? [],
    });
  }
  return { buildMs: built.ms, bundles };
}

function largest(additions: Readonly<Record<string, number>> | undefined): string {
  return Object.entries(additions ?? {})
    .slice(0, 5)
    .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(1)} KiB`)
    .join(', ');
}

export function coldStartFigures(result: ColdStartResult): Figure[] {
  const floor = result.bundles.find((bundle) => bundle.name === 'floor');
  if (!floor) throw new Error('no floor bundle was measured');
  const floorImport = median(floor.importMs);
  const floorWall = median(floor.wallMs);
  const rounds = floor.importMs.length;
  const figures: Figure[] = [
    {
      id: 'coldStart.floor.importMs',
      label: 'floor bundle (2 SDK clients): import, median',
      value: floorImport,
      unit: 'ms',
      note: `${rounds} fresh processes per bundle, interleaved; process wall time median ${floorWall.toFixed(0)} ms; ${(floor.bytes / 1024).toFixed(0)} KiB`,
    },
  ];
  for (const bundle of result.bundles) {
    if (bundle.name === 'floor') continue;
    const importMs = median(bundle.importMs);
    const wallMs = median(bundle.wallMs);
    figures.push(
      {
        id: `coldStart.${bundle.name}.importMs`,
        label: `${bundle.name} bundle: import, median`,
        value: importMs,
        unit: 'ms',
        note: `process wall time median ${wallMs.toFixed(0)} ms (floor ${floorWall.toFixed(0)} ms, ratio ${(wallMs / floorWall).toFixed(2)}×)`,
      },
      {
        id: `coldStart.${bundle.name}.importRatio`,
        label: `${bundle.name} import time / floor`,
        value: importMs / floorImport,
        unit: '×',
        goal: { op: '<=', value: 1.2 },
      },
      {
        id: `coldStart.${bundle.name}.bytes`,
        label: `${bundle.name} bundle size (minified)`,
        value: bundle.bytes / 1024,
        unit: 'KiB',
        note: `floor ${(floor.bytes / 1024).toFixed(0)} KiB`,
      },
      {
        id: `coldStart.${bundle.name}.sizeRatio`,
        label: `${bundle.name} bundle size / floor`,
        value: bundle.bytes / floor.bytes,
        unit: '×',
        goal: { op: '<=', value: 1.2 },
        note: `${((bundle.bytes - floor.bytes) / 1024).toFixed(1)} KiB over the floor; largest additions: ${largest(bundle.additions)}`,
      },
    );
  }
  return figures;
}
