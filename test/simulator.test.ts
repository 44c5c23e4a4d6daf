import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request } from 'node:https';
import { connect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  SIGNATURE_LAYOUT_NAMES,
  SIGNATURE_LAYOUTS,
  type SignatureLayoutName,
  signRequest,
} from '../lib/cms/sign.js';
import { WINDOW_MS } from '../lib/model.js';
import { type ReceivedRequest, verifySignature } from '../local/simulator/auth.js';
import {
  type CmsSimulator,
  type CmsSimulatorOptions,
  ENDPOINT_PATH,
  QUEUE_ENDPOINT_PATH,
  startCmsSimulator,
} from '../local/simulator/index.js';

// Two and a half minutes into a window, so every busy skill has taken calls.
const WINDOW_START = Date.UTC(2025, 5, 2, 9, 5);
const START = WINDOW_START + 150_000;
const ACCESS_KEY = 'sim-access-key';
const SECRET_KEY = 'sim-secret-key';
/** The simulator's default layout. */
const LAYOUT = SIGNATURE_LAYOUTS['huawei-reference'];

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** False when the connection ended before the whole body arrived. */
  readonly complete: boolean;
  readonly localPort: number | undefined;
}

interface CallOptions {
  readonly body?: string;
  readonly method?: string;
  readonly path?: string;
  readonly accessKey?: string;
  readonly secretKey?: string;
  /** When the request is signed (defaults to the simulator's clock). */
  readonly signedAt?: number;
  /** Replaces or adds headers after signing. */
  readonly headers?: Record<string, string>;
  readonly unsigned?: boolean;
  readonly agent?: Agent;
  readonly layout?: SignatureLayoutName;
}

function query(body: { ccId?: unknown; vdn?: unknown; skillIds?: unknown }): string {
  return JSON.stringify(body);
}

describe('C2 signature check', () => {
  const credentials = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };
  const body = query({ ccId: 1, vdn: 170, skillIds: [1, 2] });
  const url = new URL(`https://127.0.0.1:28443${ENDPOINT_PATH}`);

  function received(overrides: Record<string, string | undefined> = {}, signedAt = START): ReceivedRequest {
    const signed = signRequest({ ...credentials, url, body, at: new Date(signedAt), layout: LAYOUT });
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(signed)) headers[name.toLowerCase()] = value;
    return { method: 'POST', target: ENDPOINT_PATH, headers: { ...headers, ...overrides }, body };
  }

  it('accepts a request signed with the configured pair', () => {
    expect(verifySignature(received(), credentials, START, 60_000, LAYOUT)).toEqual({
      ok: true,
      accessKey: ACCESS_KEY,
    });
  });

  it.each([
    ['missingAuthorization', received({ authorization: undefined })],
    ['malformedAuthorization', received({ authorization: 'Bearer token' })],
    [
      'unexpectedSignedHeaders',
      received({
        authorization: (received().headers.authorization as string).replace(
          '/content-length;content-type;host/',
          '/content-type;host/',
        ),
      }),
    ],
    ['missingSignedHeader', received({ 'content-type': undefined })],
    ['badSignature', received({ host: '127.0.0.1:28444' })],
  ])('names the cause %s', (reason, request) => {
    expect(verifySignature(request, credentials, START, 60_000, LAYOUT)).toMatchObject({ ok: false, reason });
  });

  it('names a timestamp in the form the layout does not use', () => {
    const withMillis = SIGNATURE_LAYOUTS['huawei-reference-millis'];
    const signed = signRequest({ ...credentials, url, body, at: new Date(START), layout: withMillis });
    const headers = Object.fromEntries(
      Object.entries(signed).map(([name, value]) => [name.toLowerCase(), value]),
    );
    const request = { method: 'POST', target: ENDPOINT_PATH, headers, body };
    expect(verifySignature(request, credentials, START, 60_000, withMillis)).toMatchObject({ ok: true });
    expect(verifySignature(request, credentials, START, 60_000, LAYOUT)).toMatchObject({
      ok: false,
      reason: 'timestampForm',
    });
  });

  it('names an unknown access key', () => {
    expect(
      verifySignature(received(), { accessKey: 'other', secretKey: SECRET_KEY }, START, 60_000, LAYOUT),
    ).toMatchObject({ ok: false, reason: 'unknownAccessKey', accessKey: ACCESS_KEY });
  });

  it('names a timestamp outside the allowed skew, either way', () => {
    expect(verifySignature(received({}, START - 61_000), credentials, START, 60_000, LAYOUT)).toMatchObject({
      reason: 'clockSkew',
    });
    expect(verifySignature(received({}, START + 61_000), credentials, START, 60_000, LAYOUT)).toMatchObject({
      reason: 'clockSkew',
    });
  });

  it('signs over the query string too', () => {
    expect(
      verifySignature({ ...received(), target: `${ENDPOINT_PATH}?x=1` }, credentials, START, 60_000, LAYOUT),
    ).toMatchObject({ ok: false, reason: 'badSignature' });
  });
});

describe('CMS simulator', () => {
  let clock = START;
  let sim: CmsSimulator;
  const extraSimulators: CmsSimulator[] = [];

  async function startExtra(options: CmsSimulatorOptions): Promise<CmsSimulator> {
    const extra = await startCmsSimulator({ now: () => clock, ...options });
    extraSimulators.push(extra);
    return extra;
  }

  function call(target: CmsSimulator, options: CallOptions = {}): Promise<Reply> {
    const body = options.body ?? query({ ccId: 1, vdn: 170, skillIds: [1, 2] });
    const url = new URL(options.path ?? ENDPOINT_PATH, target.url);
    const signed = signRequest({
      accessKey: options.accessKey ?? ACCESS_KEY,
      secretKey: options.secretKey ?? SECRET_KEY,
      url,
      body,
      at: new Date(options.signedAt ?? clock),
      layout: SIGNATURE_LAYOUTS[options.layout ?? 'huawei-reference'],
    });
    if (options.unsigned) delete signed.Authorization;
    const headers = { ...signed, ...options.headers };
    return new Promise((resolve, reject) => {
      const outgoing = request(
        url,
        {
          method: options.method ?? 'POST',
          headers,
          ca: [target.caCertificate],
          agent: options.agent ?? false,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', () => undefined);
          response.on('close', () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              text: Buffer.concat(chunks).toString('utf8'),
              complete: response.complete,
              localPort: response.socket?.localPort,
            }),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(options.method === 'GET' ? undefined : body);
    });
  }

  /** Writes raw HTTP on a TLS connection and collects everything until the server closes it. */
  function rawExchange(target: CmsSimulator, text: string): Promise<string> {
    const { hostname, port } = new URL(target.url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port), ca: [target.caCertificate] }, () => {
        socket.write(text);
      });
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
  }

  function json(reply: Reply): Record<string, unknown> {
    return JSON.parse(reply.text) as Record<string, unknown>;
  }

  beforeAll(async () => {
    sim = await startCmsSimulator({ now: () => clock, absentSkillIds: [404] });
  });

  afterEach(async () => {
    clock = START;
    sim.clearFaults();
    sim.setCredentials(ACCESS_KEY, SECRET_KEY);
    await Promise.all(extraSimulators.splice(0).map((extra) => extra.close()));
  });

  afterAll(async () => {
    await sim.close();
  });

  describe('answering a valid request', () => {
    it('serves each skill’s counters exactly as statsAt gives them for the same moment', async () => {
      const skills = [...Array(20).keys()].map((index) => index + 1);
      const reply = await call(sim, { body: query({ ccId: 1, vdn: 170, skillIds: skills }) });
      expect(reply.status).toBe(200);
      const expected = skills.map((skillId) => sim.statsAt(1, 170, skillId, START));
      expect(json(reply)).toEqual({
        result: '0',
        resultCode: '0100000',
        resultDatas: expected,
        resultDesc: expected,
      });
      expect(expected.some((stats) => (stats?.allCallCount ?? 0) > 0)).toBe(true);
    });

    it('stamps the statistics with the start of the current 5-minute window', async () => {
      const reply = await call(sim);
      const [first] = json(reply).resultDesc as { startTime: number }[];
      expect(first?.startTime).toBe(WINDOW_START);
    });

    it('lists skills in the order requested, once each, leaving out absent ones', async () => {
      const reply = await call(sim, { body: query({ ccId: 1, vdn: 170, skillIds: [9, 3, 404, 9, 3, 5] }) });
      const ids = (json(reply).resultDesc as { id: number }[]).map((stats) => stats.id);
      expect(ids).toEqual([9, 3, 5]);
      expect(sim.statsAt(1, 170, 404, START)).toBeUndefined();
    });

    it('answers with an empty list when every requested skill is absent', async () => {
      const reply = await call(sim, { body: query({ ccId: 1, vdn: 170, skillIds: [404] }) });
      expect(json(reply)).toMatchObject({ resultCode: '0100000', resultDesc: [], resultDatas: [] });
    });

    it('lets counters grow within a window and restart in the next', async () => {
      const skills = [...Array(20).keys()].map((index) => index + 1);
      const body = query({ ccId: 1, vdn: 170, skillIds: skills });
      const offered = async (at: number) => {
        clock = at;
        const records = json(await call(sim, { body })).resultDesc as { allCallCount: number }[];
        return records.map((stats) => stats.allCallCount);
      };
      const early = await offered(WINDOW_START + 10_000);
      const late = await offered(WINDOW_START + 290_000);
      const nextWindow = await offered(WINDOW_START + WINDOW_MS + 10_000);
      early.forEach((count, index) => {
        expect(count).toBeLessThanOrEqual(late[index] ?? Number.NaN);
      });
      expect(late.reduce((a, b) => a + b)).toBeGreaterThan(early.reduce((a, b) => a + b));
      expect(nextWindow.reduce((a, b) => a + b)).toBeLessThan(late.reduce((a, b) => a + b));
    });

    it('accepts the largest request: 1,000 skills with every id at its upper bound', async () => {
      const skills = [...Array(1_000).keys()].map((index) => 5_000 - index);
      const reply = await call(sim, { body: query({ ccId: 65_535, vdn: 5_000, skillIds: skills }) });
      expect(json(reply).resultCode).toBe('0100000');
      expect(json(reply).resultDesc).toHaveLength(1_000);
    });

    it('sends only resultDesc when configured like a CMS that dropped the old field', async () => {
      const modern = await startExtra({ responseFields: 'resultDesc' });
      const body = json(await call(modern));
      expect(body.resultDesc).toHaveLength(2);
      expect(body).not.toHaveProperty('resultDatas');
    });

    it('sends only resultDatas when configured like CMS 8.13 and earlier', async () => {
      const legacy = await startExtra({ responseFields: 'resultDatas' });
      const body = json(await call(legacy));
      expect(body.resultDatas).toHaveLength(2);
      expect(body).not.toHaveProperty('resultDesc');
    });

    it('serves other traffic under another seed', async () => {
      const other = await startExtra({ seed: 99 });
      const skills = [...Array(20).keys()].map((index) => index + 1);
      const body = query({ ccId: 1, vdn: 170, skillIds: skills });
      expect(json(await call(other, { body })).resultDesc).not.toEqual(
        json(await call(sim, { body })).resultDesc,
      );
    });

    it('keeps the connection open for the next request', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await call(sim, { agent });
        const second = await call(sim, { agent });
        expect(first.headers.connection).not.toBe('close');
        expect(second.status).toBe(200);
        expect(second.localPort).toBe(first.localPort);
      } finally {
        agent.destroy();
      }
    });

    it('records every request it receives, in order', async () => {
      const before = sim.requests.length;
      await call(sim, { body: query({ ccId: 2, vdn: 7, skillIds: [4, 4] }) });
      await call(sim, { path: '/elsewhere' });
      expect(sim.requests.slice(before)).toEqual([
        {
          at: START,
          endpoint: 'currentcallstateinfo',
          accessKey: ACCESS_KEY,
          ccId: 2,
          vdn: 7,
          skillIds: [4, 4],
          status: 200,
          resultCode: '0100000',
          fault: undefined,
        },
        {
          at: START,
          endpoint: undefined,
          accessKey: ACCESS_KEY,
          ccId: undefined,
          vdn: undefined,
          skillIds: [],
          status: 404,
          resultCode: undefined,
          fault: undefined,
        },
      ]);
    });

    it('keeps only the newest records when the log is bounded', async () => {
      const bounded = await startExtra({ maxRecordedRequests: 2 });
      for (const vdn of [1, 2, 3]) await call(bounded, { body: query({ ccId: 1, vdn, skillIds: [1] }) });
      expect(bounded.requests.map((record) => record.vdn)).toEqual([2, 3]);
    });
  });

  describe('authentication', () => {
    function lastRecord() {
      return sim.requests.at(-1);
    }

    it('refuses a request without an Authorization header', async () => {
      expect((await call(sim, { unsigned: true })).status).toBe(401);
    });

    it('refuses an Authorization header that is not a C2 signature', async () => {
      expect((await call(sim, { headers: { Authorization: 'Basic c2ltOnNpbQ==' } })).status).toBe(401);
    });

    it('refuses an unknown access key', async () => {
      expect((await call(sim, { accessKey: 'someone-else' })).status).toBe(401);
      expect(lastRecord()).toMatchObject({ accessKey: 'someone-else', status: 401 });
    });

    it('refuses a signature made with the wrong secret key', async () => {
      expect((await call(sim, { secretKey: 'not-the-secret' })).status).toBe(401);
    });

    it('refuses a body changed after signing', async () => {
      const signedBody = query({ ccId: 1, vdn: 170, skillIds: [1, 2] });
      const url = new URL(ENDPOINT_PATH, sim.url);
      const headers = signRequest({
        accessKey: ACCESS_KEY,
        secretKey: SECRET_KEY,
        url,
        body: signedBody,
        at: new Date(clock),
        layout: LAYOUT,
      });
      const tampered = query({ ccId: 1, vdn: 170, skillIds: [1, 3] });
      expect(tampered.length).toBe(signedBody.length);
      const reply = await call(sim, {
        body: tampered,
        headers: { Authorization: headers.Authorization ?? '' },
      });
      expect(reply.status).toBe(401);
    });

    it('refuses a signature over a different Host than the one sent', async () => {
      const reply = await call(sim, { headers: { Host: `localhost:${new URL(sim.url).port}` } });
      expect(reply.status).toBe(401);
    });

    it('refuses signed headers other than content-length;content-type;host', async () => {
      const signed = signRequest({
        accessKey: ACCESS_KEY,
        secretKey: SECRET_KEY,
        url: new URL(ENDPOINT_PATH, sim.url),
        body: query({ ccId: 1, vdn: 170, skillIds: [1, 2] }),
        at: new Date(clock),
        layout: LAYOUT,
      });
      const narrowed = (signed.Authorization ?? '').replace('/content-length;content-type;host/', '/host/');
      expect((await call(sim, { headers: { Authorization: narrowed } })).status).toBe(401);
    });

    it('refuses a timestamp more than 15 minutes behind its clock', async () => {
      expect((await call(sim, { signedAt: clock - 15 * 60_000 - 1_000 })).status).toBe(401);
    });

    it('refuses a timestamp more than 15 minutes ahead of its clock', async () => {
      expect((await call(sim, { signedAt: clock + 15 * 60_000 + 1_000 })).status).toBe(401);
    });

    it('accepts a timestamp that is off by less than the allowed skew', async () => {
      expect((await call(sim, { signedAt: clock - 14 * 60_000 })).status).toBe(200);
    });

    it('applies a configured skew allowance', async () => {
      const strict = await startExtra({ maxClockSkewMs: 1_000 });
      expect((await call(strict, { signedAt: clock - 2_000 })).status).toBe(401);
      expect((await call(strict, { signedAt: clock - 500 })).status).toBe(200);
    });

    it('accepts its configured key pair', async () => {
      const custom = await startExtra({ accessKey: 'ak-2', secretKey: 'sk-2' });
      expect((await call(custom, { accessKey: 'ak-2', secretKey: 'sk-2' })).status).toBe(200);
      expect((await call(custom)).status).toBe(401);
    });

    it.each(SIGNATURE_LAYOUT_NAMES)('accepts exactly one layout when configured for %s', async (layout) => {
      const strict = await startExtra({ signatureLayout: layout });
      const statuses = await Promise.all(
        SIGNATURE_LAYOUT_NAMES.map(async (signedIn) => [
          signedIn,
          (await call(strict, { layout: signedIn })).status,
        ]),
      );
      expect(Object.fromEntries(statuses)).toEqual(
        Object.fromEntries(SIGNATURE_LAYOUT_NAMES.map((name) => [name, name === layout ? 200 : 401])),
      );
    });

    it('locks the caller out with HTTP 403 after the configured number of refused signatures', async () => {
      const locking = await startExtra({ lockAfterRefusals: 2 });
      expect((await call(locking, { secretKey: 'wrong' })).status).toBe(401);
      expect((await call(locking)).status).toBe(200);
      expect((await call(locking, { secretKey: 'wrong' })).status).toBe(401);
      const locked = await call(locking);
      expect(locked.status).toBe(403);
      expect(json(locked)).toMatchObject({ status: 403, error: 'Forbidden' });
      expect(locking.refusedSignatures).toBe(2);
    });

    it('serves again once unlocked', async () => {
      const locking = await startExtra({ lockAfterRefusals: 1 });
      await call(locking, { secretKey: 'wrong' });
      expect((await call(locking)).status).toBe(403);
      locking.unlock();
      expect((await call(locking)).status).toBe(200);
    });

    it('counts a refusal it delivers late, cut, as a reset or with a huge body, as CMS does', async () => {
      const hostile = await startExtra({});
      const refused = () => call(hostile, { secretKey: 'wrong' });
      hostile.deliverRefusals({ kind: 'late', ms: 100 });
      const started = Date.now();
      expect((await refused()).status).toBe(401);
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      hostile.deliverRefusals({ kind: 'cut' });
      expect(await refused()).toMatchObject({ status: 401, complete: false });
      hostile.deliverRefusals({ kind: 'reset' });
      await expect(refused()).rejects.toThrow();
      hostile.deliverRefusals({ kind: 'huge', bytes: 200_000 });
      expect((await refused()).text).toHaveLength(200_000);
      expect(hostile.refusedSignatures).toBe(4);
      expect(hostile.requests.map((request) => request.status)).toEqual([401, 401, 401, 401]);
    });

    it('counts its own spurious 401 as a refused signature', async () => {
      const spurious = await startExtra({});
      spurious.inject({ kind: 'unauthorized' });
      expect((await call(spurious)).status).toBe(401);
      expect(spurious.refusedSignatures).toBe(1);
    });

    it('tells its own clock in the Date header', async () => {
      clock = Date.UTC(2031, 0, 2, 3, 4, 5);
      const reply = await call(sim, { signedAt: clock });
      expect(reply.headers.date).toBe('Thu, 02 Jan 2031 03:04:05 GMT');
    });

    it('accepts only the new key pair after a rotation', async () => {
      sim.setCredentials('rotated-ak', 'rotated-sk');
      expect((await call(sim)).status).toBe(401);
      expect((await call(sim, { accessKey: 'rotated-ak', secretKey: 'rotated-sk' })).status).toBe(200);
    });

    it('keeps the secret key and the Authorization value out of its answer and its log', async () => {
      const reply = await call(sim, { secretKey: 'wrong-secret' });
      expect(reply.status).toBe(401);
      const everything = `${reply.text}${JSON.stringify(reply.headers)}${JSON.stringify(sim.requests)}`;
      expect(everything).not.toContain(SECRET_KEY);
      expect(everything).not.toContain('wrong-secret');
      expect(everything).not.toContain('auth-v2');
    });
  });

  describe('validating the body', () => {
    const invalid: [string, string, string][] = [
      ['text that is not JSON', '{ccId:1}', 'body'],
      ['a JSON array', '[1,2]', 'body'],
      ['a missing ccId', query({ vdn: 1, skillIds: [1] }), 'ccId'],
      ['ccId 0', query({ ccId: 0, vdn: 1, skillIds: [1] }), 'ccId'],
      ['ccId 65536', query({ ccId: 65_536, vdn: 1, skillIds: [1] }), 'ccId'],
      ['ccId as a string', query({ ccId: '1', vdn: 1, skillIds: [1] }), 'ccId'],
      ['a fractional ccId', query({ ccId: 1.5, vdn: 1, skillIds: [1] }), 'ccId'],
      ['a missing vdn', query({ ccId: 1, skillIds: [1] }), 'vdn'],
      ['vdn 0', query({ ccId: 1, vdn: 0, skillIds: [1] }), 'vdn'],
      ['vdn 5001', query({ ccId: 1, vdn: 5_001, skillIds: [1] }), 'vdn'],
      ['missing skillIds', query({ ccId: 1, vdn: 1 }), 'skillIds'],
      ['skillIds that is not an array', query({ ccId: 1, vdn: 1, skillIds: 1 }), 'skillIds'],
      ['empty skillIds', query({ ccId: 1, vdn: 1, skillIds: [] }), 'skillIds'],
      [
        '1,001 skill ids',
        query({ ccId: 1, vdn: 1, skillIds: [...Array(1_001).keys()].map((i) => i + 1) }),
        'skillIds',
      ],
      ['skill id 0', query({ ccId: 1, vdn: 1, skillIds: [1, 0] }), 'skillIds[1]'],
      ['skill id 5001', query({ ccId: 1, vdn: 1, skillIds: [5_001] }), 'skillIds[0]'],
      ['a skill id as a string', query({ ccId: 1, vdn: 1, skillIds: [1, 2, '3'] }), 'skillIds[2]'],
    ];

    it.each(invalid)('answers result code 0100002 naming the field for %s', async (_, body, field) => {
      const reply = await call(sim, { body });
      expect(reply.status).toBe(200);
      const answer = json(reply);
      expect(answer).toMatchObject({ result: '1', resultCode: '0100002' });
      expect(String(answer.resultDesc).startsWith(`${field} `)).toBe(true);
      expect(sim.requests.at(-1)).toMatchObject({ status: 200, resultCode: '0100002' });
    });

    it('accepts the smallest ids allowed', async () => {
      const reply = await call(sim, { body: query({ ccId: 1, vdn: 1, skillIds: [1] }) });
      expect(json(reply).resultCode).toBe('0100000');
    });
  });

  describe('routing', () => {
    it('answers 405 to a method other than POST', async () => {
      const reply = await call(sim, { method: 'GET' });
      expect(reply.status).toBe(405);
      expect(reply.headers.allow).toBe('POST');
    });

    it('answers 404 to another path', async () => {
      expect((await call(sim, { path: '/rest/cmsapp/v1/openapi/skill/other' })).status).toBe(404);
    });

    it('answers 413 to a body over 1 MiB and keeps the connection usable', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const body = JSON.stringify({ ccId: 1, vdn: 1, skillIds: [1], filler: 'x'.repeat(1024 * 1024) });
        const reply = await call(sim, { body, agent });
        expect(reply.status).toBe(413);
        expect(sim.requests.at(-1)).toMatchObject({ status: 413 });
        const next = await call(sim, { agent });
        expect(next.status).toBe(200);
        expect(next.localPort).toBe(reply.localPort);
      } finally {
        agent.destroy();
      }
    });

    it('answers 413 without reading a body declared far over the limit', async () => {
      const reply = await rawExchange(
        sim,
        `POST ${ENDPOINT_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n{`,
      );
      expect(reply).toMatch(/^HTTP\/1\.1 413 /);
      expect(reply).toMatch(/\r\nconnection: close\r\n/i);
    });
  });

  describe('fault injection', () => {
    const body = query({ ccId: 1, vdn: 170, skillIds: [1, 2, 3] });

    async function normalText(): Promise<string> {
      return (await call(sim, { body })).text;
    }

    it('delays the answer by the injected latency, then answers normally', async () => {
      sim.inject({ kind: 'latency', ms: 300 });
      const started = performance.now();
      const reply = await call(sim, { body });
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);
      expect(reply.text).toBe(await normalText());
      expect(sim.requests.at(-2)).toMatchObject({ status: 200, resultCode: '0100000', fault: 'latency' });
    });

    it('answers the injected HTTP status with a small body', async () => {
      sim.inject({ kind: 'status', status: 503 });
      const reply = await call(sim, { body });
      expect(reply.status).toBe(503);
      expect(reply.text.length).toBeLessThan(200);
      expect(sim.requests.at(-1)).toMatchObject({ status: 503, fault: 'status' });
    });

    it('answers 401 to an otherwise valid request', async () => {
      sim.inject({ kind: 'unauthorized' });
      expect((await call(sim, { body })).status).toBe(401);
      expect(sim.requests.at(-1)).toMatchObject({ status: 401, fault: 'unauthorized' });
    });

    it('answers HTTP 200 with a body that is not JSON', async () => {
      sim.inject({ kind: 'malformedJson' });
      const reply = await call(sim, { body });
      expect(reply.status).toBe(200);
      expect(() => JSON.parse(reply.text)).toThrow(SyntaxError);
    });

    it('answers a JSON body cut in the middle, with a Content-Length that matches what is sent', async () => {
      sim.inject({ kind: 'truncatedJson' });
      const reply = await call(sim, { body });
      const full = await normalText();
      expect(reply.status).toBe(200);
      expect(reply.complete).toBe(true);
      expect(Number(reply.headers['content-length'])).toBe(Buffer.byteLength(reply.text));
      expect(reply.text.length).toBeLessThan(full.length);
      expect(full.startsWith(reply.text)).toBe(true);
      expect(() => JSON.parse(reply.text)).toThrow(SyntaxError);
    });

    it('answers a failure result code with the injected text', async () => {
      sim.inject({ kind: 'resultCode', code: '0100099', desc: 'system busy' });
      const reply = await call(sim, { body });
      expect(reply.status).toBe(200);
      expect(json(reply)).toEqual({ result: '1', resultCode: '0100099', resultDesc: 'system busy' });
      expect(sim.requests.at(-1)).toMatchObject({ resultCode: '0100099', fault: 'resultCode' });
    });

    it('answers a failure result code with a generic text when none is given', async () => {
      sim.inject({ kind: 'resultCode', code: '0100002' });
      const answer = json(await call(sim, { body }));
      expect(answer.resultCode).toBe('0100002');
      expect(typeof answer.resultDesc).toBe('string');
    });

    it('drops the connection without any response', async () => {
      sim.inject({ kind: 'dropConnection' });
      await expect(call(sim, { body })).rejects.toMatchObject({ code: 'ECONNRESET' });
      expect(sim.requests.at(-1)).toMatchObject({ status: 0, fault: 'dropConnection' });
    });

    it('sends the headers and part of the body, then resets the connection', async () => {
      sim.inject({ kind: 'resetMidResponse' });
      const reply = await call(sim, { body });
      expect(reply.status).toBe(200);
      expect(reply.complete).toBe(false);
      expect(reply.text.length).toBeGreaterThan(0);
      expect(Buffer.byteLength(reply.text)).toBeLessThan(Number(reply.headers['content-length']));
    });

    it('serves a counter of the first skill as a string and another as an object', async () => {
      sim.inject({ kind: 'wrongTypes' });
      const reply = await call(sim, { body });
      const [first, ...rest] = json(reply).resultDesc as Record<string, unknown>[];
      expect(typeof first?.allCallCount).toBe('string');
      expect(Number.isNaN(Number(first?.allCallCount))).toBe(true);
      expect(typeof first?.cnnedCallCount).toBe('object');
      expect(rest).toEqual((JSON.parse(await normalText()) as { resultDesc: unknown[] }).resultDesc.slice(1));
    });

    it('pads a valid success to the requested size', async () => {
      sim.inject({ kind: 'hugeResponse', bytes: 2_000_000 });
      const reply = await call(sim, { body });
      expect(Buffer.byteLength(reply.text)).toBe(2_000_000);
      const normal = JSON.parse(await normalText()) as Record<string, unknown>;
      expect(json(reply)).toMatchObject(normal);
    });

    it('hits one request by default', async () => {
      sim.inject({ kind: 'status', status: 500 });
      expect((await call(sim, { body })).status).toBe(500);
      expect((await call(sim, { body })).status).toBe(200);
    });

    it('hits as many requests as `times` says', async () => {
      sim.inject({ kind: 'status', status: 502 }, { times: 2 });
      const statuses = [];
      for (let attempt = 0; attempt < 3; attempt += 1) statuses.push((await call(sim, { body })).status);
      expect(statuses).toEqual([502, 502, 200]);
    });

    it('hits every request when `times` is Infinity, until cleared', async () => {
      sim.inject({ kind: 'status', status: 503 }, { times: Number.POSITIVE_INFINITY });
      for (let attempt = 0; attempt < 4; attempt += 1) expect((await call(sim, { body })).status).toBe(503);
      sim.clearFaults();
      expect((await call(sim, { body })).status).toBe(200);
    });

    it('hits only the requests `when` selects, leaving the others untouched', async () => {
      sim.inject({ kind: 'status', status: 503 }, { when: (request) => request.vdn === 2 });
      const other = await call(sim, { body: query({ ccId: 1, vdn: 1, skillIds: [1] }) });
      const selected = await call(sim, { body: query({ ccId: 1, vdn: 2, skillIds: [1] }) });
      const afterwards = await call(sim, { body: query({ ccId: 1, vdn: 2, skillIds: [1] }) });
      expect([other.status, selected.status, afterwards.status]).toEqual([200, 503, 200]);
    });

    it('hands `when` the parsed request', async () => {
      const seen: unknown[] = [];
      sim.inject({ kind: 'status', status: 500 }, { when: (request) => seen.push(request) > 0 });
      await call(sim, { body: query({ ccId: 3, vdn: 4, skillIds: [5, 6] }) });
      expect(seen).toEqual([{ ccId: 3, vdn: 4, skillIds: [5, 6] }]);
    });

    it('applies faults in injection order, one per request', async () => {
      sim.inject({ kind: 'status', status: 500 });
      sim.inject({ kind: 'status', status: 503 });
      const statuses = [];
      for (let attempt = 0; attempt < 3; attempt += 1) statuses.push((await call(sim, { body })).status);
      expect(statuses).toEqual([500, 503, 200]);
    });

    it('spares requests that fail authentication or validation', async () => {
      sim.inject({ kind: 'status', status: 500 });
      expect((await call(sim, { body, secretKey: 'wrong' })).status).toBe(401);
      expect(json(await call(sim, { body: query({ ccId: 0, vdn: 1, skillIds: [1] }) })).resultCode).toBe(
        '0100002',
      );
      expect((await call(sim, { body })).status).toBe(500);
    });

    it('refuses faults it could not act out', () => {
      expect(() => sim.inject({ kind: 'status', status: 99 })).toThrow(RangeError);
      expect(() => sim.inject({ kind: 'latency', ms: -1 })).toThrow(RangeError);
      expect(() => sim.inject({ kind: 'hugeResponse', bytes: 0 })).toThrow(RangeError);
      expect(() => sim.inject({ kind: 'unauthorized' }, { times: 0 })).toThrow(RangeError);
    });
  });

  describe('the live queue (totalskillstatusex3)', () => {
    const body = query({ ccId: 1, vdn: 170, skillIds: [3, 404, 1, 3] });

    it('serves each skill’s queue exactly as queueAt gives it, in the order asked, absent skills left out', async () => {
      const reply = await call(sim, { path: QUEUE_ENDPOINT_PATH, body });
      expect(reply.status).toBe(200);
      const expected = [3, 1].map((skillId) => sim.queueAt(1, 170, skillId, START));
      expect(json(reply)).toEqual({
        result: '0',
        resultCode: '0100000',
        resultDatas: expected,
        resultDesc: expected,
      });
      expect(sim.requests.at(-1)).toMatchObject({ endpoint: 'totalskillstatusex3', status: 200 });
    });

    it('checks the signature and the body as for the counters', async () => {
      expect((await call(sim, { path: QUEUE_ENDPOINT_PATH, body, secretKey: 'wrong' })).status).toBe(401);
      const invalid = await call(sim, { path: QUEUE_ENDPOINT_PATH, body: query({ ccId: 1, vdn: 0 }) });
      expect(json(invalid).resultCode).toBe('0100002');
    });

    it.each([
      ['wrongCtiVersion', '0100003'],
      ['noPermission', '0101003'],
    ] as const)('answers as a CMS without it (%s: %s), counters untouched', async (liveQueue, code) => {
      const old = await startExtra({ liveQueue });
      expect(json(await call(old, { path: QUEUE_ENDPOINT_PATH, body }))).toMatchObject({
        result: '1',
        resultCode: code,
      });
      expect(json(await call(old, { body })).resultCode).toBe('0100000');
    });

    it('answers 404 for the path on a CMS that does not know it', async () => {
      const old = await startExtra({ liveQueue: 'notFound' });
      expect((await call(old, { path: QUEUE_ENDPOINT_PATH, body })).status).toBe(404);
      expect((await call(old, { body })).status).toBe(200);
    });

    it('applies a fault to the interface it was injected for only', async () => {
      sim.inject({ kind: 'status', status: 503 }, { endpoint: 'totalskillstatusex3' });
      expect((await call(sim, { body })).status).toBe(200);
      expect((await call(sim, { path: QUEUE_ENDPOINT_PATH, body })).status).toBe(503);
      sim.inject({ kind: 'wrongTypes' }, { endpoint: 'totalskillstatusex3' });
      const [first] = json(await call(sim, { path: QUEUE_ENDPOINT_PATH, body })).resultDesc as object[];
      expect(first).toMatchObject({ queueSize: 'n/a', queueTime: { value: expect.any(Number) } });
    });

    it('refuses a fault meant for the other interface’s items', () => {
      expect(() => sim.inject({ kind: 'startTime', value: 0 }, { endpoint: 'totalskillstatusex3' })).toThrow(
        RangeError,
      );
      expect(() => sim.inject({ kind: 'skillDescrip', value: 'x' })).toThrow(RangeError);
    });
  });
});
