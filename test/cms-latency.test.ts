/**
 * CmsLatency is CMS's latency: the time CMS took to answer, retries included, and never the time the client spent
 * reading its key pair from Secrets Manager. The real client against the simulator over TLS.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CmsClient } from '../lib/cms/client.js';
import type { CmsCredentials, CredentialSource } from '../lib/cms/credentials.js';
import { loadCmsSettings } from '../lib/config.js';
import { type CmsSimulator, startCmsSimulator } from '../local/simulator/index.js';

const OLD: CmsCredentials = { accessKey: 'latency-access-key', secretKey: 'latency-old-secret' };
const NEW: CmsCredentials = { accessKey: 'latency-access-key', secretKey: 'latency-new-secret' };
/** Far longer than any answer of the simulator on this machine. */
const SLOW_SECRET_MS = 800;

let sim: CmsSimulator;
beforeAll(async () => {
  sim = await startCmsSimulator(NEW);
});
afterAll(() => sim.close());

/** A Secrets Manager that takes SLOW_SECRET_MS to answer, first with `first`, after a refresh with NEW. */
function slowSecret(first: CmsCredentials): CredentialSource {
  return {
    current: async () => {
      await delay(SLOW_SECRET_MS);
      return first;
    },
    refresh: async () => {
      await delay(SLOW_SECRET_MS);
      return NEW;
    },
  };
}

async function read(credentials: CredentialSource) {
  const client = new CmsClient({
    ...loadCmsSettings({ CMS_BASE_URL: sim.url }),
    caCertificate: sim.caCertificate,
    credentials,
    random: () => 0,
  });
  try {
    return await client.currentCallStats(
      { ccId: 1, vdn: 170, skillIds: [1, 2] },
      { deadline: Date.now() + 20_000 },
    );
  } finally {
    client.close();
  }
}

describe('CmsLatency', () => {
  it('leaves out a slow first read of the key pair', async () => {
    const result = await read(slowSecret(NEW));
    expect(result.failures).toEqual([]);
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(result.latencyMs).toBeLessThan(SLOW_SECRET_MS);
  });

  it('leaves out a slow re-read of a rotated key pair after a 401, and keeps both requests to CMS', async () => {
    const result = await read(slowSecret(OLD));
    expect(result.failures).toEqual([]);
    expect(result.requests).toBe(2);
    expect(result.latencyMs).toBeLessThan(SLOW_SECRET_MS);
  });
});
