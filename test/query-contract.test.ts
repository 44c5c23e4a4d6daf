/**
 * The query API's contract, end to end: real HTTP into the local API Gateway stand-in, the real handler and CMS
 * client, and the CMS simulator over TLS with its own private CA.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STATS_ROUTE_KEYS, statsPath } from '../lib/api/route.js';
import { staticCredentials } from '../lib/cms/credentials.js';
import { ConfigError, SecretError } from '../lib/errors.js';
import { createQueryHandler, type QueryHandlerDeps } from '../lib/lambda/query.js';
import type { Log } from '../lib/log.js';
import { httpApiEvent, lambdaContext, startApiServer } from '../local/api-server.js';
import { type CmsSimulator, type SimEndpoint, startCmsSimulator } from '../local/simulator/index.js';
import { startWorld, type World } from './support/world.js';

const ACCESS_KEY = 'contract-access-key';
const SECRET_KEY = 'contract-secret-key-5b1e';
const TARGETS = [
  { ccId: 1, vdn: 170, skillIds: '1-8' },
  { ccId: 1, vdn: 171, skillIds: '20-22' },
];
const PATH = statsPath(1, 170);

let world: World;
let simulator: CmsSimulator;
let caFile: string;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  // Skill 8 exists nowhere, so answers show how a missing skill is reported.
  world = await startWorld({
    keys: { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
    simulator: { absentSkillIds: [8] },
  });
  ({ simulator, caFile } = world);
});

afterEach(async () => {
  simulator.clearFaults();
  await Promise.all(closers.splice(0).map((close) => close()));
});

afterAll(async () => {
  await world?.close();
});

interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

function recordingLog(lines: LogLine[]): Log {
  const record =
    (level: string) =>
    (message: unknown, ...extra: unknown[]) => {
      lines.push({ level, message: String(message), fields: Object.assign({}, ...(extra as object[])) });
    };
  // DEBUG lines (which signature layout CMS accepted) are not part of the per-request contract.
  return { debug: () => {}, info: record('info'), warn: record('warn'), error: record('error') };
}

interface Api {
  readonly url: string;
  readonly lines: LogLine[];
  /** Moves the clock of the answer cache. */
  advance(ms: number): void;
  /** GET of a VDN's statistics (1/170 unless another path is given). */
  get(query?: string, path?: string): Promise<Response>;
  post(body: string, headers?: Record<string, string>, path?: string): Promise<Response>;
}

async function startApi(overrides: Record<string, string> = {}, deps: QueryHandlerDeps = {}): Promise<Api> {
  const env = {
    CMS_BASE_URL: simulator.url,
    CMS_CA_FILE: caFile,
    CMS_TARGETS: JSON.stringify(TARGETS),
    CMS_MAX_ATTEMPTS: '1',
    CMS_TIMEOUT_MS: '10000',
    QUERY_CACHE_SECONDS: '0',
    ...overrides,
  };
  const lines: LogLine[] = [];
  let now = Date.now();
  const handler = createQueryHandler(env, {
    credentials: staticCredentials({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }),
    log: recordingLog(lines),
    now: () => now,
    ...deps,
  });
  // The routes the stack declares, so paths and methods outside them meet API Gateway's own 404.
  const server = await startApiServer({ handler, routes: STATS_ROUTE_KEYS });
  closers.push(() => server.close());
  return {
    url: server.url,
    lines,
    advance: (ms) => {
      now += ms;
    },
    get: (query = '', path = PATH) => fetch(`${server.url}${path}${query}`),
    post: (body, headers = { 'content-type': 'application/json' }, path = PATH) =>
      fetch(`${server.url}${path}`, { method: 'POST', body, headers }),
  };
}

interface ErrorJson {
  error: { code: string; message: string; field?: string; cmsResultCode?: string };
}

async function errorOf(response: Response): Promise<ErrorJson['error']> {
  const body = (await response.json()) as ErrorJson;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

interface StatsJson {
  ccId: number;
  vdn: number;
  fetchedAt: string;
  skills: Array<{
    skillId: number;
    windowStart: string;
    counters: Record<string, number>;
    kpis: Record<string, number | null>;
    queue: Record<string, number> | null;
  }>;
  missingSkillIds: number[];
  rollup: {
    windowStart: string | null;
    skillCount: number;
    counters: Record<string, number>;
    queue: Record<string, number> | null;
  };
}

/** The newest request to one of CMS's interfaces. */
const servedBy = (endpoint: SimEndpoint) =>
  simulator.requests.findLast((request) => request.endpoint === endpoint);

/**
 * CMS reads since the `before`-th request: each read is one call per interface (the counters and the live
 * queue), which the cache and the sharing of calls cover alike.
 */
function requestsSince(before: number): number {
  const since = simulator.requests.slice(before);
  const counters = since.filter((request) => request.endpoint === 'currentcallstateinfo').length;
  expect(since.filter((request) => request.endpoint === 'totalskillstatusex3')).toHaveLength(counters);
  return counters;
}

describe('200 answers', () => {
  it('answers a GET with the statistics CMS served', async () => {
    const api = await startApi();
    const response = await api.get('?skillIds=1-3,8');
    expect(response.status).toBe(200);
    const body = (await response.json()) as StatsJson;
    const served = servedBy('currentcallstateinfo');
    expect(served?.skillIds).toEqual([1, 2, 3, 8]);
    expect(body).toMatchObject({ ccId: 1, vdn: 170, missingSkillIds: [8] });
    expect(body.skills.map((skill) => skill.skillId)).toEqual([1, 2, 3]);
    for (const skill of body.skills) {
      const record = simulator.statsAt(1, 170, skill.skillId, served?.at ?? 0);
      expect(skill.counters.CallsOffered).toBe(record?.allCallCount);
      expect(skill.counters.WrapUpTime).toBe(record?.clearUpTime);
      expect(skill.windowStart).toBe(new Date(record?.startTime ?? 0).toISOString());
    }
    expect(body.rollup.skillCount).toBe(3);
    expect(body.rollup.counters.CallsOffered).toBe(
      body.skills.reduce((sum, skill) => sum + (skill.counters.CallsOffered ?? 0), 0),
    );
  });

  it('answers each skill’s live queue as CMS served it, and the VDN’s calls waiting and longest wait', async () => {
    const api = await startApi();
    const body = (await (await api.get('?skillIds=1-8')).json()) as StatsJson;
    const served = servedBy('totalskillstatusex3');
    expect(served?.skillIds).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const records = body.skills.map((skill) => simulator.queueAt(1, 170, skill.skillId, served?.at ?? 0));
    expect(body.skills.map((skill) => skill.queue)).toEqual(
      records.map((record) => ({
        callsWaiting: record?.queueSize,
        longestWaitSeconds: record?.queueTime,
        agentsLoggedOn: record?.loggedOnAgents,
        agentsAvailable: record?.availAgents,
      })),
    );
    expect(body.rollup.queue).toEqual({
      callsWaiting: records.reduce((sum, record) => sum + (record?.queueSize ?? 0), 0),
      longestWaitSeconds: Math.max(...records.map((record) => record?.queueTime ?? 0)),
    });
  });

  it('answers the counters with queue null, and says why once, when CMS lacks the live queue (0100003)', async () => {
    const old = await startCmsSimulator({
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      absentSkillIds: [8],
      liveQueue: 'wrongCtiVersion',
    });
    closers.push(() => old.close());
    const oldCa = join(world.directory, 'old-ca.pem');
    writeFileSync(oldCa, old.caCertificate);
    const api = await startApi({ CMS_BASE_URL: old.url, CMS_CA_FILE: oldCa });
    for (let read = 0; read < 3; read += 1) {
      const response = await api.get('?skillIds=1-3');
      expect(response.status).toBe(200);
      const body = (await response.json()) as StatsJson;
      const at = old.requests.findLast((request) => request.endpoint === 'currentcallstateinfo')?.at ?? 0;
      expect(body.skills.map((skill) => [skill.counters.CallsOffered, skill.queue])).toEqual(
        [1, 2, 3].map((skillId) => [old.statsAt(1, 170, skillId, at)?.allCallCount, null]),
      );
      expect(body.rollup.queue).toBeNull();
    }
    const warnings = api.lines.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/^live queue not available: CMS result code 0100003/);
    expect(old.requests.filter((request) => request.endpoint === 'totalskillstatusex3')).toHaveLength(1);
    expect(api.lines.filter((line) => line.level === 'info').map((line) => line.fields.liveQueue)).toEqual([
      'unsupported',
      'unsupported',
      'unsupported',
    ]);
  });

  it('answers the counters with queue null when the live queue fails, and logs why with the request', async () => {
    const api = await startApi();
    simulator.inject({ kind: 'status', status: 503 }, { endpoint: 'totalskillstatusex3' });
    const response = await api.get('?skillIds=1-3');
    expect(response.status).toBe(200);
    const body = (await response.json()) as StatsJson;
    expect(body.skills.map((skill) => skill.queue)).toEqual([null, null, null]);
    expect(body.rollup.queue).toBeNull();
    expect(api.lines.at(-1)?.fields).toMatchObject({ status: 200, liveQueue: 'failed: CMS_HTTP_ERROR' });
    // The next read asks again.
    expect(((await (await api.get('?skillIds=1-3')).json()) as StatsJson).rollup.queue).not.toBeNull();
  });

  it('says when the statistics were fetched', async () => {
    const api = await startApi();
    const body = (await (await api.get('?skillIds=1')).json()) as StatsJson;
    expect(new Date(body.fetchedAt).toISOString()).toBe(body.fetchedAt);
  });

  it('forbids any client or proxy to store an answer', async () => {
    const api = await startApi();
    const response = await api.get('?skillIds=1');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('answers a POST of the CMS request body', async () => {
    const api = await startApi();
    const response = await api.post(
      '{"ccId":1,"vdn":171,"skillIds":[21,20]}',
      { 'content-type': 'application/json;charset=UTF-8' },
      statsPath(1, 171),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as StatsJson;
    expect(body).toMatchObject({ ccId: 1, vdn: 171 });
    expect(body.skills.map((skill) => skill.skillId)).toEqual([20, 21]);
    expect(simulator.requests.at(-1)).toMatchObject({ ccId: 1, vdn: 171, skillIds: [20, 21] });
  });

  it('answers a base64-encoded POST body', async () => {
    const handler = createQueryHandler(
      { CMS_BASE_URL: simulator.url, CMS_CA_FILE: caFile, CMS_TARGETS: JSON.stringify(TARGETS) },
      {
        credentials: staticCredentials({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }),
        log: recordingLog([]),
      },
    );
    // API Gateway may hand any body over base64-encoded; the handler decodes it before reading the JSON.
    const event = httpApiEvent({
      method: 'POST',
      target: PATH,
      headers: [['content-type', 'application/json']],
    });
    event.body = Buffer.from('{"skillIds":[2]}').toString('base64');
    event.isBase64Encoded = true;
    const response = await handler(event, lambdaContext('r', Date.now() + 29_000));
    expect(response.statusCode).toBe(200);
    expect((JSON.parse(response.body ?? '') as StatsJson).skills.map((skill) => skill.skillId)).toEqual([2]);
  });

  it('answers the configured skills of the VDN in the path when the caller names none', async () => {
    const api = await startApi();
    const body = (await (await api.get()).json()) as StatsJson;
    expect(body).toMatchObject({ ccId: 1, vdn: 170, missingSkillIds: [8] });
    expect(simulator.requests.at(-1)?.skillIds).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('answers the configured skills of the VDN a POST names in its path', async () => {
    const api = await startApi();
    const body = (await (await api.post('{}', undefined, statsPath(1, 171))).json()) as StatsJson;
    expect(body).toMatchObject({ ccId: 1, vdn: 171 });
    expect(body.skills.map((skill) => skill.skillId)).toEqual([20, 21, 22]);
  });

  it('answers skills of a configured VDN beyond those the collector watches', async () => {
    const api = await startApi();
    const response = await api.get('?skillIds=4000');
    expect(response.status).toBe(200);
    expect(simulator.requests.at(-1)?.skillIds).toEqual([4000]);
  });
});

describe('400 answers', () => {
  it.each([
    ['?skillIds=abc', 'skillIds'],
    ['?skillIds=0', 'skillIds'],
    ['?skillIds=1-5001', 'skillIds'],
    ['?skillIds=', 'skillIds'],
    ['?ccId=1', 'ccId'],
    ['?vdn=170', 'vdn'],
    ['?skills=1-3', 'skills'],
  ])('refuses GET %s, naming %s', async (query, field) => {
    const api = await startApi();
    const before = simulator.requests.length;
    const response = await api.get(query);
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', field });
    expect(error.message).toContain(field);
    expect(requestsSince(before)).toBe(0);
  });

  it.each([
    ['{"skillIds":[1,', 'body'],
    ['[1,2]', 'body'],
    ['', 'body'],
    ['{"ccId":"1"}', 'ccId'],
    ['{"vdn":170.5}', 'vdn'],
    ['{"vdn":171,"skillIds":[1]}', 'vdn'],
    ['{"ccId":2,"skillIds":[1]}', 'ccId'],
    ['{"skillIds":[1,2,70000]}', 'skillIds[2]'],
    ['{"skillIds":{"0":1}}', 'skillIds'],
    ['{"skillIds":[1],"priority":"high"}', 'priority'],
  ])('refuses POST %s, naming %s', async (body, field) => {
    const api = await startApi();
    const response = await api.post(body);
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ code: 'VALIDATION_ERROR', field });
  });

  it.each([
    ['/call-centers/x/vdns/170/skills/current-stats', 'ccId'],
    ['/call-centers/1/vdns/99999/skills/current-stats', 'vdn'],
    ['/call-centers/1/vdns/0170/skills/current-stats', 'vdn'],
  ])('refuses the path %s, naming %s', async (path, field) => {
    const api = await startApi();
    const response = await api.get('', path);
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ code: 'VALIDATION_ERROR', field });
  });

  it('applies QUERY_MAX_SKILLS to the configured skills a query without skillIds asks for', async () => {
    const api = await startApi({ QUERY_MAX_SKILLS: '5' });
    const before = simulator.requests.length;
    const response = await api.get();
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ code: 'VALIDATION_ERROR', field: 'skillIds' });
    expect(requestsSince(before)).toBe(0);
  });

  it('refuses more skills than QUERY_MAX_SKILLS', async () => {
    const api = await startApi({ QUERY_MAX_SKILLS: '10' });
    const response = await api.get('?skillIds=1-11');
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.field).toBe('skillIds');
    expect(error.message).toContain('at most 10');
  });

  it('refuses a body that is not JSON by its content type', async () => {
    const api = await startApi();
    const response = await api.post('{"vdn":170}', { 'content-type': 'text/plain' });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).field).toBe('content-type');
  });

  it('refuses query parameters on a POST', async () => {
    const api = await startApi();
    const response = await fetch(`${api.url}${PATH}?vdn=170`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).field).toBe('vdn');
  });
});

describe('403, 404 and 405 answers', () => {
  it.each([statsPath(1, 999), statsPath(2, 170), statsPath(2, 171)])(
    'forbids a VDN this deployment does not serve (%s)',
    async (path) => {
      const api = await startApi();
      const before = simulator.requests.length;
      const response = await api.get('', path);
      expect(response.status).toBe(403);
      expect((await errorOf(response)).code).toBe('FORBIDDEN');
      expect(requestsSince(before)).toBe(0);
    },
  );

  it.each([
    ['GET', '/skills/current-stats'],
    ['GET', '/call-centers/1/vdns/170/skills/history'],
    ['DELETE', PATH],
    ['PUT', PATH],
  ])("leaves %s %s, which no route has, to API Gateway's own 404", async (method, path) => {
    const api = await startApi();
    const response = await fetch(`${api.url}${path}`, { method });
    expect(response.status).toBe(404);
    expect(api.lines).toEqual([]);
  });

  it('answers an invocation for an unknown path 404, and another method 405 with the allowed ones', async () => {
    const handler = createQueryHandler(
      { CMS_BASE_URL: simulator.url, CMS_CA_FILE: caFile, CMS_TARGETS: JSON.stringify(TARGETS) },
      {
        credentials: staticCredentials({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }),
        log: recordingLog([]),
      },
    );
    const context = lambdaContext('r', Date.now() + 29_000);
    const unknown = await handler(httpApiEvent({ method: 'GET', target: '/skills/history' }), context);
    expect(unknown.statusCode).toBe(404);
    expect(JSON.parse(unknown.body ?? '').error.code).toBe('NOT_FOUND');
    expect(unknown.headers?.['Cache-Control']).toBe('no-store');
    const deleted = await handler(httpApiEvent({ method: 'DELETE', target: PATH }), context);
    expect(deleted.statusCode).toBe(405);
    expect(deleted.headers?.Allow).toBe('GET, POST');
  });
});

describe('502 and 504 answers', () => {
  it('answers 502 CMS_IP_LOCKED when CMS has locked this IP, and says what to do', async () => {
    const locked = await startCmsSimulator({
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      lockAfterRefusals: 1,
    });
    closers.push(() => locked.close());
    const lockedCa = join(world.directory, 'locked-ca.pem');
    writeFileSync(lockedCa, locked.caCertificate);
    const wrongKey = await startApi(
      { CMS_BASE_URL: locked.url, CMS_CA_FILE: lockedCa },
      { credentials: staticCredentials({ accessKey: ACCESS_KEY, secretKey: 'not-the-key' }) },
    );
    expect((await wrongKey.get('?skillIds=1')).status).toBe(502);
    const api = await startApi({ CMS_BASE_URL: locked.url, CMS_CA_FILE: lockedCa });
    const response = await api.get('?skillIds=1');
    expect(response.status).toBe(502);
    const error = await errorOf(response);
    expect(error.code).toBe('CMS_IP_LOCKED');
    expect(error.message).toMatch(/locked this deployment's IP address/);
    // What to do is the operator's to read, in the log line of the request.
    expect(api.lines.at(-1)?.fields.error).toMatchObject({
      message: expect.stringMatching(/probe tells which/),
    });
    // The wrong key: refused, then its next layout meets the lock and stops; the right key: the lock, once. The
    // lock met by either call of a read stops the other.
    expect(locked.requests.map((request) => request.status)).toEqual([401, 403, 403]);
  });

  it('passes on the result code of a CMS failure', async () => {
    const api = await startApi();
    simulator.inject({ kind: 'resultCode', code: '0100001', desc: 'parameter error' });
    const response = await api.get('?skillIds=1');
    expect(response.status).toBe(502);
    const error = await errorOf(response);
    expect(error).toMatchObject({ code: 'CMS_RESULT_ERROR', cmsResultCode: '0100001' });
    expect(error.message).toContain('result code 0100001');
    // CMS's own text is upstream detail: for the log, not for the caller.
    expect(error.message).not.toContain('parameter error');
  });

  it.each([
    [{ kind: 'status', status: 503 } as const, 'CMS_HTTP_ERROR'],
    [{ kind: 'status', status: 500 } as const, 'CMS_HTTP_ERROR'],
    // Under `auto`, a 401 before any acceptance sends the search through every layout, which pauses signing.
    [{ kind: 'unauthorized' } as const, 'CMS_SIGNING_PAUSED'],
    [{ kind: 'malformedJson' } as const, 'CMS_PROTOCOL_ERROR'],
    [{ kind: 'dropConnection' } as const, 'CMS_NETWORK_ERROR'],
  ])('answers 502 when CMS fails with %j', async (fault, code) => {
    const api = await startApi();
    simulator.inject(fault);
    const response = await api.get('?skillIds=1');
    expect(response.status).toBe(502);
    expect((await errorOf(response)).code).toBe(code);
  });

  it('answers 504 when CMS answers after the per-request timeout', async () => {
    const api = await startApi({ CMS_TIMEOUT_MS: '200' });
    simulator.inject({ kind: 'latency', ms: 1_500 });
    const response = await api.get('?skillIds=1');
    expect(response.status).toBe(504);
    expect((await errorOf(response)).code).toBe('CMS_TIMEOUT');
  });

  it('answers 504 when the query timeout passes before CMS answers', async () => {
    const api = await startApi({ QUERY_TIMEOUT_MS: '200', CMS_MAX_ATTEMPTS: '3' });
    simulator.inject({ kind: 'latency', ms: 1_500 }, { times: 3 });
    const response = await api.get('?skillIds=1');
    expect(response.status).toBe(504);
  });

  it('answers 504 when Lambda has too little time left to ask CMS', async () => {
    const handler = createQueryHandler(
      { CMS_BASE_URL: simulator.url, CMS_CA_FILE: caFile, CMS_TARGETS: JSON.stringify(TARGETS) },
      {
        credentials: staticCredentials({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }),
        log: recordingLog([]),
      },
    );
    simulator.inject({ kind: 'latency', ms: 1_500 });
    // 1.3 s left, less the safety margin, leaves about 300 ms for CMS.
    const response = await handler(httpApiEvent({ method: 'GET', target: `${PATH}?skillIds=1` }), {
      getRemainingTimeInMillis: () => 1_300,
    });
    expect(response.statusCode).toBe(504);
  });

  it('answers 502 with a generic message when the credentials cannot be loaded', async () => {
    const api = await startApi(
      {},
      {
        credentials: {
          current: () =>
            Promise.reject(new SecretError('secret prod/cms-credentials: field "secretKey" is missing')),
          refresh: () => Promise.reject(new SecretError('unreachable')),
        },
      },
    );
    const response = await api.get('?skillIds=1');
    expect(response.status).toBe(502);
    const error = await errorOf(response);
    expect(error.code).toBe('CMS_CREDENTIALS_UNAVAILABLE');
    expect(error.message).not.toContain('prod/cms-credentials');
    expect(JSON.stringify(api.lines)).toContain('prod/cms-credentials');
  });
});

describe('sharing CMS calls', () => {
  it('lets concurrent identical queries share one CMS request', async () => {
    const api = await startApi({ QUERY_CACHE_SECONDS: '0' });
    // Long enough for every request to arrive while the first one's CMS call is still under way.
    simulator.inject({ kind: 'latency', ms: 1_000 });
    const before = simulator.requests.length;
    const responses = await Promise.all([
      api.get('?skillIds=1-3'),
      api.get('?skillIds=3,2,1'),
      api.post('{"ccId":1,"vdn":170,"skillIds":[2,3,1]}'),
      api.get('?skillIds=2,1-3'),
      api.get('?skillIds=1,2,3'),
    ]);
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    expect(requestsSince(before)).toBe(1);
    const bodies = await Promise.all(responses.map((response) => response.text()));
    expect(new Set(bodies).size).toBe(1);
    const sources = api.lines.map((line) => line.fields.cache).sort();
    expect(sources).toEqual(['coalesced', 'coalesced', 'coalesced', 'coalesced', 'miss']);
  });

  it('asks CMS separately for different skills', async () => {
    const api = await startApi({ QUERY_CACHE_SECONDS: '5' });
    const before = simulator.requests.length;
    await Promise.all([api.get('?skillIds=1'), api.get('?skillIds=2')]);
    expect(requestsSince(before)).toBe(2);
  });

  it('answers a repeated query from the cache within QUERY_CACHE_SECONDS', async () => {
    const api = await startApi({ QUERY_CACHE_SECONDS: '5' });
    const before = simulator.requests.length;
    const first = await (await api.get('?skillIds=4')).text();
    api.advance(4_900);
    const second = await (await api.get('?skillIds=4')).text();
    expect(requestsSince(before)).toBe(1);
    expect(second).toBe(first);
    expect(api.lines.map((line) => line.fields.cache)).toEqual(['miss', 'hit']);
  });

  it('asks CMS again once QUERY_CACHE_SECONDS have passed', async () => {
    const api = await startApi({ QUERY_CACHE_SECONDS: '5' });
    const before = simulator.requests.length;
    await api.get('?skillIds=4');
    api.advance(5_000);
    await api.get('?skillIds=4');
    expect(requestsSince(before)).toBe(2);
  });

  it('does not cache when QUERY_CACHE_SECONDS is 0', async () => {
    const api = await startApi({ QUERY_CACHE_SECONDS: '0' });
    const before = simulator.requests.length;
    await api.get('?skillIds=4');
    await api.get('?skillIds=4');
    expect(requestsSince(before)).toBe(2);
  });

  it('does not cache failures', async () => {
    const api = await startApi({ QUERY_CACHE_SECONDS: '5' });
    simulator.inject({ kind: 'status', status: 503 });
    const before = simulator.requests.length;
    expect((await api.get('?skillIds=5')).status).toBe(502);
    expect((await api.get('?skillIds=5')).status).toBe(200);
    expect(requestsSince(before)).toBe(2);
  });
});

describe('logging and configuration', () => {
  it('logs one structured line per request', async () => {
    const api = await startApi();
    await api.get('?skillIds=1');
    await api.get('', statsPath(1, 999));
    expect(api.lines).toHaveLength(2);
    expect(api.lines[0]).toMatchObject({
      level: 'info',
      message: 'query request',
      fields: { method: 'GET', path: PATH, status: 200, ccId: 1, vdn: 170, skills: '1', cache: 'miss' },
    });
    expect(api.lines[0]?.fields.durationMs).toEqual(expect.any(Number));
    expect(api.lines[1]).toMatchObject({
      level: 'info',
      fields: { status: 403, error: { code: 'FORBIDDEN' } },
    });
  });

  it('logs CMS failures as errors', async () => {
    const api = await startApi();
    simulator.inject({ kind: 'status', status: 500 });
    await api.get('?skillIds=1');
    expect(api.lines[0]).toMatchObject({
      level: 'error',
      fields: { status: 502, error: { code: 'CMS_HTTP_ERROR' } },
    });
  });

  it.each([
    [{ QUERY_MAX_SKILLS: '0' }, 'QUERY_MAX_SKILLS'],
    [{ QUERY_MAX_SKILLS: '5001' }, 'QUERY_MAX_SKILLS'],
    [{ QUERY_CACHE_SECONDS: 'soon' }, 'QUERY_CACHE_SECONDS'],
    [{ QUERY_TIMEOUT_MS: '10' }, 'QUERY_TIMEOUT_MS'],
    [{ CMS_TARGETS: '' }, 'CC_ID'],
    [{ CMS_BASE_URL: 'http://127.0.0.1' }, 'CMS_BASE_URL'],
  ])('refuses to start with %j', (overrides, variable) => {
    const env = {
      CMS_BASE_URL: simulator.url,
      CMS_TARGETS: JSON.stringify(TARGETS),
      CMS_SECRET_ID: 's',
      ...overrides,
    };
    let thrown: unknown;
    try {
      createQueryHandler(env, { log: recordingLog([]) });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
  });
});
