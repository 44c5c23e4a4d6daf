import { describe, expect, it } from 'vitest';
import { loadQueryConfig } from '../lib/config.js';
import { ConfigError } from '../lib/errors.js';
import { checkFunctionSettings, scheduledTargets } from '../stack/settings.js';
import { resources } from '../stack/vdn-monitoring.js';
import { resolverOf, stageParams } from './support/stack-generator.js';

// Configurations packaging refuses before they reach a template: each would otherwise deploy and go wrong
// later, or write something into the template that must not be there.

const schedule = (name: string, targets: unknown[]) => ({
  schedule: { name, rate: ['rate(1 minute)'], input: { targets } },
});

describe('a VDN in two fleet schedules', () => {
  // Each run publishes the roll-up of the skills it read under the window's timestamp: two schedules with parts
  // of one VDN would publish two partial roll-ups there, and CloudWatch's Maximum would keep the larger part.
  const events = [
    schedule('cc1-a', [{ ccId: 1, vdn: 170, skillIds: '1-500' }]),
    schedule('cc1-b', [
      { ccId: 2, vdn: 9, skillIds: '1-5' },
      { ccId: 1, vdn: 170, skillIds: '501-1000' },
    ]),
  ];

  it('is refused, naming both schedules and entries', () => {
    expect(() => scheduledTargets(events)).toThrow(
      'collector schedule 2 (cc1-b) input.targets[1]: VDN 170 of call center 1 is in collector schedule 1 ' +
        '(cc1-a) input.targets[0] already: keep each VDN in one schedule',
    );
  });

  it('fails packaging', async () => {
    const resolver = resolverOf({
      ...stageParams({ ccId: '1', vdn: '170', skillIds: '1-20' }),
      'self:functions.0.collector.events': events,
    });
    await expect(resources(resolver)).rejects.toThrow(
      /^collector schedule 2 \(cc1-b\) input\.targets\[1\]: /,
    );
  });

  it('may still be both a target of the functions and of one schedule', () => {
    expect(scheduledTargets(events.slice(1))).toHaveLength(2);
  });
});

describe('a CMS address with credentials or without TLS', () => {
  const CREDENTIALS = 'https://admin:S3cr3t-pw@cms.example.internal:28443';

  it.each([
    [CREDENTIALS, 'cmsBaseUrl: must not carry credentials'],
    ['https://admin@cms.example.internal:28443', 'cmsBaseUrl: must not carry credentials'],
    ['http://cms.example.internal:28090', 'cmsBaseUrl: must be an https:// URL'],
  ])('%s is refused while packaging: %s', async (cmsBaseUrl, message) => {
    expect(() => checkFunctionSettings({ cmsBaseUrl })).toThrow(message);
    const resolver = resolverOf(stageParams({ ccId: '1', vdn: '170', skillIds: '1-20', cmsBaseUrl }));
    await expect(resources(resolver)).rejects.toThrow(message);
  });

  it('is never echoed, neither its password nor its user', async () => {
    const resolver = resolverOf(
      stageParams({ ccId: '1', vdn: '170', skillIds: '1-20', cmsBaseUrl: CREDENTIALS }),
    );
    const error = await resources(resolver).catch((thrown: unknown) => thrown as Error);
    expect(error).toBeInstanceOf(ConfigError);
    expect(`${error}${(error as Error).stack}`).not.toMatch(/S3cr3t|admin/);
  });

  it('is refused at cold start too, naming the variable and not the password', () => {
    const env = { CC_ID: '1', VDN: '170', SKILL_IDS: '1', CMS_BASE_URL: CREDENTIALS };
    expect(() => loadQueryConfig(env)).toThrow('CMS_BASE_URL: must not carry credentials');
    expect(() => loadQueryConfig({ ...env, CMS_BASE_URL: 'http://cms:28090' })).toThrow(
      'CMS_BASE_URL: must be an https:// URL',
    );
    try {
      loadQueryConfig(env);
    } catch (error) {
      expect(String(error)).not.toContain('S3cr3t');
    }
  });

  it('may be left empty while packaging: CloudFormation then refuses the stack', () => {
    expect(() => checkFunctionSettings({ cmsBaseUrl: '' })).not.toThrow();
  });
});

describe('a long value pasted into a stage parameter', () => {
  const PASTED = `x${'y'.repeat(2_998)}z`;

  it.each([
    ['abandonmentRateThreshold', { abandonmentRateThreshold: PASTED }],
    ['alarmVdns', { alarmVdns: PASTED }],
    ['metricNamespace', { metricNamespace: PASTED }],
    ['cmsSignature', { cmsSignature: PASTED }],
    ['skillIds', { skillIds: PASTED }],
  ])('is quoted by its start only when %s is refused', async (parameter, change) => {
    const resolver = resolverOf(stageParams({ ccId: '1', vdn: '170', skillIds: '1-20', ...change }));
    const message = await resources(resolver).then(
      () => '',
      (error: unknown) => (error as Error).message,
    );
    expect(message).toMatch(new RegExp(`^${parameter}: `));
    expect(message).toContain('"xyyy');
    expect(message).not.toContain('yz');
    expect(message.length).toBeLessThan(400);
  });

  it('is quoted by its start only when it names a fleet schedule', () => {
    const events = [schedule(PASTED, [{ ccId: 1, vdn: 0, skillIds: '1' }])];
    const message = (() => {
      try {
        scheduledTargets(events);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toMatch(/^collector schedule 1 \(xyyy/);
    expect(message.length).toBeLessThan(400);
  });
});
