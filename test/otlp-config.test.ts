import { describe, expect, it } from 'vitest';
import { createCollectorHandler, loadCollectorConfig } from '../lib/lambda/collector.js';
import { DEFAULT_SKILL_METRICS } from '../lib/metrics/build-datums.js';
import { configError } from './support/config-error.js';

const oneTarget = { CC_ID: '1', VDN: '170', SKILL_IDS: '1-20', CMS_BASE_URL: 'https://10.0.0.5:28443' };

const otlpOf = (env: Record<string, string>) => loadCollectorConfig({ ...oneTarget, ...env }).otlp;

describe('OTLP_ENDPOINT', () => {
  it('leaves the export off when unset or blank', () => {
    expect(otlpOf({})).toBeUndefined();
    expect(otlpOf({ OTLP_ENDPOINT: '  ' })).toBeUndefined();
  });

  it("signs CloudWatch's endpoint with SigV4 for its Region, adding the metrics path when the URL has none", () => {
    expect(otlpOf({ OTLP_ENDPOINT: 'https://monitoring.eu-west-1.amazonaws.com' })).toEqual({
      endpoint: 'https://monitoring.eu-west-1.amazonaws.com/v1/metrics',
      auth: 'sigv4',
      region: 'eu-west-1',
      datapoints: 'window-totals',
    });
  });

  it('sends to any other https endpoint unsigned, with the path it was given', () => {
    expect(otlpOf({ OTLP_ENDPOINT: 'https://otlp.example.net:4318/otlp/v1/metrics' })).toEqual({
      endpoint: 'https://otlp.example.net:4318/otlp/v1/metrics',
      auth: 'none',
      region: undefined,
      datapoints: 'window-totals',
    });
  });

  it.each([
    'http://127.0.0.1:4318',
    'http://127.3.2.1:4318/v1/metrics',
    'http://localhost:4318',
    'http://[::1]:4318',
  ])('accepts plain http to the loopback host of %s', (endpoint) => {
    expect(otlpOf({ OTLP_ENDPOINT: endpoint })?.auth).toBe('none');
  });

  it.each(['http://10.0.0.9:4318', 'http://collector.internal:4318', 'http://127.0.0.1.nip.io:4318'])(
    'refuses plain http to %s at cold start, naming the variable',
    (endpoint) => {
      const error = configError(() => createCollectorHandler({ ...oneTarget, OTLP_ENDPOINT: endpoint }));
      expect(error.variable).toBe('OTLP_ENDPOINT');
      expect(error.message).toMatch(
        /^OTLP_ENDPOINT: must be an https:\/\/ URL; http:\/\/ is only accepted to a loopback host/,
      );
    },
  );

  it('refuses credentials in the URL without repeating them', () => {
    const error = configError(() => otlpOf({ OTLP_ENDPOINT: 'https://user:s3cret@otlp.example.net' }));
    expect(error.message).toBe('OTLP_ENDPOINT: must not carry credentials, a query or a fragment');
  });

  it('refuses what is not a URL, or another scheme', () => {
    expect(configError(() => otlpOf({ OTLP_ENDPOINT: 'monitoring.us-east-1.amazonaws.com' })).variable).toBe(
      'OTLP_ENDPOINT',
    );
    expect(configError(() => otlpOf({ OTLP_ENDPOINT: 'ftp://127.0.0.1/x' })).message).toBe(
      'OTLP_ENDPOINT: must be an https:// URL',
    );
  });
});

describe('OTLP_AUTH', () => {
  it('wins over the default of the host', () => {
    expect(
      otlpOf({ OTLP_ENDPOINT: 'https://monitoring.us-east-1.amazonaws.com', OTLP_AUTH: 'none' })?.auth,
    ).toBe('none');
    expect(otlpOf({ OTLP_ENDPOINT: 'https://vpce-1.monitoring.example', OTLP_AUTH: 'sigv4' })?.auth).toBe(
      'sigv4',
    );
  });

  it('names itself when it is neither sigv4 nor none, or set without an endpoint', () => {
    const endpoint = 'https://monitoring.us-east-1.amazonaws.com';
    expect(configError(() => otlpOf({ OTLP_ENDPOINT: endpoint, OTLP_AUTH: 'bearer' })).message).toBe(
      'OTLP_AUTH: must be one of sigv4, none, got "bearer"',
    );
    expect(configError(() => otlpOf({ OTLP_AUTH: 'sigv4' })).message).toBe(
      'OTLP_AUTH: is set but OTLP_ENDPOINT is not',
    );
  });
});

describe('OTLP_DATAPOINTS', () => {
  const endpoint = { OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

  it("sends each window's totals unless told to send every read", () => {
    expect(otlpOf(endpoint)?.datapoints).toBe('window-totals');
    expect(otlpOf({ ...endpoint, OTLP_DATAPOINTS: 'every-read' })?.datapoints).toBe('every-read');
  });

  it('names itself when it is not one of the two, or set without an endpoint', () => {
    expect(configError(() => otlpOf({ ...endpoint, OTLP_DATAPOINTS: 'all' })).message).toBe(
      'OTLP_DATAPOINTS: must be one of window-totals, every-read, got "all"',
    );
    expect(configError(() => otlpOf({ OTLP_DATAPOINTS: 'every-read' })).message).toBe(
      'OTLP_DATAPOINTS: is set but OTLP_ENDPOINT is not',
    );
  });
});

describe('per-skill classic metrics with OTLP on', () => {
  const endpoint = { OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

  it('are none by default: every counter of every skill goes to OTLP', () => {
    const { selection } = loadCollectorConfig({ ...oneTarget, ...endpoint });
    expect([...selection.skill]).toEqual([]);
  });

  it('are what an explicit SKILL_METRICS says', () => {
    const { selection } = loadCollectorConfig({ ...oneTarget, ...endpoint, SKILL_METRICS: 'CallsOffered' });
    expect([...selection.skill]).toEqual(['CallsOffered']);
  });

  it('keep their usual default with OTLP off', () => {
    expect([...loadCollectorConfig(oneTarget).selection.skill]).toEqual(DEFAULT_SKILL_METRICS);
  });
});
