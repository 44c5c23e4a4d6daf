import { execFileSync } from 'node:child_process';
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCmsSettings, loadSecretSettings, RESPONSE_MEMORY, responseCap } from '../lib/cms/settings.js';
import { loadTargets, parseTargets } from '../lib/config/targets.js';
import { ConfigError, ValidationError } from '../lib/errors.js';
import { loadCollectorConfig } from '../lib/lambda/collector.js';
import { createQueryHandler, loadQueryConfig } from '../lib/lambda/query.js';
import { DEFAULT_SKILL_METRICS, STACK_VDN_METRICS } from '../lib/metrics/build-datums.js';
import { COUNTERS, KPIS, LIVE_QUEUE_METRICS } from '../lib/model.js';
import { createCertificateAuthority } from '../local/tls.js';
import { configError } from './support/config-error.js';

const base = { CMS_BASE_URL: 'https://10.0.0.5:28443' };

describe('CMS settings', () => {
  it('applies the documented defaults', () => {
    expect(loadCmsSettings(base)).toEqual({
      baseUrl: 'https://10.0.0.5:28443',
      caCertificate: undefined,
      requestTimeoutMs: 5000,
      maxAttempts: 3,
      maxConcurrency: 4,
      maxResponseBytes: 16 * 1024 * 1024,
      signature: 'auto',
      refusals: { limit: 4, periodMs: 900_000 },
    });
  });

  it('reads the refusal budget from CMS_REFUSAL_LIMIT and CMS_REFUSAL_PERIOD_SECONDS', () => {
    const env = { ...base, CMS_REFUSAL_LIMIT: '2', CMS_REFUSAL_PERIOD_SECONDS: '3600' };
    expect(loadCmsSettings(env).refusals).toEqual({ limit: 2, periodMs: 3_600_000 });
  });

  it.each([
    'auto',
    'huawei-reference',
    'huawei-reference-millis',
    'empty-query-line',
    'empty-query-line-millis',
  ])('accepts CMS_SIGNATURE=%s', (signature) => {
    expect(loadCmsSettings({ ...base, CMS_SIGNATURE: signature }).signature).toBe(signature);
  });

  it('names CMS_SIGNATURE and its choices when the value is unknown', () => {
    const error = configError(() => loadCmsSettings({ ...base, CMS_SIGNATURE: 'sha256' }));
    expect(error.variable).toBe('CMS_SIGNATURE');
    expect(error.message).toContain('huawei-reference');
  });

  it.each([
    [{}, 'CMS_BASE_URL', 'required'],
    [{ CMS_BASE_URL: 'not a url' }, 'CMS_BASE_URL', 'not a URL'],
    [{ CMS_BASE_URL: 'http://10.0.0.5:28080' }, 'CMS_BASE_URL', 'https'],
    [{ CMS_BASE_URL: 'https://ak:sk@10.0.0.5' }, 'CMS_BASE_URL', 'credentials'],
    [{ CMS_BASE_URL: 'https://10.0.0.5:28443/?a=1' }, 'CMS_BASE_URL', 'query'],
    [{ CMS_BASE_URL: 'https://10.0.0.5:28443/#a' }, 'CMS_BASE_URL', 'fragment'],
    [{ ...base, CMS_TIMEOUT_MS: 'fast' }, 'CMS_TIMEOUT_MS', 'whole number'],
    [{ ...base, CMS_TIMEOUT_MS: '0' }, 'CMS_TIMEOUT_MS', 'between 100 and 60000'],
    [{ ...base, CMS_MAX_ATTEMPTS: '0' }, 'CMS_MAX_ATTEMPTS', 'between 1 and 10'],
    [{ ...base, CMS_CONCURRENCY: '1000' }, 'CMS_CONCURRENCY', 'between 1 and 64'],
    [{ ...base, CMS_CONCURRENCY: '0' }, 'CMS_CONCURRENCY', 'between 1 and 64'],
    [{ ...base, CMS_CA_FILE: '/nonexistent/ca.pem' }, 'CMS_CA_FILE', 'cannot read'],
    [{ ...base, CMS_REFUSAL_LIMIT: '0' }, 'CMS_REFUSAL_LIMIT', 'between 1 and 100'],
    [{ ...base, CMS_REFUSAL_LIMIT: 'four' }, 'CMS_REFUSAL_LIMIT', 'whole number'],
    [{ ...base, CMS_REFUSAL_PERIOD_SECONDS: '59' }, 'CMS_REFUSAL_PERIOD_SECONDS', 'between 60 and 86400'],
    [{ ...base, CMS_REFUSAL_PERIOD_SECONDS: '15m' }, 'CMS_REFUSAL_PERIOD_SECONDS', 'whole number'],
  ])('names the variable when %j is wrong', (env, variable, reason) => {
    const error = configError(() => loadCmsSettings(env));
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
    expect(error.message).toContain(reason);
  });

  it('reads the CA bundle named by CMS_CA_FILE', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ca-')), 'ca.pem');
    const { certificate } = await createCertificateAuthority();
    writeFileSync(path, certificate);
    expect(loadCmsSettings({ ...base, CMS_CA_FILE: path }).caCertificate).toBe(certificate);
  });

  it('refuses a CA file whose certificate block is not a certificate', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ca-')), 'ca.pem');
    writeFileSync(path, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(configError(() => loadCmsSettings({ ...base, CMS_CA_FILE: path })).message).toMatch(
      /^CMS_CA_FILE: .* certificate 1 of 1 is not a valid X\.509 certificate$/,
    );
  });

  it('refuses a CA file that holds no certificate', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ca-')), 'ca.pem');
    writeFileSync(path, 'hello');
    expect(configError(() => loadCmsSettings({ ...base, CMS_CA_FILE: path })).message).toContain('no PEM');
  });

  it('refuses a CA file larger than a CA bundle can be, without reading it', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ca-')), 'ca.pem');
    // Sparse: 2 MB long, next to nothing on disk.
    writeFileSync(path, '');
    truncateSync(path, 2 * 1024 * 1024);
    expect(configError(() => loadCmsSettings({ ...base, CMS_CA_FILE: path })).message).toBe(
      `CMS_CA_FILE: ${path} is larger than the 1024 KB a CA bundle may take`,
    );
  });

  it('refuses a device that never ends, such as /dev/zero, instead of reading it', () => {
    expect(configError(() => loadCmsSettings({ ...base, CMS_CA_FILE: '/dev/zero' })).message).toBe(
      'CMS_CA_FILE: /dev/zero is not a regular file',
    );
  });

  it('refuses a FIFO at once instead of waiting for someone to write into it', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ca-')), 'ca.fifo');
    execFileSync('mkfifo', [path]);
    expect(configError(() => loadCmsSettings({ ...base, CMS_CA_FILE: path })).message).toBe(
      `CMS_CA_FILE: ${path} is not a regular file`,
    );
  });

  it('refuses a directory', () => {
    const path = mkdtempSync(join(tmpdir(), 'ca-'));
    expect(configError(() => loadCmsSettings({ ...base, CMS_CA_FILE: path })).message).toBe(
      `CMS_CA_FILE: ${path} is not a regular file`,
    );
  });
});

describe('the CMS response cap', () => {
  it('is 16 MiB where no function memory is known (the CLI, local runs)', () => {
    expect(responseCap(undefined, 64)).toBe(16 * 1024 * 1024);
  });

  it('shares half of the function memory among the answers in flight', () => {
    // 128 MiB for 4 answers at 6 bytes of memory per byte read.
    expect(responseCap(256, 4)).toBe(Math.floor((128 * 1024 * 1024) / 24));
  });

  it('keeps CMS_CONCURRENCY answers at the cap inside the function memory, or refuses the setting', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 128, max: 10_240 }),
        fc.integer({ min: 1, max: 64 }),
        (memoryMb, concurrency) => {
          let cap: number;
          try {
            cap = responseCap(memoryMb, concurrency);
          } catch (error) {
            expect(error).toMatchObject({ variable: 'CMS_CONCURRENCY' });
            return;
          }
          expect(cap * concurrency * RESPONSE_MEMORY.bytesPerResponseByte).toBeLessThanOrEqual(
            memoryMb * 1024 * 1024 * RESPONSE_MEMORY.shareOfFunctionMemory,
          );
          expect(cap).toBeGreaterThanOrEqual(RESPONSE_MEMORY.minBytes);
        },
      ),
    );
  });

  it('is read from the function memory Lambda announces', () => {
    const settings = loadCmsSettings({
      ...base,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      CMS_CONCURRENCY: '8',
    });
    expect(settings.maxResponseBytes).toBe(Math.floor((512 * 1024 * 1024) / 48));
  });
});

describe('configuration messages', () => {
  /** A value an operator pasted by mistake: 3,000 characters. */
  const PASTED = `x${'y'.repeat(2_998)}z`;

  it.each([
    ['LOG_LEVEL', loadCollectorConfig],
    ['METRIC_NAMESPACE', loadCollectorConfig],
    ['METRICS_SINK', loadCollectorConfig],
    ['CMS_SIGNATURE', loadCmsSettings],
    ['SKILL_METRICS', loadCollectorConfig],
    ['SKILL_IDS', loadCollectorConfig],
    ['QUERY_CACHE_SECONDS', loadQueryConfig],
  ] as const)('quote at most the start of a long value of %s', (variable, load) => {
    const env = { CC_ID: '1', VDN: '170', SKILL_IDS: '1', ...base, [variable]: PASTED };
    const message = configError(() => load(env)).message;
    expect(message).toMatch(new RegExp(`^${variable}: `));
    // LOG_LEVEL is read in any case.
    expect(message).toMatch(/"xyyy/i);
    expect(message).not.toMatch(/yz/i);
    expect(message.length).toBeLessThan(400);
  });

  it('quote at most the start of a long skill list entry of CMS_TARGETS', () => {
    const targets = JSON.stringify([{ ccId: 1, vdn: 170, skillIds: PASTED }]);
    const message = configError(() => loadTargets({ CMS_TARGETS: targets })).message;
    expect(message).toMatch(/^CMS_TARGETS: \[0\]\.skillIds must be a skill list/);
    expect(message.length).toBeLessThan(400);
  });

  it("speak plain words for any CMS_TARGETS, never the schema library's", () => {
    const target = fc.record(
      { ccId: fc.jsonValue(), vdn: fc.jsonValue(), skillIds: fc.jsonValue(), extra: fc.jsonValue() },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.array(fc.oneof(target, fc.jsonValue())), fc.jsonValue()), (value) => {
        try {
          loadTargets({ CMS_TARGETS: JSON.stringify(value) });
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as Error).message).not.toMatch(
            /Expected|Received|Invalid (key|type)|never|undefined/,
          );
          expect((error as Error).message).toMatch(/^CMS_TARGETS: \S/);
        }
      }),
      { numRuns: 500 },
    );
  });
});

const oneTarget = { CC_ID: '1', VDN: '170', SKILL_IDS: '1-3' };

describe('secret settings', () => {
  it('requires CMS_SECRET_ID when the function builds its own CMS client', () => {
    expect(configError(() => createQueryHandler({ ...oneTarget, ...base })).variable).toBe('CMS_SECRET_ID');
  });

  it('caches for five minutes unless told otherwise', () => {
    expect(loadSecretSettings({ CMS_SECRET_ID: 'cms' })).toEqual({ secretId: 'cms', ttlMs: 300_000 });
    expect(loadSecretSettings({ CMS_SECRET_ID: 'cms', SECRET_TTL_SECONDS: '60' }).ttlMs).toBe(60_000);
  });
});

describe('targets', () => {
  it('reads one VDN from CC_ID, VDN and SKILL_IDS', () => {
    expect(loadTargets({ CC_ID: '1', VDN: '170', SKILL_IDS: '1-3,35' })).toEqual([
      { ccId: 1, vdn: 170, skillIds: [1, 2, 3, 35] },
    ]);
  });

  it('reads several VDNs from CMS_TARGETS, with lists or arrays of skills', () => {
    const env = {
      CMS_TARGETS: '[{"ccId":1,"vdn":170,"skillIds":"1-2"},{"ccId":1,"vdn":171,"skillIds":[9,3,3]}]',
    };
    expect(loadTargets(env)).toEqual([
      { ccId: 1, vdn: 170, skillIds: [1, 2] },
      { ccId: 1, vdn: 171, skillIds: [3, 9] },
    ]);
  });

  it.each([
    [{ VDN: '170', SKILL_IDS: '1' }, 'CC_ID', 'required'],
    [{ CC_ID: '1', SKILL_IDS: '1' }, 'VDN', 'required'],
    [{ CC_ID: '1', VDN: '170' }, 'SKILL_IDS', 'required'],
    [{ CC_ID: '0', VDN: '170', SKILL_IDS: '1' }, 'CC_ID', 'between 1 and 65535'],
    [{ CC_ID: '1', VDN: '5001', SKILL_IDS: '1' }, 'VDN', 'between 1 and 5000'],
    [{ CC_ID: '1', VDN: '170', SKILL_IDS: '1-x' }, 'SKILL_IDS', 'neither'],
    [{ CC_ID: '1', VDN: '170', SKILL_IDS: '0-3' }, 'SKILL_IDS', 'outside'],
    [{ CMS_TARGETS: '[{' }, 'CMS_TARGETS', 'not valid JSON'],
    [{ CMS_TARGETS: '[]' }, 'CMS_TARGETS', 'at least one'],
    [{ CMS_TARGETS: '[{"ccId":1,"vdn":0,"skillIds":"1"}]' }, 'CMS_TARGETS', '[0].vdn'],
    [{ CMS_TARGETS: '[{"ccId":1,"vdn":1,"skillIds":"1","x":1}]' }, 'CMS_TARGETS', 'x'],
    [{ CMS_TARGETS: '[{"ccId":1,"vdn":1,"skillIds":[]}]' }, 'CMS_TARGETS', '[0].skillIds'],
    [
      { CMS_TARGETS: '[{"ccId":1,"vdn":1,"skillIds":"1"},{"ccId":1,"vdn":1,"skillIds":"2"}]' },
      'CMS_TARGETS',
      'twice',
    ],
    [{ CMS_TARGETS: '[{"ccId":1,"vdn":1,"skillIds":"1"}]', VDN: '2' }, 'CMS_TARGETS', 'not both'],
  ])('names the variable and the problem for %j', (env, variable, reason) => {
    const error = configError(() => loadTargets(env));
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(reason);
  });

  it('names the field of a malformed target in schedule input', () => {
    expect(() =>
      parseTargets([
        { ccId: 1, vdn: 170, skillIds: '1-2' },
        { ccId: 'one', vdn: 1, skillIds: [1] },
      ]),
    ).toThrow(ValidationError);
    expect(() => parseTargets([{ ccId: 1, vdn: 170, skillIds: [1, 5001] }])).toThrow(
      'targets[0].skillIds[1]',
    );
  });
});

describe('enumerated settings', () => {
  it('falls back to the default and refuses values outside the choices', () => {
    expect(loadCollectorConfig(oneTarget).sink).toBe('cloudwatch');
    expect(() => loadCollectorConfig({ ...oneTarget, METRICS_SINK: 'kafka' })).toThrow(
      'METRICS_SINK: must be one of cloudwatch, emf, got "kafka"',
    );
  });

  it.each(['table', 'stdout'])('refuses %s, the terminal table only local runs have, saying so', (kind) => {
    expect(() => loadCollectorConfig({ ...oneTarget, METRICS_SINK: kind })).toThrow(
      `METRICS_SINK: "${kind}" prints a terminal table, which only local runs (npm start) have; use cloudwatch or emf`,
    );
  });

  it('read LOG_LEVEL in any case, INFO when unset', () => {
    expect(loadQueryConfig(oneTarget).logLevel).toBe('INFO');
    expect(loadQueryConfig({ ...oneTarget, LOG_LEVEL: 'warn' }).logLevel).toBe('WARN');
  });

  it('refuse an unknown LOG_LEVEL at start-up, naming the variable', () => {
    expect(configError(() => loadQueryConfig({ ...oneTarget, LOG_LEVEL: 'verbose' })).variable).toBe(
      'LOG_LEVEL',
    );
  });
});

describe('metric selections', () => {
  it('publish the two counters of the abandonment rate per skill and everything per VDN when unset or blank', () => {
    for (const blank of [undefined, '', '  ']) {
      const { selection } = loadCollectorConfig({ ...oneTarget, SKILL_METRICS: blank, VDN_METRICS: blank });
      expect([...selection.skill]).toEqual(DEFAULT_SKILL_METRICS);
      expect([...selection.vdn]).toEqual(
        [...COUNTERS, ...KPIS, ...LIVE_QUEUE_METRICS].map((metric) => metric.name),
      );
    }
  });

  const otlpOn = { OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

  it('publish per VDN only the roll-ups the stack reads back when OTLP_ENDPOINT is set and VDN_METRICS is unset or blank', () => {
    for (const blank of [undefined, '', '  ']) {
      const { selection } = loadCollectorConfig({ ...oneTarget, ...otlpOn, VDN_METRICS: blank });
      expect([...selection.vdn]).toEqual(STACK_VDN_METRICS);
    }
  });

  it('publish per VDN what an explicit VDN_METRICS says, OTLP_ENDPOINT set or not', () => {
    for (const otlp of [{}, otlpOn]) {
      expect([...loadCollectorConfig({ ...oneTarget, ...otlp, VDN_METRICS: 'all' }).selection.vdn]).toEqual(
        [...COUNTERS, ...KPIS, ...LIVE_QUEUE_METRICS].map((metric) => metric.name),
      );
      expect([
        ...loadCollectorConfig({ ...oneTarget, ...otlp, VDN_METRICS: 'IvrTalkTime' }).selection.vdn,
      ]).toEqual(['IvrTalkTime']);
    }
  });

  it('name the variable of an unknown metric', () => {
    const error = configError(() =>
      loadCollectorConfig({ ...oneTarget, VDN_METRICS: 'CallsOffered,CallsDropped' }),
    );
    expect(error.variable).toBe('VDN_METRICS');
    expect(error.message).toMatch(
      /^VDN_METRICS: "CallsDropped" is not a counter, KPI or live-queue metric name/,
    );
  });
});

describe('configuration objects', () => {
  it('are frozen, so that no invocation can change what the next one sees', () => {
    const config = loadCollectorConfig({ ...oneTarget, ...base });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.targets[0]?.skillIds)).toBe(true);
  });

  it('hold no CMS settings: a function handed a CMS client needs no CMS variable', () => {
    expect(loadQueryConfig(oneTarget)).not.toHaveProperty('cms');
    expect(() =>
      createQueryHandler(oneTarget, { cms: { callStats: async () => [] } as never }),
    ).not.toThrow();
  });
});
