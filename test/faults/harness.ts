/**
 * Shared equipment of the fault suite: the recognisable key pair and the two VDNs every file runs with, the
 * capture of everything the product emits (log lines, thrown errors, HTTP answers, PutMetricData bodies as they
 * crossed the wire) and the leak check over it. The stand-ins come from test/support/world.ts, the expected
 * datums from test/support/expected-datums.ts.
 */
import { inspect } from 'node:util';
import type { CollectionFailedError, RunSummary } from '../../lib/collector/run.js';
import type { CollectorHandler } from '../../lib/lambda/collector.js';
import { WINDOW_MS } from '../../lib/model.js';
import { range, type TargetSpec, targetsJson } from '../support/expected-datums.js';
import type { AwsAttempt, ReceivedDatum } from '../support/fake-aws.js';
import { startWorld, useWorldAws, type World } from '../support/world.js';

export const ACCESS_KEY = 'fault-suite-access-key';
/** Distinctive enough that finding its prefix anywhere can only mean it leaked. */
export const SECRET_KEY = 'FAULT-SUITE-SECRET-7f3a9c';
export const SECRET_ID = 'prod/cms-skill-metrics/fault-suite';
const NAMESPACE = 'FaultSuite/SkillQueues';

/** The VDN that stays healthy in every collector case; skill 7 exists nowhere, so SkillsMissing is 1. */
export const HEALTHY: TargetSpec = { ccId: 1, vdn: 170, skillList: '1-12', skillIds: range(1, 12) };
/** The VDN the faults are aimed at (the simulator's `when`). */
export const FAULTY: TargetSpec = { ccId: 1, vdn: 171, skillList: '101-106', skillIds: range(101, 106) };
const ABSENT_SKILL_IDS = [7];

export const onlyFaulty = { when: (query: { readonly vdn: number }) => query.vdn === FAULTY.vdn };

export function secretJson(accessKey: string, secretKey: string, extra: Record<string, string> = {}): string {
  return JSON.stringify({ accessKey, secretKey, ...extra });
}

/**
 * A fixed instant late in a past window: counters are well filled, the simulator serves the same numbers for
 * the whole file, and signatures made with the real clock stay within the simulator's skew tolerance.
 */
function simulatorInstant(realNow = Date.now()): number {
  return Math.floor((realNow - WINDOW_MS) / WINDOW_MS) * WINDOW_MS + WINDOW_MS - 50_000;
}

// --- output capture ----------------------------------------------------------------------------------------

export interface OutputCapture {
  /** Every line written to stdout or stderr since the capture began. */
  readonly lines: readonly string[];
  /** The lines that are JSON objects (the structured logger's). */
  records(): Record<string, unknown>[];
  restore(): void;
}

/**
 * Takes over process.stdout/stderr writes. The logger writes through a Console bound to these stream objects,
 * so replacing their `write` catches its lines whenever it was created. Nothing is passed through: the test
 * runner reports through its own channel, and the captured lines are asserted on instead.
 */
export function captureOutput(): OutputCapture {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      lines.push(...text.split('\n').filter((line) => line.length > 0));
      const callback = rest.find((item): item is () => void => typeof item === 'function');
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  return {
    lines,
    records: () => recordsOf(lines),
    restore: () => {
      streams.forEach((stream, index) => {
        stream.write = originals[index] as typeof stream.write;
      });
    },
  };
}

// --- evidence and the leak check -----------------------------------------------------------------------------

/** Everything about an error that could reach a log or a caller: message, stack, cause chain, own fields, JSON. */
export function describeThrown(error: unknown): string {
  const parts: string[] = [
    inspect(error, { depth: 12, showHidden: true, breakLength: Number.POSITIVE_INFINITY }),
  ];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    if (current instanceof Error) {
      parts.push(current.name, current.message, current.stack ?? '');
      if (current instanceof AggregateError) parts.push(...current.errors.map(describeThrown));
    }
    parts.push(safeJson(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\n');
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, Object.getOwnPropertyNames(value ?? {})) ?? String(value);
  } catch {
    return String(value);
  }
}

/** What must never be seen: the secret key (or any clipped echo of it) and a C2 Authorization value. */
const LEAKS: readonly { readonly what: string; readonly pattern: RegExp }[] = [
  { what: 'the secret key', pattern: new RegExp(SECRET_KEY.slice(0, 18), 'i') },
  // Server text is redacted to `auth-v2/[redacted]`; anything else after the scheme is a signature.
  { what: 'an Authorization value', pattern: /auth-v2\/(?!\[redacted\])/i },
];

export function leaksIn(text: string): string[] {
  return LEAKS.filter(({ pattern }) => pattern.test(text)).map(({ what }) => what);
}

export class Evidence {
  readonly #items: { source: string; text: string }[] = [];

  add(source: string, text: string): void {
    this.#items.push({ source, text });
  }

  addError(source: string, error: unknown): void {
    this.add(source, describeThrown(error));
  }

  get size(): number {
    return this.#items.length;
  }

  /** `source: what leaked`, one per leaking item; empty when nothing leaked. */
  leaks(): string[] {
    return this.#items.flatMap(({ source, text }) => leaksIn(text).map((what) => `${source}: ${what}`));
  }
}

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** Awaits a handler call and files what came out of it, result or error, as evidence. */
async function settle<T>(evidence: Evidence, source: string, work: Promise<T>): Promise<Outcome<T>> {
  try {
    const value = await work;
    evidence.add(source, safeJson(value));
    return { ok: true, value };
  } catch (error) {
    evidence.addError(source, error);
    return { ok: false, error };
  }
}

export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
  readonly json: unknown;
}

/** A real HTTP exchange with the API; headers and body are filed as evidence. */
export async function exchange(evidence: Evidence, url: string, init: RequestInit = {}): Promise<HttpAnswer> {
  const response = await fetch(url, init);
  const text = await response.text();
  evidence.add(`HTTP ${init.method ?? 'GET'} ${url}`, `${JSON.stringify([...response.headers])}\n${text}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

// --- the AWS wire ----------------------------------------------------------------------------------------

/** What went out to AWS, as evidence: the PutMetricData bodies (GetSecretValue answers hold the secret by design). */
export function fileMetricBody(evidence: Evidence, attempt: AwsAttempt): void {
  if (attempt.operation === 'PutMetricData')
    evidence.add(`PutMetricData body #${evidence.size}`, attempt.body);
}

// --- the bench: one simulator, one fake AWS endpoint, one capture per file ----------------------------------

/** A fault file's world, at a fixed instant, with everything the product emits captured. */
export interface Bench extends World {
  /** The simulator's clock: every run of a file sees the same window and counters. */
  readonly at: number;
  readonly output: OutputCapture;
  /** Every PutMetricData body is filed here as it arrives. */
  readonly evidence: Evidence;
  /** GetSecretValue calls answered since the start, whatever records were cleared since. */
  readonly secretReads: number;
}

/**
 * Starts everything a fault file needs, with the suite's key pair in the simulator and in the fake secret, and
 * the process environment pointing the SDK at the fake endpoint.
 */
export async function startBench(): Promise<Bench> {
  const output = captureOutput();
  const at = simulatorInstant();
  const evidence = new Evidence();
  let secretReads = 0;
  const world = await startWorld({
    keys: { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
    simulator: { now: () => at, absentSkillIds: ABSENT_SKILL_IDS },
    aws: {
      // Tapped as they arrive, because tests clear the fake's records between (and within) runs.
      onAttempt: (attempt) => {
        fileMetricBody(evidence, attempt);
        if (attempt.operation === 'GetSecretValue' && attempt.status === 200) secretReads += 1;
      },
    },
  });
  const restoreEnv = useWorldAws(world);
  // Entry modules read their log level from the environment: every line the product can write is audited.
  process.env.LOG_LEVEL = 'DEBUG';
  world.aws.setSecret(SECRET_ID, secretJson(ACCESS_KEY, SECRET_KEY));
  return {
    ...world,
    at,
    output,
    evidence,
    get secretReads() {
      return secretReads;
    },
    close: async () => {
      output.restore();
      restoreEnv();
      await world.close();
    },
  };
}

/**
 * The environment both handlers run with against the bench: two VDNs, the fake secret, the simulator's CA, and
 * LOG_LEVEL=DEBUG so that every line the product can write is part of what the leak check reads.
 */
export function benchEnv(bench: Bench, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    LOG_LEVEL: 'DEBUG',
    CMS_BASE_URL: bench.simulator.url,
    CMS_SECRET_ID: SECRET_ID,
    CMS_CA_FILE: bench.caFile,
    CMS_TARGETS: targetsJson([HEALTHY, FAULTY]),
    METRIC_NAMESPACE: NAMESPACE,
    // Every counter and KPI of every skill, so that each one is checked end to end.
    SKILL_METRICS: 'all',
    QUERY_CACHE_SECONDS: '0',
    // A closing read waits for a real window's end; these runs are about faults, closing reads have tests of
    // their own on a clock that jumps.
    CLOSING_READ_REACH_SECONDS: '0',
    ...overrides,
  };
}

/** Puts back what a test may have changed: faults, the simulator's key pair, the secret, AWS records. */
export function resetBench(bench: Bench): void {
  bench.simulator.clearFaults();
  bench.simulator.setCredentials(ACCESS_KEY, SECRET_KEY);
  bench.aws.clearFaults();
  bench.aws.setSecret(SECRET_ID, secretJson(ACCESS_KEY, SECRET_KEY));
  bench.aws.clearRecords();
}

export interface SecretsAudit {
  /** `source: what leaked`; empty when nothing did. */
  readonly leaks: readonly string[];
  /** The real logger's lines were captured (so a leak in them would have been seen). */
  readonly loggerLines: number;
  /** The secret key went out of the fake Secrets Manager (so there was something to leak). */
  readonly secretServed: boolean;
}

/** The end-of-file check: files every log line as evidence (PutMetricData bodies are already), then looks for leaks. */
export function auditSecrets(bench: Bench): SecretsAudit {
  for (const line of bench.output.lines) bench.evidence.add('output', line);
  return {
    leaks: bench.evidence.leaks(),
    loggerLines: bench.output.records().filter((record) => record.service === 'cms-skill-metrics').length,
    // The fake holds the suite's key pair (or its rotation, which starts with it) but where a test breaks the
    // secret on purpose, so an answered read served SECRET_KEY.
    secretServed: bench.secretReads > 0,
  };
}

// --- collector runs ----------------------------------------------------------------------------------------

export interface CollectorRun {
  readonly summary: RunSummary;
  /** What the invocation threw, when it failed as a whole. */
  readonly thrown: unknown;
  /** Every datum the fake CloudWatch accepted since the records were last cleared. */
  readonly received: ReceivedDatum[];
  /** The structured log lines written during this run. */
  readonly logs: Record<string, unknown>[];
  /** HTTP statuses the simulator answered the faulty VDN's counters with during this run, in order. */
  readonly faultyStatuses: number[];
}

function recordsOf(lines: readonly string[]): Record<string, unknown>[] {
  return lines.flatMap((line) => {
    try {
      const parsed: unknown = JSON.parse(line);
      return typeof parsed === 'object' && parsed !== null ? [parsed as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

/** One scheduled invocation with `remainingMs` of Lambda time; its result or error is filed as evidence. */
export async function invokeCollector(
  bench: Bench,
  handler: CollectorHandler,
  remainingMs = 20_000,
): Promise<CollectorRun> {
  const linesBefore = bench.output.lines.length;
  const requestsBefore = bench.simulator.requests.length;
  const outcome = await settle(
    bench.evidence,
    'collector',
    handler({}, { getRemainingTimeInMillis: () => remainingMs }),
  );
  return {
    summary: outcome.ok ? outcome.value : (outcome.error as CollectionFailedError).summary,
    thrown: outcome.ok ? undefined : outcome.error,
    received: bench.aws.putMetricDataCalls.flatMap((call) => call.datums),
    logs: recordsOf(bench.output.lines.slice(linesBefore)),
    faultyStatuses: bench.simulator.requests
      .slice(requestsBefore)
      .filter((request) => request.vdn === FAULTY.vdn && request.endpoint === 'currentcallstateinfo')
      .map((request) => request.status),
  };
}
