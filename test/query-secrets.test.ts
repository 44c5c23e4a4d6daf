/**
 * The secret key signs every CMS request, and the Authorization header carries the signature: neither may ever
 * reach an API answer or a log line, whatever CMS or the caller does.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statsPath } from '../lib/api/route.js';
import type { CredentialSource } from '../lib/cms/credentials.js';
import { staticCredentials } from '../lib/cms/credentials.js';
import { SecretError } from '../lib/errors.js';
import { createQueryHandler } from '../lib/lambda/query.js';
import type { Log } from '../lib/log.js';
import { type ApiServer, startApiServer } from '../local/api-server.js';
import { type CmsSimulator, type SimFault, startCmsSimulator } from '../local/simulator/index.js';

const ACCESS_KEY = 'secrets-test-access-key';
const SECRET_KEY = 'S3CRET-do-not-leak-0c4f9a';
const CALLER_TOKEN = 'caller-bearer-token-77d1';
const PATH = statsPath(1, 170);

let simulator: CmsSimulator;
let directory: string;
const written: string[] = [];

function recordingLog(): Log {
  const record = (message: unknown, ...extra: unknown[]) => {
    written.push(JSON.stringify([message, ...extra]));
  };
  return { debug: record, info: record, warn: record, error: record };
}

async function startApi(credentials: CredentialSource): Promise<ApiServer> {
  const caFile = join(directory, 'ca.pem');
  writeFileSync(caFile, simulator.caCertificate);
  const handler = createQueryHandler(
    {
      CMS_BASE_URL: simulator.url,
      CMS_CA_FILE: caFile,
      CC_ID: '1',
      VDN: '170',
      SKILL_IDS: '1-5',
      CMS_TIMEOUT_MS: '250',
      CMS_MAX_ATTEMPTS: '2',
      QUERY_CACHE_SECONDS: '0',
    },
    { credentials, log: recordingLog() },
  );
  return startApiServer({ handler });
}

/** Sends a request and keeps everything that came back, headers included. */
async function exchange(url: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${CALLER_TOKEN}`, ...(init.headers as Record<string, string>) },
  });
  const text = `${JSON.stringify([...response.headers])}\n${await response.text()}`;
  written.push(text);
  return { status: response.status, text };
}

beforeAll(async () => {
  simulator = await startCmsSimulator({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
  directory = mkdtempSync(join(tmpdir(), 'query-secrets-'));
});

afterAll(async () => {
  await simulator.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('secrets in answers and logs', () => {
  it('stay out of every answer and log line, whatever CMS and the caller do', async () => {
    const api = await startApi(staticCredentials({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }));
    try {
      const statuses: number[] = [];
      const get = async (query: string) =>
        statuses.push((await exchange(`${api.url}${PATH}${query}`)).status);

      await get('?skillIds=1-3');
      const faults: SimFault[] = [
        { kind: 'unauthorized' },
        { kind: 'status', status: 500 },
        { kind: 'status', status: 403 },
        { kind: 'malformedJson' },
        { kind: 'truncatedJson' },
        { kind: 'wrongTypes' },
        { kind: 'resultCode', code: '0100009', desc: 'signature check failed' },
        { kind: 'dropConnection' },
        { kind: 'resetMidResponse' },
        { kind: 'latency', ms: 1_000 },
      ];
      for (const fault of faults) {
        simulator.inject(fault, { times: 2 });
        await get('?skillIds=1');
        simulator.clearFaults();
      }
      // A rotated key on the CMS side: every signature this deployment makes is refused.
      simulator.setCredentials(ACCESS_KEY, 'a-rotated-secret-key');
      await get('?skillIds=2');
      simulator.setCredentials(ACCESS_KEY, SECRET_KEY);

      await get('?skillIds=nope');
      await exchange(`${api.url}${statsPath(1, 4000)}`);
      await exchange(`${api.url}${PATH}`, { method: 'PUT' });
      await exchange(`${api.url}/elsewhere`);
      await exchange(`${api.url}${PATH}`, {
        method: 'POST',
        body: `{"secretKey":"${SECRET_KEY}"}`,
        headers: { 'content-type': 'application/json' },
      });

      expect(statuses[0]).toBe(200);
      expect(statuses.slice(1, faults.length + 2).every((status) => status === 502 || status === 504)).toBe(
        true,
      );
      const everything = written.join('\n');
      expect(everything).not.toContain(SECRET_KEY.slice(0, 12));
      expect(everything).not.toContain('auth-v2');
      expect(everything).not.toContain(CALLER_TOKEN);
    } finally {
      await api.close();
    }
  });

  it('keep the detail of a credentials failure in the log, not in the answer', async () => {
    const detail = `secret prod/cms-key: field "secretKey" is missing (${SECRET_KEY.length} chars expected)`;
    const failing: CredentialSource = {
      current: () => Promise.reject(new SecretError(detail)),
      refresh: () => Promise.reject(new SecretError(detail)),
    };
    written.length = 0;
    const api = await startApi(failing);
    try {
      const { status, text } = await exchange(`${api.url}${PATH}`);
      expect(status).toBe(502);
      expect(text).not.toContain('prod/cms-key');
      expect(written.some((line) => line.includes('prod/cms-key'))).toBe(true);
    } finally {
      await api.close();
    }
  });
});
