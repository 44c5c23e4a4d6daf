import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CmsClient, type CmsClientOptions, throwIfFailed } from '../lib/cms/client.js';
import type { CmsTime } from '../lib/cms/clock.js';
import { type CmsCredentials, type CredentialSource, staticCredentials } from '../lib/cms/credentials.js';
import { SIGNATURE_LAYOUT_NAMES } from '../lib/cms/sign.js';
import type { VdnRead } from '../lib/cms/vdn-read.js';
import { loadCmsSettings } from '../lib/config.js';
import {
  type AppError,
  CmsAuthError,
  CmsError,
  CmsHttpError,
  CmsIpLockedError,
  CmsNetworkError,
  CmsProtocolError,
  CmsResultError,
  CmsSigningPausedError,
  CmsTimeoutError,
  ValidationError,
} from '../lib/errors.js';
import { rollup } from '../lib/kpi.js';
import { COUNTERS, type Counters, type SkillStats } from '../lib/model.js';
import { alignedWindowStart } from '../lib/window.js';
import {
  type CmsSimulator,
  type CmsSimulatorOptions,
  type CmsSkillRecord,
  type SimFault,
  startCmsSimulator,
} from '../local/simulator/index.js';
import { createCertificateAuthority } from '../local/tls.js';
import { type ConnectionCounter, countConnections } from './support/connection-counter.js';

const KEYS: CmsCredentials = { accessKey: 'sim-access-key', secretKey: 'sim-secret-key' };
const ABSENT = [7, 1500, 2499];
const ALL_2500 = Array.from({ length: 2500 }, (_, index) => index + 1);

let sim: CmsSimulator;
const closables: Array<{ close(): unknown }> = [];

beforeAll(async () => {
  sim = await startCmsSimulator({ absentSkillIds: ABSENT });
});
afterAll(() => sim.close());
afterEach(async () => {
  sim.clearFaults();
  for (const closable of closables.splice(0)) await closable.close();
});

async function simulator(options: CmsSimulatorOptions): Promise<CmsSimulator> {
  const started = await startCmsSimulator(options);
  closables.push(started);
  return started;
}

/** A client of `target` with zero backoff jitter (retries are immediate) unless told otherwise. */
function client(overrides: Partial<CmsClientOptions> = {}, target: CmsSimulator = sim): CmsClient {
  const made = new CmsClient({
    ...loadCmsSettings({ CMS_BASE_URL: target.url }),
    caCertificate: target.caCertificate,
    credentials: staticCredentials(KEYS),
    requestTimeoutMs: 3_000,
    random: () => 0,
    ...overrides,
  });
  closables.push(made);
  return made;
}

/** CMS_REFUSAL_LIMIT as a client built from the environment has it. */
const REFUSAL_LIMIT = loadCmsSettings({ CMS_BASE_URL: 'https://cms.example' }).refusals.limit;

const inTenSeconds = (): { deadline: number } => ({ deadline: Date.now() + 10_000 });

/** Records of requests that reach the simulator while `action` runs. */
async function recorded<T>(target: CmsSimulator, action: () => Promise<T>) {
  const before = target.requests.length;
  const result = await action();
  return { result, requests: target.requests.slice(before) };
}

function expectedStats(record: CmsSkillRecord | undefined): SkillStats {
  if (!record) throw new Error('the simulator has no statistics for this skill');
  const counters = Object.fromEntries(COUNTERS.map((counter) => [counter.name, record[counter.cmsField]]));
  return {
    skillId: record.id,
    windowStart: alignedWindowStart(record.startTime),
    counters: counters as Counters,
  };
}

function onlyFailure(result: VdnRead): CmsError {
  expect(result.failures).toHaveLength(1);
  const [failure] = result.failures;
  if (!(failure?.error instanceof CmsError)) throw new Error('no CMS failure');
  return failure.error;
}

/** Credentials whose refresh() gives `refreshed` (a rotated secret), counting the refreshes. */
function rotatingCredentials(
  initial: CmsCredentials,
  refreshed: () => Promise<CmsCredentials>,
): CredentialSource & { refreshes: number } {
  const source = {
    refreshes: 0,
    current: () => Promise.resolve(initial),
    refresh: () => {
      source.refreshes += 1;
      return refreshed();
    },
  };
  return source;
}

/** A connection-counting relay in front of `target`, closed after the test. */
async function tcpProxy(target: CmsSimulator): Promise<ConnectionCounter> {
  const proxy = await countConnections(target.url);
  closables.push(proxy);
  return proxy;
}

describe('CmsClient against the CMS simulator', () => {
  describe('success', () => {
    it('returns the statistics the simulator served, sorted, for de-duplicated skills', async () => {
      const { result, requests } = await recorded(sim, () =>
        client().currentCallStats({ ccId: 1, vdn: 170, skillIds: [3, 1, 2, 2] }, inTenSeconds()),
      );
      const at = requests[0]?.at ?? 0;
      const skills = [1, 2, 3].map((id) => expectedStats(sim.statsAt(1, 170, id, at)));
      expect(result).toEqual({
        ccId: 1,
        vdn: 170,
        skillIds: [1, 2, 3],
        skills,
        total: rollup(skills),
        missingSkillIds: [],
        endedSkillIds: [],
        failures: [],
        latencyMs: expect.any(Number),
        requests: 1,
        clock: { cmsAt: expect.any(Number), localAt: expect.any(Number) },
      });
      expect(requests).toMatchObject([{ accessKey: KEYS.accessKey, ccId: 1, vdn: 170, skillIds: [1, 2, 3] }]);
    });

    it('reads CMS’s clock from the Date header of its answer, even when it runs 10 s ahead of ours', async () => {
      const ahead = await simulator({ now: () => Date.now() + 10_000 });
      const result = await client({}, ahead).currentCallStats(
        { ccId: 1, vdn: 170, skillIds: [1] },
        inTenSeconds(),
      );
      const clock = result.clock as CmsTime;
      const offset = clock.cmsAt - clock.localAt;
      // The header counts whole seconds: the reading is the middle of its second.
      expect(Math.abs(offset - 10_000)).toBeLessThanOrEqual(1_000);
    });

    it('splits 2,500 skills into 3 requests and merges them, reporting the skills CMS did not return', async () => {
      const { result, requests } = await recorded(sim, () =>
        client().currentCallStats({ ccId: 2, vdn: 9, skillIds: [...ALL_2500].reverse() }, inTenSeconds()),
      );
      expect(requests.map((request) => request.skillIds.length).sort((a, b) => b - a)).toEqual([
        1000, 1000, 500,
      ]);
      expect(result.requests).toBe(3);
      expect(result.failures).toEqual([]);
      expect(result.missingSkillIds).toEqual(ABSENT);
      expect(result.skills.map((stats) => stats.skillId)).toEqual(
        ALL_2500.filter((id) => !ABSENT.includes(id)),
      );
    });

    it('reads the legacy resultDatas of a CMS older than 8.14', async () => {
      const legacy = await simulator({ responseFields: 'resultDatas' });
      const { result, requests } = await recorded(legacy, () =>
        client({}, legacy).currentCallStats({ ccId: 1, vdn: 1, skillIds: [10, 11] }, inTenSeconds()),
      );
      const at = requests[0]?.at ?? 0;
      expect(result.skills).toEqual([10, 11].map((id) => expectedStats(legacy.statsAt(1, 1, id, at))));
    });

    it('ignores padding and unknown fields of a large but acceptable response', async () => {
      sim.inject({ kind: 'hugeResponse', bytes: 200_000 });
      const result = await client().currentCallStats({ ccId: 1, vdn: 1, skillIds: [1, 2] }, inTenSeconds());
      expect(result.failures).toEqual([]);
      expect(result.skills).toHaveLength(2);
    });

    it('trusts a CA bundle carried by the credentials secret', async () => {
      const result = await client({
        caCertificate: undefined,
        credentials: staticCredentials({ ...KEYS, caCertificate: sim.caCertificate }),
      }).currentCallStats({ ccId: 1, vdn: 1, skillIds: [1] }, inTenSeconds());
      expect(result.failures).toEqual([]);
    });

    it('keeps the path prefix of the base URL', async () => {
      const { result, requests } = await recorded(sim, () =>
        client({ baseUrl: `${sim.url}/cms/` }).currentCallStats(
          { ccId: 1, vdn: 1, skillIds: [1] },
          inTenSeconds(),
        ),
      );
      expect(onlyFailure(result)).toMatchObject({ status: 404, retryable: false });
      expect(requests).toMatchObject([{ status: 404 }]);
    });
  });

  describe('connections', () => {
    it('never has more requests in flight than maxConcurrency, across concurrent calls', async () => {
      sim.inject({ kind: 'latency', ms: 150 }, { times: Number.POSITIVE_INFINITY });
      const proxy = await tcpProxy(sim);
      const shared = client({ baseUrl: proxy.url, maxConcurrency: 2 });
      const { result: results, requests } = await recorded(sim, () =>
        Promise.all(
          [1, 2, 3].map((vdn) =>
            shared.currentCallStats({ ccId: 1, vdn, skillIds: ALL_2500 }, inTenSeconds()),
          ),
        ),
      );
      expect(results.flatMap((result) => result.failures)).toEqual([]);
      expect(requests).toHaveLength(9);
      // With two slots, request i+2 can only start once request i has had its 150 ms answer.
      const arrivals = requests.map((request) => request.at).sort((a, b) => a - b);
      for (let index = 0; index + 2 < arrivals.length; index += 1) {
        expect((arrivals[index + 2] ?? 0) - (arrivals[index] ?? 0)).toBeGreaterThanOrEqual(140);
      }
      expect(proxy.connections).toBeLessThanOrEqual(2);
    });

    it('reuses its keep-alive connection from one call to the next, until closed', async () => {
      const proxy = await tcpProxy(sim);
      const reused = client({ baseUrl: proxy.url });
      for (const vdn of [1, 2, 3]) {
        expect(
          (await reused.currentCallStats({ ccId: 1, vdn, skillIds: [1] }, inTenSeconds())).failures,
        ).toEqual([]);
      }
      expect(proxy.connections).toBe(1);
      reused.close();
      await reused.currentCallStats({ ccId: 1, vdn: 1, skillIds: [1] }, inTenSeconds());
      expect(proxy.connections).toBe(2);
    });
  });

  describe('faults', () => {
    const query = { ccId: 1, vdn: 1, skillIds: [1, 2, 3] };

    it('retries a request that outlives its timeout, and succeeds', async () => {
      sim.inject({ kind: 'latency', ms: 2_000 });
      const { result, requests } = await recorded(sim, () =>
        client({ requestTimeoutMs: 200 }).currentCallStats(query, inTenSeconds()),
      );
      expect(result.failures).toEqual([]);
      expect(result.requests).toBe(2);
      expect(result.latencyMs).toBeGreaterThanOrEqual(190);
      expect(requests.map((request) => request.fault)).toEqual(['latency', undefined]);
    });

    it('reports a timeout after maxAttempts slow answers', async () => {
      sim.inject({ kind: 'latency', ms: 2_000 }, { times: Number.POSITIVE_INFINITY });
      const result = await client({ requestTimeoutMs: 150, maxAttempts: 2 }).currentCallStats(
        query,
        inTenSeconds(),
      );
      expect(onlyFailure(result)).toBeInstanceOf(CmsTimeoutError);
      expect(result.requests).toBe(2);
    });

    it('retries a 5xx and succeeds', async () => {
      sim.inject({ kind: 'status', status: 503 });
      const result = await client().currentCallStats(query, inTenSeconds());
      expect(result.failures).toEqual([]);
      expect(result.requests).toBe(2);
    });

    it('gives up on a lasting 5xx after maxAttempts and reports the batch', async () => {
      sim.inject({ kind: 'status', status: 500 }, { times: Number.POSITIVE_INFINITY });
      const { result, requests } = await recorded(sim, () =>
        client().currentCallStats(query, inTenSeconds()),
      );
      const error = onlyFailure(result);
      expect(error).toBeInstanceOf(CmsHttpError);
      expect(error).toMatchObject({ status: 500 });
      expect(result.failures[0]?.skillIds).toEqual([1, 2, 3]);
      expect(result.skills).toEqual([]);
      expect(result.missingSkillIds).toEqual([]);
      expect(requests).toHaveLength(3);
    });

    it('does not retry a 4xx other than 401', async () => {
      sim.inject({ kind: 'status', status: 429 });
      const result = await client().currentCallStats(query, inTenSeconds());
      expect(onlyFailure(result)).toMatchObject({ status: 429, retryable: false });
      expect(result.requests).toBe(1);
    });

    it('reports a 401 in a pinned layout as an auth error after one refresh that changes nothing', async () => {
      sim.inject({ kind: 'unauthorized' }, { times: Number.POSITIVE_INFINITY });
      const credentials = rotatingCredentials(KEYS, () => Promise.resolve(KEYS));
      const result = await client({ credentials, signature: 'huawei-reference' }).currentCallStats(
        query,
        inTenSeconds(),
      );
      expect(onlyFailure(result)).toBeInstanceOf(CmsAuthError);
      expect(result.requests).toBe(1);
      expect(credentials.refreshes).toBe(1);
    });

    it('refreshes a rotated key pair once for all batches and retries them with it', async () => {
      const rotated = await simulator({});
      const fresh = { accessKey: 'rotated-access-key', secretKey: 'rotated-secret-key' };
      rotated.setCredentials(fresh.accessKey, fresh.secretKey);
      const credentials = rotatingCredentials(KEYS, () => Promise.resolve(fresh));
      const { result, requests } = await recorded(rotated, () =>
        client({ credentials }, rotated).currentCallStats(
          { ccId: 1, vdn: 1, skillIds: ALL_2500 },
          inTenSeconds(),
        ),
      );
      expect(result.failures).toEqual([]);
      expect(result.skills).toHaveLength(2500);
      expect(credentials.refreshes).toBe(1);
      const outcomes = requests.map((request) => `${request.status} ${request.accessKey}`).sort();
      // Until a signature is accepted one request is in flight at a time, so only the first batch is refused.
      expect(outcomes).toEqual([...Array(3).fill(`200 ${fresh.accessKey}`), `401 ${KEYS.accessKey}`]);
    });

    it('reports an auth error when the refreshed key pair is refused too', async () => {
      sim.inject({ kind: 'unauthorized' }, { times: Number.POSITIVE_INFINITY });
      const credentials = rotatingCredentials(KEYS, () => Promise.resolve({ ...KEYS, secretKey: 'another' }));
      const result = await client({ credentials, signature: 'huawei-reference' }).currentCallStats(
        query,
        inTenSeconds(),
      );
      expect(onlyFailure(result)).toBeInstanceOf(CmsAuthError);
      expect(result.requests).toBe(2);
      expect(credentials.refreshes).toBe(1);
    });

    it('reports an auth error caused by a failed refresh', async () => {
      sim.inject({ kind: 'unauthorized' });
      const trouble = new Error('the secret could not be read');
      const credentials = rotatingCredentials(KEYS, () => Promise.reject(trouble));
      const error = onlyFailure(await client({ credentials }).currentCallStats(query, inTenSeconds()));
      expect(error).toBeInstanceOf(CmsAuthError);
      expect(error.cause).toBe(trouble);
    });

    it.each<[string, SimFault]>([
      ['malformed JSON', { kind: 'malformedJson' }],
      ['truncated JSON', { kind: 'truncatedJson' }],
    ])('reports %s as a protocol error without retrying', async (_, fault) => {
      sim.inject(fault, { times: Number.POSITIVE_INFINITY });
      const result = await client().currentCallStats(query, inTenSeconds());
      expect(onlyFailure(result)).toBeInstanceOf(CmsProtocolError);
      expect(result.requests).toBe(1);
    });

    it('reports a failure result code with its text, without retrying', async () => {
      sim.inject(
        { kind: 'resultCode', code: '0100009', desc: 'system busy' },
        { times: Number.POSITIVE_INFINITY },
      );
      const result = await client().currentCallStats(query, inTenSeconds());
      expect(onlyFailure(result)).toMatchObject({ resultCode: '0100009', resultText: 'system busy' });
      expect(onlyFailure(result)).toBeInstanceOf(CmsResultError);
      expect(result.requests).toBe(1);
    });

    it.each<[string, SimFault]>([
      ['a dropped connection', { kind: 'dropConnection' }],
      ['a connection reset in the middle of the response', { kind: 'resetMidResponse' }],
    ])('retries %s and succeeds', async (_, fault) => {
      sim.inject(fault);
      const result = await client().currentCallStats(query, inTenSeconds());
      expect(result.failures).toEqual([]);
      expect(result.skills).toHaveLength(3);
      expect(result.requests).toBe(2);
    });

    it('reports a lasting connection drop as a retryable network error after maxAttempts', async () => {
      sim.inject({ kind: 'dropConnection' }, { times: Number.POSITIVE_INFINITY });
      const result = await client().currentCallStats(query, inTenSeconds());
      expect(onlyFailure(result)).toBeInstanceOf(CmsNetworkError);
      expect(onlyFailure(result).retryable).toBe(true);
      expect(result.requests).toBe(3);
    });

    it('names the skill and the CMS field of a counter of the wrong type', async () => {
      sim.inject({ kind: 'wrongTypes' });
      const error = onlyFailure(await client().currentCallStats(query, inTenSeconds()));
      expect(error).toBeInstanceOf(CmsProtocolError);
      expect(error.message).toMatch(/^skill 1: allCallCount is "n\/a", expected a non-negative integer$/);
    });

    it('refuses a response larger than maxResponseBytes, without retrying', async () => {
      sim.inject({ kind: 'hugeResponse', bytes: 300_000 }, { times: Number.POSITIVE_INFINITY });
      const result = await client({ maxResponseBytes: 100_000 }).currentCallStats(query, inTenSeconds());
      expect(onlyFailure(result)).toBeInstanceOf(CmsProtocolError);
      expect(onlyFailure(result).message).toContain('more than 100000 bytes');
      expect(result.requests).toBe(1);
    });

    it('reports only the failed batch, keeps the others, and throwIfFailed raises its error', async () => {
      sim.inject(
        { kind: 'status', status: 500 },
        { times: Number.POSITIVE_INFINITY, when: (request) => request.skillIds.includes(1001) },
      );
      const result = await client().currentCallStats({ ccId: 3, vdn: 3, skillIds: ALL_2500 }, inTenSeconds());
      expect(result.failures.map((failure) => [failure.skillIds[0], failure.skillIds.length])).toEqual([
        [1001, 1000],
      ]);
      expect(result.skills).toHaveLength(1500 - 2);
      expect(result.missingSkillIds).toEqual([7, 2499]);
      expect(() => throwIfFailed(result)).toThrow(result.failures[0]?.error);
    });
  });

  describe('signature layouts', () => {
    const everything = { ccId: 1, vdn: 1, skillIds: ALL_2500 };

    function layoutLog() {
      const lines: { level: string; message: string; fields: unknown }[] = [];
      return {
        lines,
        log: {
          debug: (message: string, fields: unknown) => lines.push({ level: 'debug', message, fields }),
          warn: (message: string, fields: unknown) => lines.push({ level: 'warn', message, fields }),
        },
      };
    }

    it.each(SIGNATURE_LAYOUT_NAMES.map((layout, position) => [layout, position] as const))(
      'finds layout %s with auto after %i refused signatures, and keeps it',
      async (layout, refusalsNeeded) => {
        const strict = await simulator({ signatureLayout: layout, absentSkillIds: ABSENT });
        const { lines, log } = layoutLog();
        const negotiating = client({ log }, strict);
        // Three batches and a second VDN at once: they wait for the first answer instead of probing on their own.
        const [first, second] = await Promise.all([
          negotiating.currentCallStats(everything, inTenSeconds()),
          negotiating.currentCallStats({ ccId: 1, vdn: 2, skillIds: [1, 2, 3] }, inTenSeconds()),
        ]);
        expect(first.failures).toEqual([]);
        expect(second.failures).toEqual([]);
        expect(first.skills).toHaveLength(2500 - ABSENT.length);
        expect(strict.refusedSignatures).toBe(refusalsNeeded);
        const later = await negotiating.currentCallStats(everything, inTenSeconds());
        expect(later.requests).toBe(3);
        expect(strict.refusedSignatures).toBe(refusalsNeeded);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({
          level: refusalsNeeded === 0 ? 'debug' : 'warn',
          fields: { signatureLayout: layout, pin: `CMS_SIGNATURE=${layout}` },
        });
        expect(lines[0]?.message).toContain(layout);
      },
    );

    it('signs in a pinned layout without any probing', async () => {
      const strict = await simulator({ signatureLayout: 'huawei-reference-millis' });
      const result = await client({ signature: 'huawei-reference-millis' }, strict).currentCallStats(
        everything,
        inTenSeconds(),
      );
      expect(result.failures).toEqual([]);
      expect(strict.refusedSignatures).toBe(0);
    });

    it('fails clearly in a wrong pinned layout after one refused signature, without trying another', async () => {
      const strict = await simulator({ signatureLayout: 'empty-query-line' });
      const { result, requests } = await recorded(strict, () =>
        client({ signature: 'huawei-reference' }, strict).currentCallStats(everything, inTenSeconds()),
      );
      expect(result.skills).toEqual([]);
      expect(result.failures.map((failure) => failure.error.message)).toEqual(
        Array(3).fill(expect.stringContaining('CMS_SIGNATURE=huawei-reference')),
      );
      expect(requests.map((request) => request.status)).toEqual([401]);
    });

    it('stops at CMS_REFUSAL_LIMIT refused signatures, whatever the number of calls, and says when it signs again', async () => {
      const strict = await simulator({ signatureLayout: 'empty-query-line' });
      const wrongKey = client({ credentials: staticCredentials({ ...KEYS, secretKey: 'wrong' }) }, strict);
      const results = await Promise.all(
        [1, 2, 3, 4, 5].map((vdn) =>
          wrongKey.currentCallStats({ ccId: 1, vdn, skillIds: ALL_2500 }, inTenSeconds()),
        ),
      );
      const again = await wrongKey.currentCallStats(everything, inTenSeconds());
      expect(strict.refusedSignatures).toBe(REFUSAL_LIMIT);
      expect(strict.requests).toHaveLength(REFUSAL_LIMIT);
      for (const result of results) {
        expect(result.skills).toEqual([]);
        for (const failure of result.failures)
          expect(failure.error).toMatchObject({
            code: expect.stringMatching(/CMS_UNAUTHORIZED|CMS_SIGNING_PAUSED/),
          });
      }
      expect(again.requests).toBe(0);
      expect(again.failures[0]?.error).toBeInstanceOf(CmsSigningPausedError);
      expect(again.failures[0]?.error.message).toMatch(/in every layout .* nothing is signed until \d{4}-/);
    });

    it('spends nothing of the budget on requests that could not reach CMS', async () => {
      const closed = createServer();
      closed.listen(0, '127.0.0.1');
      await once(closed, 'listening');
      const { port } = closed.address() as AddressInfo;
      await new Promise((resolve) => closed.close(resolve));
      const unreachable = client({ baseUrl: `https://127.0.0.1:${port}` });
      const codes: string[] = [];
      for (let call = 0; call < REFUSAL_LIMIT; call += 1) {
        const result = await unreachable.currentCallStats({ ccId: 1, vdn: 1, skillIds: [1] }, inTenSeconds());
        expect(result.requests).toBe(3);
        codes.push(...result.failures.map((failure) => (failure.error as AppError).code));
      }
      expect(codes).toEqual(Array(REFUSAL_LIMIT).fill('CMS_NETWORK_ERROR'));
    });

    it('spends nothing of the budget on statuses that are no refusal, such as a proxy’s 503', async () => {
      sim.inject({ kind: 'status', status: 503 }, { times: Number.POSITIVE_INFINITY });
      const busy = client();
      for (let call = 0; call < REFUSAL_LIMIT; call += 1) {
        const result = await busy.currentCallStats({ ccId: 1, vdn: 1, skillIds: [1] }, inTenSeconds());
        expect(result.failures.map((failure) => (failure.error as AppError).code)).toEqual([
          'CMS_HTTP_ERROR',
        ]);
      }
    });

    it('counts the 401 of a rotated key pair towards the same bound', async () => {
      const rotated = await simulator({});
      const fresh = { accessKey: 'rotated-access-key', secretKey: 'rotated-secret-key' };
      const credentials = rotatingCredentials(KEYS, () => Promise.resolve(fresh));
      const rotating = client({ credentials }, rotated);
      await rotating.currentCallStats(everything, inTenSeconds());
      rotated.setCredentials(fresh.accessKey, fresh.secretKey);
      const result = await rotating.currentCallStats(everything, inTenSeconds());
      expect(result.failures).toEqual([]);
      expect(rotated.refusedSignatures).toBeGreaterThanOrEqual(1);
      expect(rotated.refusedSignatures).toBeLessThanOrEqual(REFUSAL_LIMIT);
    });
  });

  describe('IP lock', () => {
    const query = { ccId: 1, vdn: 1, skillIds: [1, 2, 3] };

    it('reports HTTP 403 as an IP lock, never retries it and sends no other batch of the call', async () => {
      const locking = await simulator({ lockAfterRefusals: 1 });
      await client(
        { credentials: staticCredentials({ ...KEYS, secretKey: 'wrong' }) },
        locking,
      ).currentCallStats(query, inTenSeconds());
      const { result, requests } = await recorded(locking, () =>
        client({}, locking).currentCallStats({ ccId: 1, vdn: 1, skillIds: ALL_2500 }, inTenSeconds()),
      );
      expect(requests.map((request) => request.status)).toEqual([403]);
      expect(result.failures).toHaveLength(3);
      for (const failure of result.failures) {
        expect(failure.error).toBeInstanceOf(CmsIpLockedError);
        expect((failure.error as CmsError).retryable).toBe(false);
        expect(failure.error.message).toMatch(/locked this client's IP address/);
      }
    });

    it('passes an IP lock found by another call on to this call’s batches', async () => {
      const controller = new AbortController();
      controller.abort(new CmsIpLockedError());
      const { result, requests } = await recorded(sim, () =>
        client().currentCallStats(query, { ...inTenSeconds(), signal: controller.signal }),
      );
      expect(requests).toEqual([]);
      expect(onlyFailure(result)).toBeInstanceOf(CmsIpLockedError);
    });
  });

  describe('time', () => {
    const query = { ccId: 1, vdn: 1, skillIds: [1] };

    it('gives up at the deadline even when the request timeout is longer', async () => {
      sim.inject({ kind: 'latency', ms: 5_000 }, { times: Number.POSITIVE_INFINITY });
      const started = Date.now();
      const result = await client({ requestTimeoutMs: 5_000 }).currentCallStats(query, {
        deadline: started + 300,
      });
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(onlyFailure(result)).toBeInstanceOf(CmsTimeoutError);
      expect(onlyFailure(result).message).toContain('deadline');
      expect(result.requests).toBe(1);
    });

    it('sends nothing when the deadline has already passed', async () => {
      const { result, requests } = await recorded(sim, () =>
        client().currentCallStats({ ccId: 1, vdn: 1, skillIds: ALL_2500 }, { deadline: Date.now() - 1 }),
      );
      expect(result.failures).toHaveLength(3);
      expect(result.failures.every((failure) => failure.error instanceof CmsTimeoutError)).toBe(true);
      expect(result.requests).toBe(0);
      expect(requests).toEqual([]);
    });

    it('does not sleep a backoff that would end past the deadline', async () => {
      sim.inject({ kind: 'status', status: 503 }, { times: Number.POSITIVE_INFINITY });
      const deadline = Date.now() + 3_000;
      const result = await client({ random: () => 0.999, maxAttempts: 10 }).currentCallStats(query, {
        deadline,
      });
      // Backoffs of ~100, 200, 400 and 800 ms fit before the deadline; the next (~1.6 s) would end past it and is
      // not slept, so the call ends about 1.5 s before the deadline. Had it slept, the deadline would have ended it.
      expect(Date.now()).toBeLessThan(deadline);
      expect(onlyFailure(result)).toBeInstanceOf(CmsHttpError);
      expect(result.requests).toBeGreaterThanOrEqual(2);
      expect(result.requests).toBeLessThan(10);
    });

    it('stops when the caller aborts', async () => {
      sim.inject({ kind: 'latency', ms: 5_000 }, { times: Number.POSITIVE_INFINITY });
      const result = await client().currentCallStats(query, {
        ...inTenSeconds(),
        signal: AbortSignal.timeout(100),
      });
      expect(onlyFailure(result)).toBeInstanceOf(CmsTimeoutError);
      expect(onlyFailure(result).message).toContain('cancelled');
    });

    it('signs every attempt afresh with the injected clock', async () => {
      let clock = Date.now();
      const strict = await simulator({ now: () => clock, maxClockSkewMs: 1_000 });
      strict.inject({ kind: 'status', status: 503 });
      // The clock jumps ten minutes between the attempts: a reused signature would be refused as skewed.
      const jumpy = client(
        {
          now: () => clock,
          random: () => {
            clock += 600_000;
            return 0;
          },
        },
        strict,
      );
      const { result, requests } = await recorded(strict, () =>
        jumpy.currentCallStats(query, inTenSeconds()),
      );
      expect(result.failures).toEqual([]);
      expect(requests.map((request) => request.status)).toEqual([503, 200]);
    });

    it('is refused when its clock is far from the server clock', async () => {
      const skewed = client({ now: () => Date.now() - 20 * 60_000 });
      const error = onlyFailure(await skewed.currentCallStats(query, inTenSeconds()));
      expect(error).toBeInstanceOf(CmsSigningPausedError);
      expect(error.message).toMatch(/in every layout .*the clock is off/);
    });
  });

  describe('TLS', () => {
    const query = { ccId: 1, vdn: 1, skillIds: [1] };

    it('refuses a server whose CA it does not know, and does not retry', async () => {
      const stranger = await createCertificateAuthority('some other CA');
      const { result, requests } = await recorded(sim, () =>
        client({ caCertificate: stranger.certificate }).currentCallStats(query, inTenSeconds()),
      );
      const error = onlyFailure(result);
      expect(error).toBeInstanceOf(CmsNetworkError);
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('certificate was refused: unknown certificate authority');
      expect(result.requests).toBe(1);
      expect(requests).toEqual([]);
    });

    it('refuses a certificate issued for another host name', async () => {
      const elsewhere = await simulator({ certificateHosts: ['cms.example.test'] });
      const error = onlyFailure(await client({}, elsewhere).currentCallStats(query, inTenSeconds()));
      expect(error).toBeInstanceOf(CmsNetworkError);
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('certificate was refused: host name mismatch');
    });

    it('refuses a private CA that is not configured anywhere', async () => {
      const error = onlyFailure(
        await client({ caCertificate: undefined }).currentCallStats(query, inTenSeconds()),
      );
      expect(error.message).toContain('certificate was refused');
    });
  });

  describe('input', () => {
    it('throws a ValidationError before sending anything', async () => {
      const { requests } = await recorded(sim, async () => {
        await expect(
          client().currentCallStats({ ccId: 1, vdn: 1, skillIds: [1, 5001] }, inTenSeconds()),
        ).rejects.toMatchObject({ field: 'skillIds[1]' });
        await expect(
          client().currentCallStats({ ccId: 1, vdn: 1, skillIds: [1] }, { deadline: Number.NaN }),
        ).rejects.toThrow(ValidationError);
      });
      expect(requests).toEqual([]);
    });

    it('reports an access key that cannot go into a header as a final failure, without sending it', async () => {
      const { result, requests } = await recorded(sim, () =>
        client({ credentials: staticCredentials({ accessKey: 'ключ', secretKey: 'x' }) }).currentCallStats(
          { ccId: 1, vdn: 1, skillIds: [1] },
          inTenSeconds(),
        ),
      );
      const error = onlyFailure(result);
      expect(error).toBeInstanceOf(CmsNetworkError);
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('could not be sent [ERR_INVALID_CHAR]');
      expect(requests).toEqual([]);
    });
  });

  describe('secrets', () => {
    const SECRET = 'S3cr3t-Key-Must-Never-Show-9f8e7d';
    const ROTATED_SECRET = 'R0tated-S3cret-Never-Show-1a2b3c';

    /** JSON of a value whose objects may be circular (a TLS error's cause carries the peer certificate chain). */
    function json(value: unknown): string {
      const seen = new WeakSet<object>();
      return JSON.stringify(value, (_, field: unknown) => {
        if (typeof field !== 'object' || field === null) return field;
        if (seen.has(field)) return '[circular]';
        seen.add(field);
        return field;
      });
    }

    /** Everything an error could reveal: message, stack, own fields, cause chain, as logged or serialised. */
    function exposure(error: unknown): string {
      const parts: string[] = [];
      for (let current: unknown = error, depth = 0; current !== undefined && depth < 5; depth += 1) {
        if (current instanceof Error) {
          parts.push(String(current), current.message, current.stack ?? '', json(current));
          current = current.cause;
        } else {
          parts.push(String(current));
          current = undefined;
        }
      }
      parts.push(inspect(error, { depth: 6, showHidden: true }));
      return parts.join('\n');
    }

    it('never puts the secret key or the Authorization value in an error or a result', async () => {
      const guarded = await simulator({ accessKey: 'guarded-ak', secretKey: SECRET });
      const keys = { accessKey: 'guarded-ak', secretKey: SECRET };
      const stranger = await createCertificateAuthority('unknown CA');
      const elsewhere = await simulator({
        accessKey: 'guarded-ak',
        secretKey: SECRET,
        certificateHosts: ['x.test'],
      });
      const faults: SimFault[] = [
        { kind: 'latency', ms: 2_000 },
        { kind: 'status', status: 500 },
        { kind: 'unauthorized' },
        { kind: 'malformedJson' },
        { kind: 'truncatedJson' },
        { kind: 'resultCode', code: '0100001', desc: 'bad request' },
        { kind: 'dropConnection' },
        { kind: 'resetMidResponse' },
        { kind: 'wrongTypes' },
        { kind: 'hugeResponse', bytes: 50_000 },
      ];
      const results: VdnRead[] = [];
      const options = { maxAttempts: 2, requestTimeoutMs: 150, maxResponseBytes: 20_000 };
      for (const fault of faults) {
        guarded.clearFaults();
        guarded.inject(fault, { times: Number.POSITIVE_INFINITY });
        results.push(
          await client({ ...options, credentials: staticCredentials(keys) }, guarded).currentCallStats(
            { ccId: 1, vdn: 1, skillIds: [1, 2] },
            inTenSeconds(),
          ),
        );
      }
      guarded.clearFaults();
      const wrongThenRotated = rotatingCredentials({ ...keys, secretKey: ROTATED_SECRET }, () =>
        Promise.resolve({ ...keys, secretKey: `${ROTATED_SECRET}-2` }),
      );
      results.push(
        await client({ credentials: wrongThenRotated }, guarded).currentCallStats(
          { ccId: 1, vdn: 1, skillIds: [1] },
          inTenSeconds(),
        ),
        await client(
          { caCertificate: stranger.certificate, credentials: staticCredentials(keys) },
          guarded,
        ).currentCallStats({ ccId: 1, vdn: 1, skillIds: [1] }, inTenSeconds()),
        await client({ credentials: staticCredentials(keys) }, elsewhere).currentCallStats(
          { ccId: 1, vdn: 1, skillIds: [1] },
          inTenSeconds(),
        ),
      );

      const errors = results.flatMap((result) => result.failures.map((failure) => failure.error));
      expect(errors).toHaveLength(faults.length + 3);
      const revealed = [...errors.map(exposure), json(results), inspect(results, { depth: 8 })].join('\n');
      expect(revealed).not.toContain(SECRET);
      expect(revealed).not.toContain(ROTATED_SECRET);
      expect(revealed).not.toMatch(/auth-v2/i);
      expect(revealed).not.toMatch(/authorization/i);
    });
  });
});
