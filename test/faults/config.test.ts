/**
 * A broken deployment fails at cold start with one ConfigError naming the variable to fix: for every variable
 * each handler reads, missing (where required) and malformed, through the factories and through the real
 * Lambda entry modules.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../lib/errors.js';
import { createCollectorHandler } from '../../lib/lambda/collector.js';
import { createQueryHandler } from '../../lib/lambda/query.js';
import {
  ACCESS_KEY,
  auditSecrets,
  type Bench,
  describeThrown,
  leaksIn,
  resetBench,
  SECRET_ID,
  SECRET_KEY,
  startBench,
} from './harness.js';

let bench: Bench;
let notPemFile: string;
let brokenPemFile: string;

beforeAll(async () => {
  bench = await startBench();
  notPemFile = join(bench.directory, 'not-a-certificate.txt');
  writeFileSync(notPemFile, 'this is not a certificate\n');
  brokenPemFile = join(bench.directory, 'broken-certificate.pem');
  // The shape of a PEM bundle, with a second block that is not DER: TLS would silently skip it.
  writeFileSync(
    brokenPemFile,
    `${bench.simulator.caCertificate}\n-----BEGIN CERTIFICATE-----\nTUlJQm5vdC1hLWNlcnRpZmljYXRl\n-----END CERTIFICATE-----\n`,
  );
});

afterAll(async () => {
  await bench?.close();
});

afterEach(() => {
  resetBench(bench);
});

type Env = Record<string, string | undefined>;

function singleTargetEnv(): Env {
  return {
    CMS_BASE_URL: bench.simulator.url,
    CMS_SECRET_ID: SECRET_ID,
    CMS_CA_FILE: bench.caFile,
    CC_ID: '1',
    VDN: '170',
    SKILL_IDS: '1-12',
  };
}

function targetsEnv(): Env {
  const { CC_ID: _cc, VDN: _vdn, SKILL_IDS: _skills, ...rest } = singleTargetEnv();
  return { ...rest, CMS_TARGETS: '[{"ccId":1,"vdn":170,"skillIds":"1-12"}]' };
}

interface Case {
  readonly variable: string;
  /** What is wrong, in the test's name. */
  readonly problem: string;
  readonly env: () => Env;
  /** What the message must say after `VARIABLE: `. */
  readonly says: RegExp;
}

function without(variable: string, base = singleTargetEnv): Case {
  return {
    variable,
    problem: 'missing',
    env: () => ({ ...base(), [variable]: undefined }),
    says: /^is required$/,
  };
}

function withValue(variable: string, value: string, says: RegExp, base = singleTargetEnv): Case {
  return { variable, problem: JSON.stringify(value), env: () => ({ ...base(), [variable]: value }), says };
}

const WHOLE = /must be a whole number/;
const BETWEEN = /must be between/;

/** Variables both handlers read: where CMS is, the credentials, the targets. */
const SHARED: Case[] = [
  without('CMS_BASE_URL'),
  withValue('CMS_BASE_URL', 'not a url', /is not a URL/),
  withValue('CMS_BASE_URL', 'http://127.0.0.1:28090', /must be an https:\/\/ URL/),
  withValue(
    'CMS_BASE_URL',
    'https://127.0.0.1:28090/?tenant=1',
    /must not carry credentials, a query or a fragment/,
  ),
  without('CMS_SECRET_ID'),
  withValue('CMS_SECRET_ID', '   ', /^is required$/),
  without('CC_ID'),
  withValue('CC_ID', 'one', WHOLE),
  withValue('CC_ID', '65536', BETWEEN),
  without('VDN'),
  withValue('VDN', '0', BETWEEN),
  withValue('VDN', '17.5', WHOLE),
  without('SKILL_IDS'),
  withValue('SKILL_IDS', '20-1', /runs backwards/),
  withValue('SKILL_IDS', 'all', /neither a skill id nor a range/),
  withValue('SKILL_IDS', '5001', /outside 1-5000/),
  withValue('CMS_TARGETS', '{"ccId":1', /is not valid JSON/, targetsEnv),
  withValue('CMS_TARGETS', '[]', /must hold at least one target/, targetsEnv),
  withValue('CMS_TARGETS', '[{"ccId":1,"vdn":170}]', /^\[0\]\.skillIds is required$/, targetsEnv),
  withValue(
    'CMS_TARGETS',
    '[{"ccId":1,"vdn":170,"skillIds":"1","extra":1}]',
    /^\[0\]\.extra is not a known field \(expected ccId, vdn, skillIds, tenant\)$/,
    targetsEnv,
  ),
  withValue('CMS_TARGETS', '{"ccId":1}', /^must be a JSON array of targets such as \[/, targetsEnv),
  withValue('CMS_TARGETS', '[null]', /^\[0\] must be an object such as \{/, targetsEnv),
  withValue('CMS_TARGETS', '[{"ccId":1,"vdn":9999,"skillIds":"1"}]', /\[0\]\.vdn/, targetsEnv),
  withValue(
    'CMS_TARGETS',
    '[{"ccId":1,"vdn":170,"skillIds":"1"},{"ccId":1,"vdn":170,"skillIds":"2"}]',
    /listed twice/,
    targetsEnv,
  ),
  withValue(
    'CMS_TARGETS',
    '[{"ccId":1,"vdn":170,"skillIds":"1"}]',
    /not both \(CC_ID, VDN, SKILL_IDS also set\)/,
  ),
  withValue('CMS_CA_FILE', '/nonexistent/cms-ca.pem', /cannot read \/nonexistent\/cms-ca.pem \(ENOENT\)/),
  {
    ...withValue('CMS_CA_FILE', '(a text file)', /holds no PEM certificate/),
    env: () => ({ ...singleTargetEnv(), CMS_CA_FILE: notPemFile }),
  },
  {
    ...withValue(
      'CMS_CA_FILE',
      '(a PEM block that is not a certificate)',
      /certificate 2 of 2 is not a valid X\.509/,
    ),
    env: () => ({ ...singleTargetEnv(), CMS_CA_FILE: brokenPemFile }),
  },
  withValue('CMS_TIMEOUT_MS', '99', BETWEEN),
  withValue('CMS_TIMEOUT_MS', '60001', BETWEEN),
  withValue('CMS_TIMEOUT_MS', 'soon', WHOLE),
  withValue('CMS_MAX_ATTEMPTS', '0', BETWEEN),
  withValue('CMS_MAX_ATTEMPTS', '11', BETWEEN),
  withValue('CMS_CONCURRENCY', '0', BETWEEN),
  withValue('CMS_CONCURRENCY', '65', BETWEEN),
  {
    ...withValue(
      'CMS_CONCURRENCY',
      '64',
      /^64 CMS answers in flight do not fit in 256 MB of function memory; at most 21 fit/,
    ),
    problem: '"64" in a function of 256 MB',
    env: () => ({ ...singleTargetEnv(), CMS_CONCURRENCY: '64', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256' }),
  },
  withValue('SECRET_TTL_SECONDS', '-1', WHOLE),
  withValue('SECRET_TTL_SECONDS', '86401', BETWEEN),
];

const COLLECTOR_ONLY: Case[] = [
  withValue('METRIC_NAMESPACE', 'AWS/Lambda', /is not a valid custom namespace/),
  withValue('METRIC_NAMESPACE', 'Skill Queues', /is not a valid custom namespace/),
  withValue('METRIC_NAMESPACE', 'N'.repeat(256), /is not a valid custom namespace/),
  withValue('METRICS_SINK', 'kafka', /must be one of cloudwatch, emf, got "kafka"/),
  withValue(
    'SKILL_METRICS',
    'CallsOffered,CallsDropped',
    /"CallsDropped" is not a counter, KPI or live-queue metric name/,
  ),
  withValue('SKILL_METRICS', 'CollectionSuccess', /health metrics are always published/),
  withValue('VDN_METRICS', 'CallsOffered,', /an empty entry/),
  withValue('VDN_METRICS', 'everything', /"everything" is not a counter, KPI or live-queue metric name/),
  withValue('CLOSING_READ_GUARD_SECONDS', '0', BETWEEN),
  withValue('CLOSING_READ_GUARD_SECONDS', '2.5', WHOLE),
  withValue('CLOSING_READ_REACH_SECONDS', '241', BETWEEN),
  withValue('CLOSING_READ_REACH_SECONDS', '-1', WHOLE),
];

const QUERY_ONLY: Case[] = [
  withValue('QUERY_CACHE_SECONDS', '301', BETWEEN),
  withValue('QUERY_CACHE_SECONDS', '5s', WHOLE),
  withValue('QUERY_MAX_SKILLS', '0', BETWEEN),
  withValue('QUERY_MAX_SKILLS', '5001', BETWEEN),
  withValue('QUERY_TIMEOUT_MS', '99', BETWEEN),
  withValue('QUERY_TIMEOUT_MS', '900001', BETWEEN),
];

/** What a factory threw at creation; the handler itself must never come into being. */
function creationError(create: () => unknown): unknown {
  try {
    create();
  } catch (error) {
    bench.evidence.addError('creation', error);
    return error;
  }
  return undefined;
}

function expectConfigError(error: unknown, { variable, says }: Case): void {
  expect(error).toBeInstanceOf(ConfigError);
  const configError = error as ConfigError;
  expect(configError.variable).toBe(variable);
  expect(configError.message.startsWith(`${variable}: `)).toBe(true);
  expect(configError.message.slice(variable.length + 2)).toMatch(says);
}

const HANDLERS = [
  ['collector', (env: Env) => createCollectorHandler(env), [...SHARED, ...COLLECTOR_ONLY]],
  ['query', (env: Env) => createQueryHandler(env), [...SHARED, ...QUERY_ONLY]],
] as const;

describe.each(HANDLERS)('the %s handler at creation', (_, create, cases) => {
  it('accepts the valid environments the cases below break', () => {
    expect(creationError(() => create(singleTargetEnv()))).toBeUndefined();
    expect(creationError(() => create(targetsEnv()))).toBeUndefined();
  });

  it.each(cases)('throws one ConfigError naming $variable when it is $problem', (testCase) => {
    const requestsBefore = bench.simulator.requests.length;
    expectConfigError(
      creationError(() => create(testCase.env())),
      testCase,
    );
    // Refused before anything was fetched or sent.
    expect(bench.aws.attempts).toEqual([]);
    expect(bench.simulator.requests.length).toBe(requestsBefore);
  });
});

describe('variables of the other handler', () => {
  it('leave the query handler alone', () => {
    for (const testCase of COLLECTOR_ONLY)
      expect(creationError(() => createQueryHandler(testCase.env()))).toBeUndefined();
  });

  it('leave the collector alone', () => {
    for (const testCase of QUERY_ONLY)
      expect(creationError(() => createCollectorHandler(testCase.env()))).toBeUndefined();
  });
});

describe('the Lambda entry modules', () => {
  let before: NodeJS.ProcessEnv;

  beforeEach(() => {
    before = process.env;
    process.env = { ...before };
    vi.resetModules();
  });

  afterEach(() => {
    process.env = before;
    vi.resetModules();
  });

  const ENTRY_CASES = [
    ['collector', '../../handlers/collector.js', without('CMS_BASE_URL')],
    ['collector', '../../handlers/collector.js', withValue('METRICS_SINK', 'kafka', /must be one of/)],
    [
      'collector',
      '../../handlers/collector.js',
      withValue('CMS_TARGETS', '[]', /at least one target/, targetsEnv),
    ],
    ['query', '../../handlers/query.js', without('CC_ID')],
    ['query', '../../handlers/query.js', withValue('QUERY_TIMEOUT_MS', '99', BETWEEN)],
    ['query', '../../handlers/query.js', withValue('CMS_CA_FILE', '/nonexistent/ca.pem', /cannot read/)],
  ] as const;

  it.each(ENTRY_CASES)('%s: importing it rejects with the ConfigError for %s', async (_, entry, testCase) => {
    for (const [name, value] of Object.entries(testCase.env())) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    let thrown: unknown;
    try {
      await import(entry);
    } catch (error) {
      thrown = error;
      bench.evidence.addError('entry module', error);
    }
    // A fresh module graph has its own ConfigError class: compare by what the error says, not by instanceof.
    expect(thrown).toMatchObject({ name: 'ConfigError', code: 'CONFIG_ERROR', variable: testCase.variable });
    expect((thrown as Error).message).toMatch(new RegExp(`^${testCase.variable}: `));
  });
});

describe('secrets', () => {
  it('are not echoed by a ConfigError about a CMS_BASE_URL that carries them', () => {
    const urls = {
      parseable: `https://${ACCESS_KEY}:${SECRET_KEY}@127.0.0.1:28090`,
      // Unparseable, so the check for credentials in it cannot even run.
      unparseable: `https://${ACCESS_KEY}:${SECRET_KEY}@cms host:28090`,
    };
    const leaks = Object.fromEntries(
      Object.entries(urls).map(([kind, url]) => {
        // Kept out of the evidence: this case has an assertion of its own, the audit below covers the rest.
        let error: unknown;
        try {
          createCollectorHandler({ ...singleTargetEnv(), CMS_BASE_URL: url });
        } catch (caught) {
          error = caught;
        }
        expect(error).toMatchObject({ variable: 'CMS_BASE_URL' });
        return [kind, leaksIn(describeThrown(error))];
      }),
    );
    expect(leaks).toEqual({ parseable: [], unparseable: [] });
  });

  // The audit makes every case's error itself, so that it has evidence of its own when it runs alone; after the
  // other tests of the file it reads theirs as well.
  it('never appear in a thrown error or a log line', () => {
    for (const [, create, cases] of HANDLERS) {
      for (const testCase of cases) creationError(() => create(testCase.env()));
    }
    const audit = auditSecrets(bench);
    expect(bench.evidence.size).toBeGreaterThan(SHARED.length);
    expect(audit.leaks).toEqual([]);
  });
});
