/**
 * Certificates CC-CMS must not be trusted with, end to end: a CA the deployment was not given, and a certificate
 * for another host name. TLS verification stays on; the refusal is final (no retries) and says what to fix.
 * Both VDNs share one CMS address, so both fail together here.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { statsPath } from '../../lib/api/route.js';
import { createCollectorHandler } from '../../lib/lambda/collector.js';
import { createQueryHandler } from '../../lib/lambda/query.js';
import { startApiServer } from '../../local/api-server.js';
import { type CmsSimulator, startCmsSimulator } from '../../local/simulator/index.js';
import { createCertificateAuthority } from '../../local/tls.js';
import { type ConnectionCounter, countConnections } from '../support/connection-counter.js';
import { expectedVdn, failedVdnMismatches, healthyVdnMismatches } from '../support/expected-datums.js';
import {
  ACCESS_KEY,
  auditSecrets,
  type Bench,
  benchEnv,
  exchange,
  FAULTY,
  HEALTHY,
  invokeCollector,
  resetBench,
  SECRET_KEY,
  startBench,
} from './harness.js';

const CERTIFICATE_HOST = 'cms.example.internal';

let bench: Bench;
/** Serves a certificate for CERTIFICATE_HOST only, issued by its own CA. */
let misnamed: CmsSimulator;
let misnamedCaFile: string;
let strangerCaFile: string;
const relays: ConnectionCounter[] = [];

beforeAll(async () => {
  bench = await startBench();
  misnamed = await startCmsSimulator({
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    certificateHosts: [CERTIFICATE_HOST],
  });
  misnamedCaFile = join(bench.directory, 'misnamed-ca.pem');
  writeFileSync(misnamedCaFile, misnamed.caCertificate);
  strangerCaFile = join(bench.directory, 'stranger-ca.pem');
  writeFileSync(strangerCaFile, (await createCertificateAuthority('a CA CMS does not use')).certificate);
});

afterAll(async () => {
  await Promise.all([bench?.close(), misnamed?.close()]);
});

afterEach(async () => {
  resetBench(bench);
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
});

/** A connection-counting relay in front of a simulator, reached at 127.0.0.1. */
async function relayTo(simulator: CmsSimulator): Promise<ConnectionCounter> {
  const relay = await countConnections(simulator.url);
  relays.push(relay);
  return relay;
}

function env(baseUrl: string, caFile: string): Record<string, string> {
  return benchEnv(bench, {
    CMS_BASE_URL: baseUrl,
    CMS_CA_FILE: caFile,
    CMS_TIMEOUT_MS: '1000',
    CMS_MAX_ATTEMPTS: '3',
  });
}

const REFUSALS = [
  {
    case: 'a certificate from a CA the deployment was not given',
    setup: async () => ({ relay: await relayTo(bench.simulator), caFile: strangerCaFile }),
    message:
      /TLS certificate was refused: unknown certificate authority .*\[UNABLE_TO_VERIFY_LEAF_SIGNATURE\]/,
  },
  {
    case: `a certificate for ${CERTIFICATE_HOST} reached at 127.0.0.1`,
    setup: async () => ({ relay: await relayTo(misnamed), caFile: misnamedCaFile }),
    message: /TLS certificate was refused: host name mismatch \[ERR_TLS_CERT_ALTNAME_INVALID\]/,
  },
];

describe('collector', () => {
  it('collects through the counting relay when given the right CA (the relay is not what fails below)', async () => {
    const relay = await relayTo(bench.simulator);
    const run = await invokeCollector(bench, createCollectorHandler(env(relay.url, bench.caFile)));
    expect(run.summary.failures).toEqual([]);
    for (const target of [HEALTHY, FAULTY]) {
      expect(
        healthyVdnMismatches(run.received, expectedVdn(bench.simulator, target, bench.at), target),
      ).toEqual([]);
    }
  });

  it.each(REFUSALS)(
    'refuses $case once per batch and fails the run after publishing CollectionSuccess 0',
    async ({ setup, message }) => {
      const { relay, caFile } = await setup();
      const run = await invokeCollector(bench, createCollectorHandler(env(relay.url, caFile)));

      expect(run.thrown).toMatchObject({
        code: 'COLLECTION_FAILED',
        message: 'no target could be collected (1/170: CMS_NETWORK_ERROR; 1/171: CMS_NETWORK_ERROR)',
      });
      expect(run.summary.failures).toEqual([
        expect.objectContaining({
          vdn: HEALTHY.vdn,
          code: 'CMS_NETWORK_ERROR',
          message: expect.stringMatching(message),
        }),
        expect.objectContaining({
          vdn: FAULTY.vdn,
          code: 'CMS_NETWORK_ERROR',
          message: expect.stringMatching(message),
        }),
      ]);
      expect(failedVdnMismatches(run.received, HEALTHY)).toEqual([]);
      expect(failedVdnMismatches(run.received, FAULTY)).toEqual([]);
      // One batch per VDN and interface (counters, live queue), each refused at its one handshake: a
      // certificate is not retried.
      expect(run.summary.cmsRequests).toBe(4);
      expect(relay.connections).toBe(4);
    },
  );
});

describe('query API', () => {
  it.each(REFUSALS)(
    'answers 502 CMS_NETWORK_ERROR for $case, after one handshake',
    async ({ setup, message }) => {
      const { relay, caFile } = await setup();
      const server = await startApiServer({ handler: createQueryHandler(env(relay.url, caFile)) });
      try {
        const answer = await exchange(bench.evidence, `${server.url}${statsPath(FAULTY.ccId, FAULTY.vdn)}`);
        expect(answer.status).toBe(502);
        expect(answer.json).toEqual({
          error: {
            code: 'CMS_NETWORK_ERROR',
            message: expect.stringMatching(/^CC-CMS could not be reached; /),
            requestId: expect.any(String),
          },
        });
        // Neither the CMS address nor anything of the certificate reaches the caller; the log has it all.
        expect(answer.text).not.toMatch(/127\.0\.0\.1|:\d{4,5}\b|certificate|altname|cms\.example/i);
        const logged = bench.output
          .records()
          .filter((line) => line.message === 'query request')
          .at(-1);
        expect(logged).toMatchObject({
          requestId: (answer.json as { error: { requestId: string } }).error.requestId,
          error: { code: 'CMS_NETWORK_ERROR', message: expect.stringMatching(message) },
        });
        // One handshake per interface of the read (counters, live queue).
        expect(relay.connections).toBe(2);
      } finally {
        await server.close();
      }
    },
  );
});

describe('secrets', () => {
  // The audit drives the refusals itself, through both handlers, so that it has evidence of its own when it runs
  // alone; after the other tests of the file it reads theirs as well.
  it('never appear in a log line, a thrown error, an HTTP answer or a PutMetricData body', async () => {
    for (const { setup } of REFUSALS) {
      const { relay, caFile } = await setup();
      await invokeCollector(bench, createCollectorHandler(env(relay.url, caFile)));
      const server = await startApiServer({ handler: createQueryHandler(env(relay.url, caFile)) });
      try {
        await exchange(bench.evidence, `${server.url}${statsPath(FAULTY.ccId, FAULTY.vdn)}`);
      } finally {
        await server.close();
      }
    }
    const audit = auditSecrets(bench);
    expect(audit.loggerLines).toBeGreaterThan(0);
    expect(audit.secretServed).toBe(true);
    expect(audit.leaks).toEqual([]);
  });
});
