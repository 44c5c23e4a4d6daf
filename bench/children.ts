import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** Spawning the processes the benchmarks measure or talk to, with environments that hold nothing by accident. */

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Children print their result on one line that starts with this, among whatever else they log. */
export const RESULT_MARKER = 'BENCH_RESULT ';

/**
 * Only what a process needs to start, plus `extra`: the benchmark's own environment (AWS profiles, NODE_OPTIONS
 * with a TypeScript loader, CI settings) must not change what a child does or how fast it starts.
 */
export function cleanEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

export interface ChildOutcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** From spawn to exit, as seen by the parent. */
  readonly wallMs: number;
}

/**
 * Runs a child to its end (Node itself unless `command` says otherwise); rejects only when it could not be
 * started. One that outlives `timeoutMs` is killed and reported with a null exit code.
 */
export async function runChild(
  args: readonly string[],
  options: { readonly env: NodeJS.ProcessEnv; readonly timeoutMs: number; readonly command?: string },
): Promise<ChildOutcome> {
  const started = performance.now();
  const child = spawn(options.command ?? process.execPath, args, {
    cwd: REPO_ROOT,
    env: options.env,
    stdio: 'pipe',
  });
  const failedToStart = once(child, 'error').then(([error]) => {
    throw error;
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  try {
    const [code] = (await Promise.race([once(child, 'close'), failedToStart])) as [number | null];
    return {
      code,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
      wallMs: performance.now() - started,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The JSON a child printed after RESULT_MARKER; throws with the child's stderr when there is none. */
export function resultOf<T>(outcome: ChildOutcome): T {
  const line = outcome.stdout
    .split('\n')
    .reverse()
    .find((candidate) => candidate.startsWith(RESULT_MARKER));
  if (line === undefined || outcome.code !== 0) {
    const tail = outcome.stderr.trim().split('\n').slice(-8).join('\n');
    throw new Error(`child exited with ${outcome.code} and no result${tail ? `:\n${tail}` : ''}`);
  }
  return JSON.parse(line.slice(RESULT_MARKER.length)) as T;
}

/** A TypeScript child with an IPC channel (the loader costs start-up time, so only for helpers, never probes). */
export function spawnTsxWithIpc(script: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}
