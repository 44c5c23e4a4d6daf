import { execFile } from 'node:child_process';
import { access, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { STACK_BUNDLE, stackBundleOptions } from '../../scripts/bundle-options.mjs';
import type { Template } from './stack-cfn.js';

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

export interface PackagedStack {
  readonly template: Template;
  /** Where `.serverless/` landed; removed by `dispose`. */
  readonly dir: string;
  artifact(name: string): Promise<Buffer>;
  dispose(): Promise<void>;
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

/**
 * Packages serverless.yml in a scratch copy of the service, so parallel runs and other people's work in the
 * tree never see each other's `.serverless/`. The real function bundles are used when `npm run build` has
 * produced them; otherwise minimal stand-ins take their place, which is enough for everything but the code
 * itself. The stack generator is always bundled afresh from stack/, so the template follows the sources.
 */
export async function packageStack(options: PackageOptions): Promise<PackagedStack> {
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
    await run(process.execPath, args, { cwd: dir, env: offlineEnv(), timeout: 120_000 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    await rm(dir, { recursive: true, force: true });
    throw new Error(`osls package failed:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
  const output = join(dir, '.serverless');
  const template = JSON.parse(
    await readFile(join(output, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  return {
    template,
    dir,
    artifact: (name) => readFile(join(output, `${name}.zip`)),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
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
