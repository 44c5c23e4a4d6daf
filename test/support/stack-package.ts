import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  access,
  copyFile,
  cp,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { STACK_BUNDLE, stackBundleOptions } from '../../scripts/bundle-options.mjs';

const run = promisify(execFile);

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const osls = join(repoRoot, 'node_modules/osls/bin/serverless.js');
const HANDLERS = ['collector', 'query', 'wallboard'] as const;

export interface PackageOptions {
  readonly stage: string;
  /** Stage parameters, passed as `--param=key=value`. */
  readonly params?: Readonly<Record<string, string>>;
  /** Contents of a fleet file (YAML); its path is passed as the `fleetFile` parameter. */
  readonly fleetYaml?: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Packaging must work with no AWS account at all: credentials are stripped, shared config files hidden and
 * every SDK endpoint pointed at a closed local port, so an AWS call would fail the packaging instead of
 * silently reaching out.
 */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_')) env[key] = value;
  }
  return {
    ...env,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  };
}

// --- packaged stacks, kept by what went into them ------------------------------------------------------------------

/**
 * osls reads nothing but the scratch copy below, its stage and its parameters, so the same inputs package to the
 * same stack (but for the time stamp in the artifacts' S3 keys). What it produced is kept under the hash of all
 * of them (and of osls' and Node's versions): a suite packages only what changed since the last run, and two
 * runs with the same inputs (other worktrees of the project included) share the result.
 */
const CACHE = join(tmpdir(), 'cms-skill-metrics-packaged-stacks');
/** Entries unused for this long are removed when a new one is stored. */
const CACHE_MAX_AGE_MS = 3 * 86_400_000;
/** What osls writes besides the artifacts. */
export const TEMPLATE = 'cloudformation-template-update-stack.json';
/** Stands for a failed packaging in a cache entry: what osls said. */
const FAILURE = 'failure.txt';

async function filesBelow(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true });
  const files = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory() ? filesBelow(dir, join(prefix, entry.name)) : [join(prefix, entry.name)],
    ),
  );
  return files.flat().sort();
}

async function cacheKey(
  dir: string,
  stage: string,
  params: Readonly<Record<string, string>>,
): Promise<string> {
  const hash = createHash('sha256');
  const oslsVersion = JSON.parse(await readFile(join(repoRoot, 'node_modules/osls/package.json'), 'utf8'))
    .version as string;
  // The fleet file's path is a scratch path, different every time: its content stands for it.
  const { fleetFile: _, ...stable } = params;
  hash.update(JSON.stringify([process.version, oslsVersion, stage, Object.entries(stable).sort()]));
  for (const file of await filesBelow(dir)) {
    hash.update(`\0${file}\0`);
    hash.update(await readFile(join(dir, file)));
  }
  return hash.digest('hex');
}

/** Removes the entries no run has used for CACHE_MAX_AGE_MS (best effort: another run may be at it too). */
async function pruneCache(): Promise<void> {
  const names = await readdir(CACHE).catch(() => []);
  await Promise.all(
    names.map(async (name) => {
      const entry = join(CACHE, name);
      const { mtimeMs } = await stat(entry).catch(() => ({ mtimeMs: Date.now() }));
      if (Date.now() - mtimeMs > CACHE_MAX_AGE_MS) await rm(entry, { recursive: true, force: true });
    }),
  );
}

/**
 * Runs osls in `dir` and stores its output (or, when osls itself refused the configuration, what it said) as the
 * cache entry `entry`. A packaging that did not finish (killed, timed out) is not stored.
 */
async function packageInto(dir: string, args: readonly string[], entry: string): Promise<void> {
  const partial = `${entry}.${process.pid}.${Date.now()}`;
  try {
    await run(process.execPath, args, { cwd: dir, env: offlineEnv(), timeout: 120_000 });
    await cp(join(dir, '.serverless'), partial, { recursive: true });
  } catch (error) {
    const { stdout, stderr, code } = error as { stdout?: string; stderr?: string; code?: unknown };
    const message = `osls package failed:\n${stdout ?? ''}\n${stderr ?? ''}`;
    if (typeof code !== 'number') throw new Error(message);
    await mkdir(partial, { recursive: true });
    await writeFile(join(partial, FAILURE), message);
  }
  await pruneCache();
  // Another run may have stored the same entry meanwhile: theirs is as good as this one.
  await rename(partial, entry).catch(() => rm(partial, { recursive: true, force: true }));
}

/**
 * Packages serverless.yml in a scratch copy of the service, so parallel runs and other people's work in the
 * tree never see each other's `.serverless/`. The real function bundles are used when `npm run build` has
 * produced them; otherwise minimal stand-ins take their place, which is enough for everything but the code
 * itself. The stack generator is always bundled afresh from stack/, so the template follows the sources; osls
 * runs only when that copy, the stage or the parameters differ from every packaging kept in the cache.
 * Resolves to the cache entry that holds what osls wrote: TEMPLATE and an artifact `<function>.zip` per function.
 */
export async function packageStack(options: PackageOptions): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cms-stack-'));
  const builtPaths = HANDLERS.map((name) => join(repoRoot, 'dist', name, 'index.mjs'));
  const realBundles = (await Promise.all(builtPaths.map(exists))).every(Boolean);
  await copyFile(join(repoRoot, 'serverless.yml'), join(dir, 'serverless.yml'));
  // The generator of the per-VDN alarms and dashboard, which serverless.yml loads while packaging.
  await build(stackBundleOptions(join(dir, STACK_BUNDLE)));
  for (const [index, name] of HANDLERS.entries()) {
    await mkdir(join(dir, 'dist', name), { recursive: true });
    const target = join(dir, 'dist', name, 'index.mjs');
    const built = builtPaths[index];
    if (realBundles && built) await copyFile(built, target);
    else await writeFile(target, 'export const handler = async () => ({});\n');
  }
  // Something that must never end up in an artifact.
  await writeFile(join(dir, 'notes.txt'), 'not part of any function\n');

  const params = { ...options.params };
  if (options.fleetYaml !== undefined) {
    const fleetFile = join(dir, 'fleet.yml');
    await writeFile(fleetFile, options.fleetYaml);
    params.fleetFile = fleetFile;
  }
  const args = [
    osls,
    'package',
    '--stage',
    options.stage,
    ...Object.entries(params).map(([key, value]) => `--param=${key}=${value}`),
  ];
  try {
    await mkdir(CACHE, { recursive: true });
    const entry = join(CACHE, await cacheKey(dir, options.stage, params));
    if (await exists(entry)) await utimes(entry, new Date(), new Date());
    else await packageInto(dir, args, entry);
    const failure = await readFile(join(entry, FAILURE), 'utf8').catch(() => undefined);
    if (failure !== undefined) throw new Error(failure);
    return entry;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Names of the entries of a zip archive, read from its central directory. */
export function zipEntryNames(zip: Buffer): string[] {
  const endOfDirectory = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endOfDirectory < 0) throw new Error('not a zip archive');
  const count = zip.readUInt16LE(endOfDirectory + 10);
  let offset = zip.readUInt32LE(endOfDirectory + 16);
  const names: string[] = [];
  for (let index = 0; index < count; index += 1) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    names.push(zip.toString('utf8', offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}
